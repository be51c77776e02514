/**
 * A stack that declares a voice connector group and its phone numbers together, deployed by the local
 * CloudFormation driver through both real bundled handlers against the local Chime SDK Voice emulator:
 * created, updated (rename, voice connectors, numbers added and removed) and destroyed, with the
 * emulator's state checked after every step. Nothing here reaches AWS.
 */
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { VoiceConnectorGroup, VoiceConnectorItem } from '../../src';
import { BINDING_RESOURCE_TYPE } from '../../src/binding-properties';
import { GROUP_RESOURCE_TYPE } from '../../src/voice-connector-group-properties';
import { Emulator, startEmulator } from '../../tools/emulator';
import { fromStack, LIBRARY_HANDLERS, LocalDeployDriver, OperationResult } from '../../tools/local-deploy';
import { emulatorEnv } from '../support/account';
import { HandlerContainers } from '../support/handler-containers';

const STACK_NAME = 'Telephony';

interface NumberSet {
  readonly id: string;
  readonly numbers: readonly string[];
  readonly removalPolicy?: RemovalPolicy;
}

interface Declared {
  readonly name: string;
  readonly voiceConnectors: readonly VoiceConnectorItem[];
  readonly numbers: readonly NumberSet[];
}

/** A fresh app per deploy, as every `cdk deploy` is a new process: one group and its number sets. */
function synth(declared: Declared) {
  const app = new App();
  const stack = new Stack(app, STACK_NAME);
  const group = new VoiceConnectorGroup(stack, 'Group', { name: declared.name, voiceConnectors: [...declared.voiceConnectors] });
  const logicalIds: Record<string, string> = { Group: stack.getLogicalId(group.node.findChild('Resource').node.defaultChild as any) };
  for (const set of declared.numbers) group.addPhoneNumbers(set.id, [...set.numbers], { removalPolicy: set.removalPolicy });
  return { template: fromStack(stack), logicalIds };
}

/** The binding resources' events of a result. */
const bindingEvents = (result: OperationResult) => result.events.filter((e) => e.resourceType === BINDING_RESOURCE_TYPE);

const num = (i: number) => `+1206555${String(100 + i).padStart(4, '0')}`;

let emu: Emulator;
let containers: HandlerContainers;
let driver: LocalDeployDriver;
let vc: [string, string, string];
let foreignGroup: string;
let foreignNumber: string;
const pool = Array.from({ length: 6 }, (_, i) => num(i));

beforeAll(async () => {
  emu = await startEmulator({ seed: 3 });
});
afterAll(async () => emu.close());

beforeEach(() => {
  emu.control.reset();
  emu.control.seedNumbers([...pool, num(50)]);
  vc = [0, 1, 2].map((i) => emu.control.createVoiceConnector({ name: `vc-${i}` }).VoiceConnectorId) as [string, string, string];
  foreignGroup = emu.control.createGroup({ name: 'someone-elses' }).VoiceConnectorGroupId;
  foreignNumber = num(50);
  emu.control.bind(foreignNumber, 'VoiceConnectorGroupId', foreignGroup);
  containers = new HandlerContainers();
  driver = new LocalDeployDriver({
    handlers: Object.fromEntries(Object.entries(LIBRARY_HANDLERS).map(([type, asset]) => [type, containers.handlerFor(asset as string)])),
    env: emulatorEnv(emu),
  });
});
afterEach(async () => {
  await containers.shutdown();
  await driver.close();
});

test('a group the same event created before (a retried call, a repeated event) is found by its name, not created twice', async () => {
  const { template } = synth({ name: 'support', voiceConnectors: [], numbers: [] });
  const result = await driver.deploy(template, { duplicateDelivery: true });
  ok(result, 'CREATE_COMPLETE');
  expect(ourGroups()).toHaveLength(1);
  expect(emu.control.getCalls({ operation: 'CreateVoiceConnectorGroup' })).toHaveLength(1);
});

test('a group of the same name made long ago is someone else\'s: Create fails, naming it, and creates nothing', async () => {
  const old = emu.control.createGroup({ name: 'support', createdAt: new Date(Date.now() - 2 * 3600_000) }).VoiceConnectorGroupId;
  const result = await driver.deploy(synth({ name: 'support', voiceConnectors: [], numbers: [] }).template);
  expect(result.status).toBe('ROLLBACK_COMPLETE');
  expect(result.failure).toContain(`A voice connector group named "support" already exists (${old}`);
  expect(ourGroups().map((g) => g.id)).toEqual([old]);
});

function ok(result: OperationResult, status: string): void {
  expect(result.failure).toBeUndefined();
  expect(result.status).toBe(status);
}

/** Our groups in the emulator (the foreign one left out), as name + items. */
function ourGroups() {
  return emu.control.snapshot().groups
    .filter((g) => g.VoiceConnectorGroupId !== foreignGroup)
    .map((g) => ({ id: g.VoiceConnectorGroupId, name: g.Name, items: g.VoiceConnectorItems }));
}

/** Every number's binding: `group` for the group's id, `foreign` for the untouched foreign binding, `null` unbound. */
function bindings(groupId: string): Record<string, string | null> {
  return Object.fromEntries(Object.entries(emu.control.getBindings()).map(([n, b]) => [
    n, b === null ? null : b.value === groupId ? 'group' : b.value === foreignGroup ? 'foreign' : `${b.name}=${b.value}`,
  ]));
}

function expected(bound: readonly string[]): Record<string, string | null> {
  return { ...Object.fromEntries(pool.map((n) => [n, bound.includes(n) ? 'group' : null])), [foreignNumber]: 'foreign' };
}

const operations = () => emu.control.getCalls().map((c) => c.operation);

test('create, update (rename, voice connectors, numbers added and removed) and destroy a group with its numbers', async () => {
  const [n0, n1, n2, n3, n4] = pool;

  // Create: the group first, then its numbers on the new group's id.
  let declared: Declared = { name: 'support', voiceConnectors: [{ voiceConnectorId: vc[0], priority: 1 }], numbers: [{ id: 'Main', numbers: [n0, n1] }] };
  let { template, logicalIds } = synth(declared);
  emu.control.clearCalls();
  let result = await driver.deploy(template);
  ok(result, 'CREATE_COMPLETE');
  const groupId = result.resources[logicalIds.Group].physicalResourceId;
  expect(result.resources[logicalIds.Group].data).toEqual({
    VoiceConnectorGroupId: groupId, VoiceConnectorGroupArn: `arn:aws:chime:us-east-1:123456789012:vcg/${groupId}`,
  });
  expect(ourGroups()).toEqual([{ id: groupId, name: 'support', items: [{ VoiceConnectorId: vc[0], Priority: 1 }] }]);
  expect(bindings(groupId)).toEqual(expected([n0, n1]));
  const created = result.events.filter((e) => e.requestType === 'Create').map((e) => e.logicalResourceId);
  for (const shard of bindingEvents(result).map((e) => e.logicalResourceId)) {
    expect(created.indexOf(logicalIds.Group)).toBeLessThan(created.indexOf(shard));
  }

  // Update: rename, new voice connectors and priorities, one number swapped, a second number set added.
  declared = {
    name: 'support v2.0',
    voiceConnectors: [{ voiceConnectorId: vc[0], priority: 2 }, { voiceConnectorId: vc[1], priority: 1 }],
    numbers: [{ id: 'Main', numbers: [n1, n2] }, { id: 'Overflow', numbers: [n3, n4] }],
  };
  ({ template, logicalIds } = synth(declared));
  emu.control.clearCalls();
  result = await driver.deploy(template);
  ok(result, 'UPDATE_COMPLETE');
  expect(result.resources[logicalIds.Group].physicalResourceId).toBe(groupId);
  expect(ourGroups()).toEqual([{
    id: groupId, name: 'support v2.0', items: [{ VoiceConnectorId: vc[0], Priority: 2 }, { VoiceConnectorId: vc[1], Priority: 1 }],
  }]);
  expect(bindings(groupId)).toEqual(expected([n1, n2, n3, n4]));
  expect(operations().filter((o) => o.includes('VoiceConnectorGroup') && !o.includes('PhoneNumbers'))).toEqual(['GetVoiceConnectorGroup', 'UpdateVoiceConnectorGroup']);

  // Update: the second set goes away and one voice connector is dropped; its numbers are unbound.
  declared = { ...declared, voiceConnectors: [{ voiceConnectorId: vc[1], priority: 1 }], numbers: [{ id: 'Main', numbers: [n1, n2] }] };
  ({ template, logicalIds } = synth(declared));
  result = await driver.deploy(template);
  ok(result, 'UPDATE_COMPLETE');
  expect(ourGroups()).toEqual([{ id: groupId, name: 'support v2.0', items: [{ VoiceConnectorId: vc[1], Priority: 1 }] }]);
  expect(bindings(groupId)).toEqual(expected([n1, n2]));

  // A deploy with nothing changed sends no event at all; one that changes only the numbers leaves the group unwritten.
  ({ template, logicalIds } = synth({ ...declared, numbers: [{ id: 'Main', numbers: [n1, n2, n0] }] }));
  emu.control.clearCalls();
  ok(await driver.deploy(template), 'UPDATE_COMPLETE');
  expect(operations().some((o) => o === 'UpdateVoiceConnectorGroup' || o === 'GetVoiceConnectorGroup')).toBe(false);
  expect(bindings(groupId)).toEqual(expected([n0, n1, n2]));

  // Destroy: the numbers are unbound first (their resources depend on the group), then the group's voice
  // connectors are removed (as the API reference asks) and the group is deleted.
  emu.control.clearCalls();
  result = await driver.destroy(STACK_NAME);
  ok(result, 'DELETE_COMPLETE');
  const deletes = result.events.filter((e) => e.requestType === 'Delete').map((e) => e.logicalResourceId);
  expect(deletes[deletes.length - 1]).toBe(logicalIds.Group);
  const calls = operations();
  expect(calls.lastIndexOf('DisassociatePhoneNumbersFromVoiceConnectorGroup')).toBeLessThan(calls.indexOf('DeleteVoiceConnectorGroup'));
  expect(calls.indexOf('UpdateVoiceConnectorGroup')).toBeLessThan(calls.indexOf('DeleteVoiceConnectorGroup'));
  expect(emu.control.getCalls({ operation: 'DeleteVoiceConnectorGroup' }).map((c) => c.status)).toEqual([204]);
  expect(ourGroups()).toEqual([]);
  expect(bindings(groupId)).toEqual(expected([]));
});

test('a group already deleted outside CloudFormation is tolerated on destroy, also when every Delete is delivered twice', async () => {
  const { template, logicalIds } = synth({ name: 'gone', voiceConnectors: [], numbers: [{ id: 'Main', numbers: pool.slice(0, 2) }] });
  const created = await driver.deploy(template);
  ok(created, 'CREATE_COMPLETE');
  const groupId = created.resources[logicalIds.Group].physicalResourceId;
  emu.control.deleteGroup(groupId);

  emu.control.clearCalls();
  const result = await driver.destroy(STACK_NAME, { duplicateDelivery: true });
  ok(result, 'DELETE_COMPLETE');
  expect(result.events.every((e) => e.ok)).toBe(true);
  expect(result.events.filter((e) => e.logicalResourceId === logicalIds.Group).map((e) => e.requestType)).toEqual(['Delete', 'Delete']);
  // Each delivery finds the group gone (its read answers NotFound) and succeeds.
  expect(emu.control.getCalls({ operation: 'GetVoiceConnectorGroup' }).map((c) => c.errorType)).toEqual(['NotFoundException', 'NotFoundException']);
  expect(ourGroups()).toEqual([]);
  expect(bindings(groupId)).toEqual(expected([]));
});

test('a number bound to the group outside the stack blocks its deletion with a message saying what to do; destroy succeeds once it is unbound', async () => {
  const [n0, n1, byHand] = pool;
  const { template, logicalIds } = synth({ name: 'shared', voiceConnectors: [], numbers: [{ id: 'Main', numbers: [n0, n1] }] });
  const created = await driver.deploy(template);
  ok(created, 'CREATE_COMPLETE');
  const groupId = created.resources[logicalIds.Group].physicalResourceId;
  emu.control.bind(byHand, 'VoiceConnectorGroupId', groupId);

  let result = await driver.destroy(STACK_NAME);
  expect(result.status).toBe('DELETE_FAILED');
  expect(result.failure).toContain(`${logicalIds.Group}: Voice connector group ${groupId} still has phone numbers bound to it`);
  void logicalIds;
  expect(result.failure).toContain('disassociate-phone-numbers-from-voice-connector-group');
  // The stack's own numbers were unbound; the one bound by hand is not the stack's to take.
  expect(bindings(groupId)).toEqual(expected([byHand]));
  expect(ourGroups().map((g) => g.id)).toEqual([groupId]);

  emu.control.unbind(byHand);
  result = await driver.destroy(STACK_NAME);
  ok(result, 'DELETE_COMPLETE');
  expect(ourGroups()).toEqual([]);
});

test('a retained group with retained numbers: destroy sends the group no event and unbinds nothing; the group keeps its numbers', async () => {
  const app = new App();
  const stack = new Stack(app, STACK_NAME);
  const group = new VoiceConnectorGroup(stack, 'Group', { name: 'production', removalPolicy: RemovalPolicy.RETAIN });
  group.addPhoneNumbers('Main', pool.slice(0, 2), { removalPolicy: RemovalPolicy.RETAIN });
  const created = await driver.deploy(fromStack(stack));
  ok(created, 'CREATE_COMPLETE');
  const groupId = Object.values(created.resources).find((r) => r.resourceType === GROUP_RESOURCE_TYPE)!.physicalResourceId;

  emu.control.clearCalls();
  const result = await driver.destroy(STACK_NAME);
  ok(result, 'DELETE_COMPLETE');
  expect(result.events.filter((e) => e.resourceType === GROUP_RESOURCE_TYPE)).toEqual([]);
  // The binding resources are deleted, and leave their retained numbers bound.
  expect(operations().filter((o) => o.startsWith('Associate') || o.startsWith('Disassociate'))).toEqual([]);
  expect(ourGroups().map((g) => g.id)).toEqual([groupId]);
  expect(bindings(groupId)).toEqual(expected(pool.slice(0, 2)));
});
