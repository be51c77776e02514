/**
 * Refactors of the stack code keep every number the stack still declares bound, in every order
 * CloudFormation may run the binding resources in (parallel included): a number's owner is the binding
 * resource of its shard, whatever construct declares it. Each refactor is followed by a deploy that fails
 * elsewhere, whose rollback must leave the numbers exactly as they were.
 */
import { App, CfnParameter, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Decl, ownerOf, World } from './support';
import { VoiceConnectorGroupPhoneNumbers } from '../../src';
import { fromStack, Order } from '../../tools/local-deploy';
import { phone } from '../support/account';

jest.setTimeout(60_000);

let world: World;
beforeAll(async () => {
  world = await World.start({ seed: 9 });
});
afterAll(async () => world.close());

const ORDERS: readonly Order[] = ['topological', 'reverse', 'parallel'];

/** Deploys `before`, then `after`: the numbers `after` declares stay bound throughout, and only `written` numbers get calls. */
async function refactor(before: readonly Decl[], after: readonly Decl[], order: Order, expectWritten: readonly string[] = []): Promise<void> {
  const first = await world.deploy(before, { order });
  expect(first.failure).toBeUndefined();
  const result = await world.deploy(after, { order });
  expect(result.failure).toBeUndefined();
  expect([...world.writtenNumbers()].sort()).toEqual([...expectWritten].sort());
}

describe.each(ORDERS)('order %s', (order) => {
  test('renaming a construct: nothing is replaced, no call is made', async () => {
    const { groups: { a }, pool } = await world.reset();
    const numbers = pool.slice(0, 6);
    await refactor([{ id: 'Support', group: a, numbers }], [{ id: 'Helpdesk', group: a, numbers }], order);
    world.expectState({ [a]: numbers });
  });

  test('moving a construct under another parent: no call', async () => {
    const { groups: { a }, pool } = await world.reset();
    const numbers = pool.slice(0, 6);
    await refactor([{ id: 'Support', group: a, numbers }], [{ id: 'Support', parent: 'Telephony/Team', group: a, numbers }], order);
    world.expectState({ [a]: numbers });
  });

  test('moving numbers between constructs, and deleting a construct whose numbers all move: no call for them', async () => {
    const { groups: { a }, pool } = await world.reset();
    await refactor([
      { id: 'Support', group: a, numbers: pool.slice(0, 4) },
      { id: 'Sales', group: a, numbers: pool.slice(4, 8) },
    ], [
      { id: 'Everything', group: a, numbers: pool.slice(0, 8) },
    ], order);
    world.expectState({ [a]: pool.slice(0, 8) });
  });

  test('a number moved to a construct on another group of the stack is moved in one change, without forceAssociate', async () => {
    const { groups: { a, b }, pool } = await world.reset();
    await refactor([
      { id: 'Support', group: a, numbers: pool.slice(0, 6) },
    ], [
      { id: 'Support', group: a, numbers: pool.slice(0, 3) },
      { id: 'Sales', group: b, numbers: pool.slice(3, 6) },
    ], order, pool.slice(3, 6));
    world.expectState({ [a]: pool.slice(0, 3), [b]: pool.slice(3, 6) });
    // One association per moving shard, forced (the numbers are the stack's own), and no disassociation.
    const writes = world.calls.filter((c) => c.operation.startsWith('Associate') || c.operation.startsWith('Disassociate'));
    expect(writes.every((c) => c.operation === 'AssociatePhoneNumbersWithVoiceConnectorGroup' && c.groupId === b)).toBe(true);
  });

  test('changing a construct\'s group while a sibling takes some of its numbers on the old group', async () => {
    const { groups: { a, b }, pool } = await world.reset();
    await refactor([
      { id: 'Support', group: a, numbers: pool.slice(0, 6) },
    ], [
      { id: 'Support', group: b, numbers: pool.slice(0, 3) },
      { id: 'Stays', group: a, numbers: pool.slice(3, 6) },
    ], order, pool.slice(0, 3));
    world.expectState({ [b]: pool.slice(0, 3), [a]: pool.slice(3, 6) });
  });
});

describe('a group named literally in one construct and through a token in another is one group', () => {
  test.each(ORDERS)('moving numbers between them makes no call (%s)', async (order) => {
    const { groups: { a }, pool } = await world.reset();
    const deployWith = (literal: readonly string[], viaToken: readonly string[]) => {
      const app = new App();
      const stack = new Stack(app, 'Telephony');
      const group = new CfnParameter(stack, 'GroupId', { type: 'String', default: a });
      if (literal.length > 0) new VoiceConnectorGroupPhoneNumbers(stack, 'Literal', { voiceConnectorGroupId: a, phoneNumbers: [...literal] });
      if (viaToken.length > 0) new VoiceConnectorGroupPhoneNumbers(stack, 'Token', { voiceConnectorGroupId: group.valueAsString, phoneNumbers: [...viaToken] });
      world.emu.control.clearCalls();
      return world.driver.deploy(fromStack(stack), { order });
    };
    expect((await deployWith(pool.slice(0, 6), [])).failure).toBeUndefined();
    const moved = await deployWith(pool.slice(0, 2), pool.slice(2, 6));
    expect(moved.failure).toBeUndefined();
    expect(world.writtenNumbers()).toEqual(new Set());
    const back = await deployWith(pool.slice(0, 6), []);
    expect(back.failure).toBeUndefined();
    expect(world.writtenNumbers()).toEqual(new Set());
    world.expectState({ [a]: pool.slice(0, 6) });
  });
});

describe('refactors in a deploy that fails elsewhere are rolled back exactly', () => {
  test.each(ORDERS)('rename, move between groups and between constructs, then a failure (%s)', async (order) => {
    const { groups: { a, b }, pool, notInInventory } = await world.reset();
    const before: Decl[] = [
      { id: 'Support', group: a, numbers: pool.slice(0, 6) },
      { id: 'Sales', group: b, numbers: pool.slice(6, 10) },
    ];
    await world.deploy(before, { order });
    const taken = new Set(pool.slice(0, 10).map(ownerOf));
    const failing = [notInInventory, phone(998), phone(997), phone(996), phone(995)].find((n) => !taken.has(ownerOf(n)))!;

    const result = await world.deploy([
      { id: 'Helpdesk', group: b, numbers: pool.slice(0, 3) },
      { id: 'Sales', group: a, numbers: [...pool.slice(3, 6), ...pool.slice(6, 8)] },
      { id: 'Broken', group: a, numbers: [failing] },
    ], { order });

    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    world.expectState({ [a]: pool.slice(0, 6), [b]: pool.slice(6, 10) });
  });

  test('with CloudFormation cancelling the shards still in flight when the failure comes (their waiters go on)', async () => {
    const { groups: { a, b }, pool, onOtherGroup } = await world.reset();
    await world.deploy([{ id: 'Support', group: a, numbers: pool.slice(0, 12) }], { order: 'parallel' });
    // The failing shard is refused after one read; the others still have writes to make.
    const busy = new Set(pool.slice(0, 20).map(ownerOf));
    expect(busy.has(ownerOf(onOtherGroup))).toBe(false);
    world.emu.control.setFaults({ latencyMs: 100 });

    const result = await world.deploy([
      { id: 'Support', group: b, numbers: pool.slice(0, 12) },
      { id: 'New', group: a, numbers: pool.slice(12, 20) },
      { id: 'Broken', group: a, numbers: [onOtherGroup] },
    ], { order: 'parallel', inFlightOnFailure: 'cancel', queryIntervalMs: 5 });

    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    // CloudFormation gave up on new shards mid-Create: their Deletes carry ids it made up.
    expect(result.events.some((e) => e.requestType === 'Delete' && !String(e.physicalResourceId).startsWith('vcgpn2/'))).toBe(true);
    world.emu.control.setFaults({});
    world.expectState({ [a]: pool.slice(0, 12) });
  });
});

describe('a number moving between two stacks (README, Limits)', () => {
  const stackWith = (name: string, group: string, numbers: readonly string[], retain: readonly string[] = []) => {
    const stack = new Stack(new App(), name);
    const kept = numbers.filter((n) => !retain.includes(n));
    if (kept.length > 0) new VoiceConnectorGroupPhoneNumbers(stack, 'Lines', { voiceConnectorGroupId: group, phoneNumbers: [...kept] });
    const held = numbers.filter((n) => retain.includes(n));
    if (held.length > 0) new VoiceConnectorGroupPhoneNumbers(stack, 'Held', { voiceConnectorGroupId: group, phoneNumbers: held, removalPolicy: RemovalPolicy.RETAIN });
    return fromStack(stack);
  };

  test('the documented procedure (RETAIN in A, drop it from A, then declare it in B) keeps it bound throughout, and B owns it after', async () => {
    const { groups: { a }, pool } = await world.reset();
    const [moving, staying] = pool;
    const bound = () => world.emu.control.getBinding(moving)?.value;
    expect((await world.driver.deploy(stackWith('TeamA', a, [moving, staying]))).failure).toBeUndefined();
    expect((await world.driver.deploy(stackWith('TeamA', a, [moving, staying], [moving]))).failure).toBeUndefined();
    expect(bound()).toBe(a);
    expect((await world.driver.deploy(stackWith('TeamA', a, [staying]))).failure).toBeUndefined();
    expect(bound()).toBe(a);
    expect((await world.driver.deploy(stackWith('TeamB', a, [moving]))).failure).toBeUndefined();
    expect(bound()).toBe(a);
    // A deploy of A again changes nothing for it; B's deletion unbinds it: B owns it now.
    expect((await world.driver.deploy(stackWith('TeamA', a, [staying, pool[2]]))).failure).toBeUndefined();
    expect(bound()).toBe(a);
    expect((await world.driver.destroy('TeamB')).status).toBe('DELETE_COMPLETE');
    expect(bound()).toBeUndefined();
    expect(world.emu.control.getBinding(staying)?.value).toBe(a);
  });

  test('the other order, on the same group: B adopts it, and A, dropping it later, unbinds it (the limit the README names)', async () => {
    const { groups: { a }, pool } = await world.reset();
    const [moving, staying] = pool;
    await world.driver.deploy(stackWith('TeamA', a, [moving, staying]));
    await world.driver.deploy(stackWith('TeamB', a, [moving]));
    expect(world.emu.control.getBinding(moving)?.value).toBe(a);
    await world.driver.deploy(stackWith('TeamA', a, [staying]));
    expect(world.emu.control.getBinding(moving)).toBeNull();
  });

  test('the other order, onto another group with forceAssociate: A, dropping it later, leaves it on B\'s group', async () => {
    const { groups: { a, b }, pool } = await world.reset();
    const [moving, staying] = pool;
    await world.driver.deploy(stackWith('TeamA', a, [moving, staying]));
    const stack = new Stack(new App(), 'TeamB');
    new VoiceConnectorGroupPhoneNumbers(stack, 'Lines', { voiceConnectorGroupId: b, phoneNumbers: [moving], forceAssociate: true });
    expect((await world.driver.deploy(fromStack(stack))).failure).toBeUndefined();
    await world.driver.deploy(stackWith('TeamA', a, [staying]));
    expect(world.emu.control.getBinding(moving)?.value).toBe(b);
  });
});
