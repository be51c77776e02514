import {
  AssociatePhoneNumbersWithVoiceConnectorCommand,
  AssociatePhoneNumbersWithVoiceConnectorGroupCommand,
  DisassociatePhoneNumbersFromVoiceConnectorGroupCommand,
  GetPhoneNumberCommand,
  ListPhoneNumbersCommand,
} from '@aws-sdk/client-chime-sdk-voice';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import 'aws-sdk-client-mock-jest';
import { accessDenied, FakeVoice } from './fake-voice';
import { GROUP_A, GROUP_B, LOGICAL_ID, createEvent, deleteEvent, numbers, props, updateEvent } from './fixtures';
import { handler, reconcile, settingsFromEnvironment, type HandlerSettings, type OnEventResponse } from '../../lambda/index';
import { createLogger } from '../../lambda/log';
import { physicalIdFor } from '../../lambda/plan';
import { parseRequest } from '../../lambda/request';
import { Attr, CHECKPOINT_KEY } from '../../src/binding-properties';

const ID_A = physicalIdFor(GROUP_A, LOGICAL_ID);
const ID_B = physicalIdFor(GROUP_B, LOGICAL_ID);
const OTHER_GROUP = 'vcg-other';
const OTHER_VC = 'vc-other';
const [n0, n1, n2, n3, n4] = numbers(5);

let fake: FakeVoice;
let sleep: jest.Mock<Promise<void>, [number]>;
let logLines: string[];

function settings(overrides: Partial<HandlerSettings> = {}): HandlerSettings {
  return {
    batchSize: 10,
    concurrency: 4,
    numberAttempts: 4,
    log: createLogger('DEBUG', (line) => logLines.push(line)),
    retryTiming: { sleep, random: () => 0.5 },
    ...overrides,
  };
}

/** Runs one event through parse -> reconcile against the fake, with zero-cost backoff. */
function run(event: CloudFormationCustomResourceEvent, overrides: Partial<HandlerSettings> = {}): Promise<OnEventResponse> {
  const far = Date.now() + 60 * 60_000;
  return reconcile(parseRequest(event), fake.client, settings(overrides), { forward: far, end: far });
}

function counts(c: { declared: number; associated: number; disassociated: number; unchanged: number }, groupId = GROUP_A) {
  return {
    [Attr.GROUP_ID]: groupId,
    [Attr.DECLARED_COUNT]: c.declared,
    [Attr.ASSOCIATED_COUNT]: c.associated,
    [Attr.DISASSOCIATED_COUNT]: c.disassociated,
    [Attr.UNCHANGED_COUNT]: c.unchanged,
  };
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the event to fail');
}

beforeEach(() => {
  fake = new FakeVoice([GROUP_A, GROUP_B, OTHER_GROUP]);
  sleep = jest.fn(async (_ms: number) => undefined);
  logLines = [];
});

afterEach(() => {
  fake.restore();
});

describe('Create', () => {
  test('binds every declared number politely and reports counts', async () => {
    fake.own([n0, n1, n2]);
    const response = await run(createEvent(props({ numbers: [n0, n1, n2] })));

    expect(response).toEqual({
      PhysicalResourceId: ID_A,
      Data: counts({ declared: 3, associated: 3, disassociated: 0, unchanged: 0 }),
      [CHECKPOINT_KEY]: { complete: true, startedAt: expect.any(Number) },
    });
    expect(fake.mock).toHaveReceivedCommandTimes(AssociatePhoneNumbersWithVoiceConnectorGroupCommand, 1);
    expect(fake.mock).toHaveReceivedCommandWith(AssociatePhoneNumbersWithVoiceConnectorGroupCommand, {
      VoiceConnectorGroupId: GROUP_A, E164PhoneNumbers: [n0, n1, n2], ForceAssociate: false,
    });
    expect(fake.mock).toHaveReceivedCommandTimes(DisassociatePhoneNumbersFromVoiceConnectorGroupCommand, 0);
    expect(fake.boundTo(GROUP_A)).toEqual([n0, n1, n2]);
  });

  test('a number already bound to this group counts as done and is not sent', async () => {
    fake.own([n0, n2]).own([n1], { kind: 'group', id: GROUP_A });
    const response = await run(createEvent(props({ numbers: [n0, n1, n2] })));

    expect(fake.mock).toHaveReceivedCommandWith(AssociatePhoneNumbersWithVoiceConnectorGroupCommand, { E164PhoneNumbers: [n0, n2] });
    expect(response.Data).toMatchObject({ [Attr.ASSOCIATED_COUNT]: 2, [Attr.UNCHANGED_COUNT]: 1 });
  });

  test('numbers written without + are sent normalised', async () => {
    fake.own([n0, n1]);
    await run(createEvent(props({ numbers: [n0.slice(1), n1] })));
    expect(fake.mock).toHaveReceivedCommandWith(AssociatePhoneNumbersWithVoiceConnectorGroupCommand, { E164PhoneNumbers: [n0, n1] });
  });

  test('a missing group fails before any write, naming the group', async () => {
    fake.groups.delete(GROUP_A);
    fake.own([n0, n1]);
    const message = await failure(run(createEvent(props({ numbers: [n0, n1] }))));
    expect(message).toMatch(/vcg-aaaa does not exist in this account and region/);
    expect(fake.writes).toEqual([]);
  });

  test('a missing group with a single number (per-number read) fails on the call with the group named', async () => {
    fake.groups.delete(GROUP_A);
    fake.own([n0]);
    const message = await failure(run(createEvent(props({ numbers: [n0] }))));
    expect(message).toContain(`- ${n0}: NotFoundException: voice connector group ${GROUP_A} was not found`);
  });
});

describe('Update', () => {
  test('binds added, unbinds removed, no calls for unchanged numbers, same physical id', async () => {
    fake.own([n0, n1, n2], { kind: 'group', id: GROUP_A }).own([n3]);
    const response = await run(updateEvent(props({ numbers: [n0, n1, n3] }), props({ numbers: [n0, n1, n2] }), ID_A));

    expect(response.PhysicalResourceId).toBe(ID_A);
    expect(response.Data).toMatchObject({ [Attr.ASSOCIATED_COUNT]: 1, [Attr.DISASSOCIATED_COUNT]: 1, [Attr.UNCHANGED_COUNT]: 2 });
    expect(fake.writes).toEqual([
      { op: 'associate', target: GROUP_A, numbers: [n3], force: false },
      { op: 'disassociate', target: GROUP_A, numbers: [n2] },
    ]);
    expect(fake.boundTo(GROUP_A)).toEqual([n0, n1, n3]);
  });

  test('no change: no calls at all', async () => {
    const response = await run(updateEvent(props({ numbers: [n0, n1] }), props({ numbers: [n0, n1] }), ID_A));
    expect(fake.mock.calls()).toHaveLength(0);
    expect(response).toEqual({
      PhysicalResourceId: ID_A,
      Data: counts({ declared: 2, associated: 0, disassociated: 0, unchanged: 2 }),
      [CHECKPOINT_KEY]: { complete: true, startedAt: expect.any(Number) },
    });
  });

  test('never unbinds a number it did not declare', async () => {
    fake.own([n0, n1], { kind: 'group', id: GROUP_A }).own([n4], { kind: 'group', id: GROUP_A });
    await run(updateEvent(props({ numbers: [n0] }), props({ numbers: [n0, n1] }), ID_A));
    expect(fake.boundTo(GROUP_A)).toEqual([n0, n4]);
  });

  test('with a group change: moves our numbers (forced, no forceAssociate needed), returns the new id; the old id\'s Delete then does nothing', async () => {
    fake.own([n0, n1, n2], { kind: 'group', id: GROUP_A }).own([n3]).own([n4], { kind: 'group', id: GROUP_A });
    const oldProps = props({ group: GROUP_A, numbers: [n0, n1, n2] });
    const response = await run(updateEvent(props({ group: GROUP_B, numbers: [n1, n2, n3] }), oldProps, ID_A));

    expect(response.PhysicalResourceId).toBe(ID_B);
    expect(response.Data).toMatchObject({ [Attr.GROUP_ID]: GROUP_B, [Attr.ASSOCIATED_COUNT]: 3, [Attr.DISASSOCIATED_COUNT]: 1 });
    expect(fake.writes).toEqual([
      { op: 'associate', target: GROUP_B, numbers: [n1, n2], force: true },
      { op: 'associate', target: GROUP_B, numbers: [n3], force: false },
      { op: 'disassociate', target: GROUP_A, numbers: [n0] },
    ]);
    expect(fake.boundTo(GROUP_B)).toEqual([n1, n2, n3]);
    expect(fake.boundTo(GROUP_A)).toEqual([n4]);

    fake.writes.length = 0;
    const deleted = await run(deleteEvent(oldProps, ID_A));
    expect(deleted.PhysicalResourceId).toBe(ID_A);
    expect(fake.writes).toEqual([]);
    expect(fake.boundTo(GROUP_B)).toEqual([n1, n2, n3]);
    expect(fake.boundTo(GROUP_A)).toEqual([n4]);
  });

  test('physical id changes if and only if the group changes', async () => {
    fake.own([n0, n1]);
    const same = await run(updateEvent(props({ numbers: [n1], force: true }), props({ numbers: [n0] }), ID_A));
    expect(same.PhysicalResourceId).toBe(ID_A);
    const moved = await run(updateEvent(props({ group: GROUP_B, numbers: [n1] }), props({ numbers: [n1] }), ID_A));
    expect(moved.PhysicalResourceId).toBe(ID_B);
  });
});

describe('Delete', () => {
  test('unbinds the declared numbers still bound, nothing else', async () => {
    fake.own([n0, n1], { kind: 'group', id: GROUP_A }).own([n2]).own([n4], { kind: 'group', id: GROUP_A });
    const response = await run(deleteEvent(props({ numbers: [n0, n1, n2] }), ID_A));

    expect(response.PhysicalResourceId).toBe(ID_A);
    expect(fake.mock).toHaveReceivedCommandTimes(DisassociatePhoneNumbersFromVoiceConnectorGroupCommand, 1);
    expect(fake.mock).toHaveReceivedCommandWith(DisassociatePhoneNumbersFromVoiceConnectorGroupCommand, {
      VoiceConnectorGroupId: GROUP_A, E164PhoneNumbers: [n0, n1],
    });
    expect(fake.boundTo(GROUP_A)).toEqual([n4]);
    expect(response.Data).toMatchObject({ [Attr.DISASSOCIATED_COUNT]: 2, [Attr.UNCHANGED_COUNT]: 1 });
  });

  test('a single number (read on its own, no listing) is unbound too', async () => {
    fake.own([n0], { kind: 'group', id: GROUP_A }).own([n1], { kind: 'group', id: GROUP_A });
    const response = await run(deleteEvent(props({ numbers: [n0] }), ID_A));
    expect(fake.mock).toHaveReceivedCommandTimes(ListPhoneNumbersCommand, 0);
    expect(fake.boundTo(GROUP_A)).toEqual([n1]);
    expect(response.Data).toMatchObject({ [Attr.DISASSOCIATED_COUNT]: 1, [Attr.UNCHANGED_COUNT]: 0 });
  });

  test('drifted: numbers already unbound -> success without writes', async () => {
    fake.own([n0, n1]);
    await run(deleteEvent(props({ numbers: [n0, n1] }), ID_A));
    expect(fake.writes).toEqual([]);
  });

  test('drifted: group gone (ListPhoneNumbers answers NotFoundException) -> success without writes', async () => {
    fake.groups.delete(GROUP_A);
    const response = await run(deleteEvent(props({ numbers: [n0, n1] }), ID_A));
    expect(fake.mock).toHaveReceivedCommandWith(ListPhoneNumbersCommand, { FilterName: 'VoiceConnectorGroupId', FilterValue: GROUP_A });
    expect(fake.writes).toEqual([]);
    expect(response.PhysicalResourceId).toBe(ID_A);
  });

  test('drifted: group gone, single number (per-number read) -> success without writes', async () => {
    fake.groups.delete(GROUP_A);
    fake.own([n0]);
    await run(deleteEvent(props({ numbers: [n0] }), ID_A));
    expect(fake.writes).toEqual([]);
  });

  test('a number unbound between read and write (per-number NotFound) still succeeds', async () => {
    fake.own([n0, n1], { kind: 'group', id: GROUP_A }).script('disassociate', n1, 'NotFound');
    const response = await run(deleteEvent(props({ numbers: [n0, n1] }), ID_A));
    expect(response.Data).toMatchObject({ [Attr.DISASSOCIATED_COUNT]: 1 });
    expect(fake.boundTo(GROUP_A)).toEqual([n1]);
  });

  describe('a Delete that lists its group unbinds each page while the next is read', () => {
    const declared = numbers(250, 1000);
    const foreign = numbers(30, 2000);
    const calls = () => fake.mock.calls().map((c) => (c.args[0] as { constructor: { name: string } }).constructor.name);

    test('writes start before the listing ends; numbers an offset next-token skipped are read again and unbound', async () => {
      // The fake's next-token is an offset, so numbers unbound from page 1 push later ones past it.
      fake.own(declared, { kind: 'group', id: GROUP_A }).own(foreign, { kind: 'group', id: GROUP_A });
      const response = await run(deleteEvent(props({ numbers: declared }), ID_A));

      expect(fake.boundTo(GROUP_A)).toEqual(foreign);
      expect(response.Data).toMatchObject({ [Attr.DECLARED_COUNT]: 250, [Attr.DISASSOCIATED_COUNT]: 250, [Attr.UNCHANGED_COUNT]: 0 });
      const order = calls();
      const firstWrite = order.indexOf(DisassociatePhoneNumbersFromVoiceConnectorGroupCommand.name);
      const lists = order.flatMap((name, i) => (name === ListPhoneNumbersCommand.name ? [i] : []));
      expect(firstWrite).toBeGreaterThan(lists[0]);
      expect(firstWrite).toBeLessThan(lists[1]);
      // The second pass read what the first could not see, and nothing declared was unbound twice.
      const unbound = fake.writes.flatMap((w) => w.numbers);
      expect(unbound.sort()).toEqual([...declared].sort());
    });

    test('a listing that fails after unbinding started binds back what it unbound, and says so', async () => {
      fake.own(declared, { kind: 'group', id: GROUP_A });
      fake.mock.on(ListPhoneNumbersCommand, { NextToken: '100' }).rejects(accessDenied());
      const message = await failure(run(deleteEvent(props({ numbers: declared }), ID_A)));

      expect(fake.boundTo(GROUP_A)).toEqual([...declared].sort());
      expect(fake.writes.some((w) => w.op === 'disassociate')).toBe(true);
      expect(message).toMatch(new RegExp(`^Delete of ${LOGICAL_ID} could not read the phone numbers of voice connector group ${GROUP_A}: AccessDeniedException: not allowed\\. `));
      expect(message).toMatch(/The 100 change\(s\) this attempt made were undone\.$/);
      expect(message).not.toContain('Nothing was changed');
    });
  });

  test('garbage properties: succeeds without any call', async () => {
    const response = await run(deleteEvent({ VoiceConnectorGroupId: 5 }, 'whatever'));
    expect(response.PhysicalResourceId).toBe('whatever');
    expect(fake.mock.calls()).toHaveLength(0);
  });
});

describe('failures are undone', () => {
  test('failed Create unbinds what it bound, and names each failing number with code and fix', async () => {
    fake.own([n0, n1, n3]).own([n2], { kind: 'group', id: OTHER_GROUP });
    const message = await failure(run(createEvent(props({ numbers: [n0, n1, n2, n3, n4] }))));

    expect(message).toBe([
      `Create of ${LOGICAL_ID} failed for 2 phone number(s) on voice connector group ${GROUP_A}:`,
      `- ${n2}: PhoneNumberAssociationsExist: bound to voice connector group ${OTHER_GROUP}; set forceAssociate: true to move it, or remove it from phoneNumbers`,
      `- ${n4}: NotFound: not in this account's phone number inventory; order or port it into Amazon Chime SDK first, or correct the number`,
      'The 3 change(s) this attempt made were undone.',
    ].join('\n'));
    expect(fake.mock).toHaveReceivedCommandWith(GetPhoneNumberCommand, { PhoneNumberId: n2 });
    // Undo runs newest change first.
    expect(fake.mock).toHaveReceivedCommandWith(DisassociatePhoneNumbersFromVoiceConnectorGroupCommand, {
      VoiceConnectorGroupId: GROUP_A, E164PhoneNumbers: [n3, n1, n0],
    });
    expect(fake.boundTo(GROUP_A)).toEqual([]);
    expect(fake.owners.get(n2)).toEqual({ kind: 'group', id: OTHER_GROUP });
  });

  test('a number held by a voice connector is named as such', async () => {
    fake.own([n0], { kind: 'voiceConnector', id: OTHER_VC });
    const message = await failure(run(createEvent(props({ numbers: [n0] }))));
    expect(message).toContain(`- ${n0}: PhoneNumberAssociationsExist: bound to voice connector ${OTHER_VC}; set forceAssociate: true`);
    expect(message).toContain('Nothing was changed.');
  });

  test('failed Update restores what it changed; the rollback Update then succeeds with no further writes', async () => {
    const before = [n0, n1, n2];
    fake.own(before, { kind: 'group', id: GROUP_A }).own([n3]);
    const oldProps = props({ numbers: before });
    const newProps = props({ numbers: [n0, n3, n4] }); // n4 is not in the inventory
    const snapshot = fake.snapshot();

    const message = await failure(run(updateEvent(newProps, oldProps, ID_A)));
    expect(message).toContain(`- ${n4}: NotFound:`);
    expect(fake.snapshot()).toEqual(snapshot);

    fake.writes.length = 0;
    const rollback = await run(updateEvent(oldProps, newProps, ID_A));
    expect(rollback.PhysicalResourceId).toBe(ID_A);
    expect(fake.writes).toEqual([]);
    expect(fake.boundTo(GROUP_A)).toEqual(before);
  });

  test('failed Update whose unbind partly fails unbinds what it added and re-binds what it unbound', async () => {
    fake.own([n0, n1, n3], { kind: 'group', id: GROUP_A }).own([n2]).script('disassociate', n1, 'Conflict');
    const snapshot = fake.snapshot();
    const message = await failure(run(updateEvent(props({ numbers: [n0, n2] }), props({ numbers: [n0, n1, n3] }), ID_A)));
    expect(message).toContain(`- ${n1}: Conflict:`);
    expect(message).toContain('The 2 change(s) this attempt made were undone.');
    expect(fake.writes.slice(2)).toEqual([
      { op: 'disassociate', target: GROUP_A, numbers: [n2] },
      { op: 'associate', target: GROUP_A, numbers: [n3], force: false },
    ]);
    expect(fake.snapshot()).toEqual(snapshot);
  });

  test('failed Update with a group change moves our numbers back, re-binds leftovers; rollback keeps the old id and writes nothing', async () => {
    fake.own([n0, n1, n2], { kind: 'group', id: GROUP_A }).own([n3], { kind: 'group', id: OTHER_GROUP });
    const oldProps = props({ group: GROUP_A, numbers: [n0, n1, n2] });
    const newProps = props({ group: GROUP_B, numbers: [n1, n2, n3] });
    const snapshot = fake.snapshot();

    const message = await failure(run(updateEvent(newProps, oldProps, ID_A)));
    // n3 is bound elsewhere and forceAssociate is off: the fresh step fails, while the moves (disjoint
    // numbers) ran alongside it; they are undone, and the leftover n0 was never let go.
    expect(message).toContain(`Update of ${LOGICAL_ID} failed for 1 phone number(s) on voice connector group ${GROUP_B}:`);
    expect(message).toContain(`- ${n3}: PhoneNumberAssociationsExist: bound to voice connector group ${OTHER_GROUP}`);
    expect(message).toContain('The 2 change(s) this attempt made were undone.');
    expect(fake.mock).not.toHaveReceivedCommand(DisassociatePhoneNumbersFromVoiceConnectorGroupCommand);
    expect(fake.mock).toHaveReceivedCommandWith(AssociatePhoneNumbersWithVoiceConnectorGroupCommand, {
      VoiceConnectorGroupId: GROUP_A, E164PhoneNumbers: [n2, n1], ForceAssociate: true,
    });
    expect(fake.snapshot()).toEqual(snapshot);

    fake.writes.length = 0;
    const rollback = await run(updateEvent(oldProps, newProps, ID_A));
    expect(rollback.PhysicalResourceId).toBe(ID_A);
    expect(fake.writes).toEqual([]);
  });

  test('a successful group change rolled back later (stack rollback) moves the numbers back to the old group', async () => {
    fake.own([n0, n1], { kind: 'group', id: GROUP_A });
    const oldProps = props({ group: GROUP_A, numbers: [n0, n1] });
    const newProps = props({ group: GROUP_B, numbers: [n0, n1] });
    await run(updateEvent(newProps, oldProps, ID_A));
    const back = await run(updateEvent(oldProps, newProps, ID_B));
    expect(back.PhysicalResourceId).toBe(ID_A);
    expect(fake.boundTo(GROUP_A)).toEqual([n0, n1]);
    // CloudFormation then deletes the new id: nothing of ours is left on B.
    fake.writes.length = 0;
    await run(deleteEvent(newProps, ID_B));
    expect(fake.writes).toEqual([]);
    expect(fake.boundTo(GROUP_A)).toEqual([n0, n1]);
  });

  test('undo that itself fails is reported with the numbers to fix by hand', async () => {
    fake.own([n0, n1]).script('associate', n1, 'NotFound').script('disassociate', n0, 'Conflict');
    const message = await failure(run(createEvent(props({ numbers: [n0, n1] }))));
    expect(message).toContain("Undoing this attempt's 1 change(s) failed for 1 number(s); fix them by hand:");
    expect(message).toMatch(new RegExp(`fix them by hand:\\n- \\${n0}: Conflict:`));
  });

  test('long failure lists are capped, the rest counted', async () => {
    const many = numbers(40, 100); // none in the inventory
    const message = await failure(run(createEvent(props({ numbers: many }))));
    expect(message.split('\n').filter((l) => l.startsWith('- +'))).toHaveLength(15);
    expect(message).toContain('- and 25 more (every number is in the handler\'s log)');
    expect(message.length).toBeLessThan(3000);
  });
});

describe('repeated events', () => {
  test.each<[string, () => CloudFormationCustomResourceEvent]>([
    ['Create', () => createEvent(props({ numbers: [n0, n1] }))],
    ['Update', () => updateEvent(props({ numbers: [n1, n2] }), props({ numbers: [n0, n1] }), ID_A)],
    ['Update with group change', () => updateEvent(props({ group: GROUP_B, numbers: [n0, n2] }), props({ numbers: [n0, n1] }), ID_A)],
    ['Delete', () => deleteEvent(props({ numbers: [n0, n1] }), ID_A)],
  ])('%s twice: same end state, success both times, no writes the second time', async (_, event) => {
    fake.own([n0, n1], { kind: 'group', id: GROUP_A }).own([n2]);
    const first = await run(event());
    const state = fake.snapshot();
    fake.writes.length = 0;
    const second = await run(event());
    expect(second.PhysicalResourceId).toBe(first.PhysicalResourceId);
    expect(fake.snapshot()).toEqual(state);
    expect(fake.writes).toEqual([]);
  });
});

describe('refactor: a number moves between two resources on the same group in one deploy', () => {
  // X declared n0, n1; Y declared n2. After the refactor X declares n0 and Y declares n1, n2.
  const xOld = props({ numbers: [n0, n1], peers: [n2] });
  const xNew = props({ numbers: [n0], peers: [n1, n2] });
  const yOld = props({ numbers: [n2], peers: [n0, n1] });
  const yNew = props({ numbers: [n1, n2], peers: [n0] });
  const xEvent = () => updateEvent(xNew, xOld, physicalIdFor(GROUP_A, 'X'), 'X');
  const yEvent = () => updateEvent(yNew, yOld, physicalIdFor(GROUP_A, 'Y'), 'Y');

  beforeEach(() => {
    fake.own([n0, n1, n2], { kind: 'group', id: GROUP_A });
  });

  test('X first, then Y', async () => {
    await run(xEvent());
    await run(yEvent());
    expect(fake.boundTo(GROUP_A)).toEqual([n0, n1, n2]);
    expect(fake.mock).toHaveReceivedCommandTimes(DisassociatePhoneNumbersFromVoiceConnectorGroupCommand, 0);
  });

  test('Y first, then X', async () => {
    await run(yEvent());
    await run(xEvent());
    expect(fake.boundTo(GROUP_A)).toEqual([n0, n1, n2]);
    expect(fake.mock).toHaveReceivedCommandTimes(DisassociatePhoneNumbersFromVoiceConnectorGroupCommand, 0);
  });

  test('in parallel', async () => {
    await Promise.all([run(xEvent()), run(yEvent())]);
    expect(fake.boundTo(GROUP_A)).toEqual([n0, n1, n2]);
  });

  test('into a newly created resource', async () => {
    await run(createEvent(props({ numbers: [n1], peers: [n0, n2] }), 'Z'));
    await run(updateEvent(props({ numbers: [n0], peers: [n1, n2] }), xOld, physicalIdFor(GROUP_A, 'X'), 'X'));
    expect(fake.boundTo(GROUP_A)).toEqual([n0, n1, n2]);
    expect(fake.writes).toEqual([]);
  });
});

describe('per-number errors', () => {
  test.each(['Throttled', 'Throttling', 'ServiceFailure', 'ServiceUnavailable'])('%s is retried for that number only, then succeeds', async (code) => {
    fake.own([n0, n1, n2]).script('associate', n1, code, code);
    const response = await run(createEvent(props({ numbers: [n0, n1, n2] })));

    expect(response.Data).toMatchObject({ [Attr.ASSOCIATED_COUNT]: 3 });
    expect(fake.writes.map((w) => w.numbers)).toEqual([[n0, n1, n2], [n1], [n1]]);
    // Full jitter on an exponential ceiling (base 200 ms): random 0.5 -> 200, then 400.
    expect(sleep.mock.calls).toEqual([[200], [400]]);
    expect(fake.boundTo(GROUP_A)).toEqual([n0, n1, n2]);
  });

  test('a transient code that outlasts every attempt fails the event and undoes the rest', async () => {
    fake.own([n0, n1]).script('associate', n1, 'Throttling', 'Throttling', 'Throttling', 'Throttling');
    const message = await failure(run(createEvent(props({ numbers: [n0, n1] })), { numberAttempts: 4 }));

    expect(fake.mock).toHaveReceivedCommandTimes(AssociatePhoneNumbersWithVoiceConnectorGroupCommand, 4);
    expect(message).toContain(`- ${n1}: Throttling: the service kept failing it after every retry; deploy again later`);
    expect(fake.boundTo(GROUP_A)).toEqual([]);
  });

  test('a permanent code is not retried', async () => {
    fake.own([n0]).script('associate', n0, 'Validation');
    const message = await failure(run(createEvent(props({ numbers: [n0] }))));
    expect(fake.mock).toHaveReceivedCommandTimes(AssociatePhoneNumbersWithVoiceConnectorGroupCommand, 1);
    expect(message).toContain(`- ${n0}: Validation: rejected by the service (Validation for ${n0}); a group takes only numbers of product type VoiceConnector: ` +
      `check it with aws chime-sdk-voice get-phone-number --phone-number-id ${n0}, then change its product type (update-phone-number --product-type VoiceConnector) or remove it from phoneNumbers`);
  });

  test('no retry starts past the deadline: the numbers left are carried over to the completion checks', async () => {
    fake.own([n0]).script('associate', n0, 'Throttled');
    const soon = Date.now() + 100;
    const request = parseRequest(createEvent(props({ numbers: [n0] })));
    const slow = settings({ retryTiming: { sleep, random: () => 0.99, baseDelayMs: 1000 } });
    const response = await reconcile(request, fake.client, slow, { forward: soon, end: soon + 60_000 });
    expect(sleep).not.toHaveBeenCalled();
    expect(response[CHECKPOINT_KEY]).toMatchObject({ complete: false });
    expect(fake.boundTo(GROUP_A)).toEqual([]);
  });
});

describe("forceAssociate: 'take'", () => {
  test('asks politely first, looks up the owner, then forces only the contested numbers', async () => {
    fake.own([n0]).own([n1], { kind: 'group', id: OTHER_GROUP });
    const response = await run(createEvent(props({ numbers: [n0, n1], force: 'true' })));

    const sequence = fake.mock.calls().map((c) => c.args[0].constructor.name);
    expect(sequence).toEqual([
      'ListPhoneNumbersCommand',
      'AssociatePhoneNumbersWithVoiceConnectorGroupCommand',
      'GetPhoneNumberCommand',
      'AssociatePhoneNumbersWithVoiceConnectorGroupCommand',
    ]);
    const associate = AssociatePhoneNumbersWithVoiceConnectorGroupCommand;
    expect(fake.mock).toHaveReceivedNthSpecificCommandWith(1, associate, { E164PhoneNumbers: [n0, n1], ForceAssociate: false });
    expect(fake.mock).toHaveReceivedNthSpecificCommandWith(2, associate, { E164PhoneNumbers: [n1], ForceAssociate: true });
    expect(fake.mock).toHaveReceivedCommandWith(GetPhoneNumberCommand, { PhoneNumberId: n1 });
    expect(fake.boundTo(GROUP_A)).toEqual([n0, n1]);
    expect(response.Data).toMatchObject({ [Attr.ASSOCIATED_COUNT]: 2 });
  });

  test('on a later failure each taken number is handed back to its previous owner (group or voice connector)', async () => {
    fake.own([n0, n3]).own([n1], { kind: 'group', id: OTHER_GROUP }).own([n2], { kind: 'voiceConnector', id: OTHER_VC });
    // n3 is contested on the polite call, then fails when forced along with n1 and n2.
    fake.script('associate', n3, 'PhoneNumberAssociationsExist', 'Conflict');
    const message = await failure(run(createEvent(props({ numbers: [n0, n1, n2, n3], force: true }))));

    expect(message).toContain(`- ${n3}: Conflict:`);
    expect(message).toContain('The 3 change(s) this attempt made were undone.');
    expect(fake.mock).toHaveReceivedCommandWith(AssociatePhoneNumbersWithVoiceConnectorGroupCommand, {
      VoiceConnectorGroupId: OTHER_GROUP, E164PhoneNumbers: [n1], ForceAssociate: true,
    });
    expect(fake.mock).toHaveReceivedCommandWith(AssociatePhoneNumbersWithVoiceConnectorCommand, {
      VoiceConnectorId: OTHER_VC, E164PhoneNumbers: [n2], ForceAssociate: true,
    });
    expect(fake.snapshot()).toEqual({ [n1]: `group:${OTHER_GROUP}`, [n2]: `voiceConnector:${OTHER_VC}` });
  });

  test('a number that fails for good on the polite call stops the attempt before anything is taken', async () => {
    fake.own([n0]).own([n1], { kind: 'group', id: OTHER_GROUP });
    const message = await failure(run(createEvent(props({ numbers: [n0, n1, n2], force: true }))));

    expect(message).toContain(`- ${n2}: NotFound:`);
    expect(message).toContain(`- ${n1}: PhoneNumberAssociationsExist: bound to voice connector group ${OTHER_GROUP}`);
    expect(fake.mock).not.toHaveReceivedCommandWith(AssociatePhoneNumbersWithVoiceConnectorGroupCommand, { ForceAssociate: true });
    expect(fake.owners.get(n1)).toEqual({ kind: 'group', id: OTHER_GROUP });
    expect(fake.boundTo(GROUP_A)).toEqual([]);
  });

  test('an owner lookup that fails does not force blindly, and still undoes what was bound', async () => {
    fake.own([n0]).own([n1], { kind: 'group', id: OTHER_GROUP }).failGetPhoneNumber(accessDenied());
    const message = await failure(run(createEvent(props({ numbers: [n0, n1], force: true }))));

    expect(message).toContain(`- ${n1}: AccessDeniedException: the handler's role may not make this call`);
    expect(fake.mock).not.toHaveReceivedCommandWith(AssociatePhoneNumbersWithVoiceConnectorGroupCommand, { ForceAssociate: true });
    expect(fake.boundTo(GROUP_A)).toEqual([]);
    expect(fake.owners.get(n1)).toEqual({ kind: 'group', id: OTHER_GROUP });
  });

  test('a contested number in an early batch does not stop the later batches of the polite pass', async () => {
    const all = numbers(30, 2000);
    fake.own(all.slice(1)).own([all[0]], { kind: 'group', id: OTHER_GROUP });
    const response = await run(createEvent(props({ numbers: all, force: true })), { concurrency: 1 });

    expect(fake.boundTo(GROUP_A)).toEqual([...all].sort());
    expect(response.Data).toMatchObject({ [Attr.ASSOCIATED_COUNT]: 30 });
  });

  test('without forceAssociate a number bound elsewhere is never taken', async () => {
    fake.own([n0], { kind: 'group', id: OTHER_GROUP });
    await failure(run(createEvent(props({ numbers: [n0], force: 'false' }))));
    expect(fake.mock).not.toHaveReceivedCommandWith(AssociatePhoneNumbersWithVoiceConnectorGroupCommand, { ForceAssociate: true });
    expect(fake.owners.get(n0)).toEqual({ kind: 'group', id: OTHER_GROUP });
  });
});

describe('batching', () => {
  test.each([[1, 10], [10, 10], [11, 10], [25, 10], [25, 7], [100, 100], [101, 100]])('%i numbers, batch %i -> ceil(n/batch) association calls', async (count, batchSize) => {
    const all = numbers(count, 1000);
    fake.own(all);
    await run(createEvent(props({ numbers: all })), { batchSize });
    expect(fake.mock).toHaveReceivedCommandTimes(AssociatePhoneNumbersWithVoiceConnectorGroupCommand, Math.ceil(count / batchSize));
    expect(fake.writes.every((w) => w.numbers.length <= batchSize)).toBe(true);
    expect(fake.boundTo(GROUP_A)).toHaveLength(count);
  });

  test('a list rejected whole with BadRequestException is split until it fits', async () => {
    const all = numbers(16, 1000);
    fake.own(all);
    fake.maxList = 3;
    const response = await run(createEvent(props({ numbers: all })), { batchSize: 8, concurrency: 1 });

    expect(response.Data).toMatchObject({ [Attr.ASSOCIATED_COUNT]: 16 });
    expect(fake.boundTo(GROUP_A)).toEqual(all);
    expect(fake.writes.map((w) => w.numbers.length)).toEqual([8, 4, 2, 2, 4, 2, 2, 8, 4, 2, 2, 4, 2, 2]);
  });

  test('a single number rejected with BadRequestException fails with that code', async () => {
    fake.own([n0]);
    fake.maxList = 0;
    const message = await failure(run(createEvent(props({ numbers: [n0] }))));
    expect(message).toContain(`- ${n0}: BadRequestException: at most 0 numbers`);
  });

  test('the shrunk batch size applies to batches that start later', async () => {
    const all = numbers(12, 1000);
    fake.own(all);
    fake.maxList = 2;
    await run(updateEvent(props({ numbers: all }), props({ numbers: all.slice(0, 4) }), ID_A), { batchSize: 4, concurrency: 1 });
    // 8 added numbers: the first batch of 4 is split to 2 + 2; the second batch was already cut at 4 and splits too.
    expect(fake.writes.map((w) => w.numbers.length)).toEqual([4, 2, 2, 4, 2, 2]);
  });
});

describe('read strategy', () => {
  test('an update touching few numbers of a large set reads just those numbers', async () => {
    const all = numbers(500, 1000);
    fake.own(all, { kind: 'group', id: GROUP_A }).own([n0]);
    await run(updateEvent(props({ numbers: [...all.slice(1), n0] }), props({ numbers: all }), ID_A));

    expect(fake.mock).toHaveReceivedCommandTimes(ListPhoneNumbersCommand, 0);
    expect(fake.mock).toHaveReceivedCommandTimes(GetPhoneNumberCommand, 2);
    expect(fake.mock).toHaveReceivedCommandWith(GetPhoneNumberCommand, { PhoneNumberId: n0 });
    expect(fake.mock).toHaveReceivedCommandWith(GetPhoneNumberCommand, { PhoneNumberId: all[0] });
    expect(fake.writes).toEqual([
      { op: 'associate', target: GROUP_A, numbers: [n0], force: false },
      { op: 'disassociate', target: GROUP_A, numbers: [all[0]] },
    ]);
  });

  test('otherwise one paged listing of the group, following NextToken', async () => {
    const all = numbers(250, 1000);
    fake.own(all, { kind: 'group', id: GROUP_A }).own([n0, n1, n2, n3, n4]);
    await run(updateEvent(props({ numbers: [...all.slice(5), n0, n1, n2, n3, n4] }), props({ numbers: all }), ID_A));

    expect(fake.mock).toHaveReceivedCommandTimes(GetPhoneNumberCommand, 0);
    expect(fake.mock).toHaveReceivedCommandTimes(ListPhoneNumbersCommand, 3);
    expect(fake.mock).toHaveReceivedNthSpecificCommandWith(1, ListPhoneNumbersCommand, { FilterName: 'VoiceConnectorGroupId', FilterValue: GROUP_A, MaxResults: 100, NextToken: undefined });
    expect(fake.mock).toHaveReceivedNthSpecificCommandWith(2, ListPhoneNumbersCommand, { NextToken: '100' });
    expect(fake.mock).toHaveReceivedNthSpecificCommandWith(3, ListPhoneNumbersCommand, { NextToken: '200' });
    // Numbers found on the last page are known to be bound: removed ones are unbound.
    expect(fake.mock).toHaveReceivedCommandWith(DisassociatePhoneNumbersFromVoiceConnectorGroupCommand, { E164PhoneNumbers: all.slice(0, 5) });
  });

  test('the listing only counts numbers whose association is this group', async () => {
    fake.own([n0, n1]).own([n2], { kind: 'group', id: OTHER_GROUP });
    await run(createEvent(props({ numbers: [n0, n1] })));
    expect(fake.mock).toHaveReceivedCommandWith(AssociatePhoneNumbersWithVoiceConnectorGroupCommand, { E164PhoneNumbers: [n0, n1] });
  });
});

describe('handler (the Lambda entry point)', () => {
  const env = { ...process.env };
  let stdout: jest.SpyInstance;

  beforeEach(() => {
    stdout = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  });
  afterEach(() => {
    stdout.mockRestore();
    process.env = { ...env };
  });

  function logged(): Array<Record<string, unknown>> {
    return stdout.mock.calls.map(([line]) => JSON.parse(String(line)));
  }

  test('string properties from CloudFormation: ForceAssociate "true" takes a number bound elsewhere', async () => {
    fake.own([n0], { kind: 'group', id: OTHER_GROUP });
    const response = await handler(createEvent(props({ numbers: [n0], force: 'true' })));
    expect(response.PhysicalResourceId).toBe(ID_A);
    expect(fake.owners.get(n0)).toEqual({ kind: 'group', id: GROUP_A });
  });

  test('batch size comes from BATCH_SIZE', async () => {
    process.env.BATCH_SIZE = '7';
    const all = numbers(30, 1000);
    fake.own(all);
    await handler(createEvent(props({ numbers: all })));
    expect(fake.mock).toHaveReceivedCommandTimes(AssociatePhoneNumbersWithVoiceConnectorGroupCommand, 5);
  });

  test('Data holds counts only and stays small for 5,000 numbers', async () => {
    process.env.BATCH_SIZE = '100';
    process.env.CONCURRENCY = '32';
    const all = numbers(5000, 10000);
    fake.own(all);
    const response = await handler(createEvent(props({ numbers: all })));
    expect(response.Data).toEqual(counts({ declared: 5000, associated: 5000, disassociated: 0, unchanged: 0 }));
    expect(JSON.stringify(response).length).toBeLessThan(512);
    expect(fake.mock).toHaveReceivedCommandTimes(AssociatePhoneNumbersWithVoiceConnectorGroupCommand, 50);
  });

  test('logs unknown property names, never the event', async () => {
    fake.own([n0]);
    await handler(createEvent({ ...props({ numbers: [n0] }), Surprise: 'x' }));
    const first = logged()[0];
    expect(first).toMatchObject({ message: 'event', requestType: 'Create', unknownProperties: ['Surprise'] });
    expect(JSON.stringify(logged())).not.toContain('ResponseURL');
    expect(JSON.stringify(logged())).not.toContain('presigned');
  });

  test('invalid properties fail before any call', async () => {
    await expect(handler(createEvent(props({ numbers: ['+0'] })))).rejects.toThrow(/not an E.164 phone number/);
    expect(fake.mock.calls()).toHaveLength(0);
  });

  test('a bad environment variable fails before any call', async () => {
    process.env.BATCH_SIZE = '0';
    await expect(handler(createEvent(props({ numbers: [n0] })))).rejects.toThrow('Environment variable BATCH_SIZE="0" must be an integer from 1 to 100.');
    expect(fake.mock.calls()).toHaveLength(0);
  });

  test('too little Lambda time left: nothing is attempted and the work is handed to the completion checks', async () => {
    fake.own([n0]);
    const response = await handler(createEvent(props({ numbers: [n0] })), { getRemainingTimeInMillis: () => 2_000 });
    expect(response).toMatchObject({ PhysicalResourceId: ID_A, [CHECKPOINT_KEY]: { complete: false } });
    expect(fake.writes).toEqual([]);
  });

  test('Delete through the handler with the group gone succeeds', async () => {
    fake.groups.delete(GROUP_A);
    const response = await handler(deleteEvent(props({ numbers: [n0, n1] }), ID_A));
    expect(response.PhysicalResourceId).toBe(ID_A);
  });
});

describe('reads that fail before any change', () => {
  test('access denied on the listing names the resource, the group, the permission and that nothing changed', async () => {
    fake.own([n0]);
    fake.mock.on(ListPhoneNumbersCommand).rejects(accessDenied());
    const message = await failure(run(createEvent(props({ numbers: [n0, n1, n2, n3] }))));
    expect(message).toBe(
      `Create of ${LOGICAL_ID} could not read the phone numbers of voice connector group ${GROUP_A}: AccessDeniedException: not allowed. ` +
      'The handler\'s role needs chime:ListPhoneNumbers and chime:GetPhoneNumber on Resource "*"; check permissions boundaries and SCPs. Nothing was changed.',
    );
    expect(fake.writes).toEqual([]);
  });

  test('an unreachable endpoint says Voice Connector may not be offered in the region', async () => {
    fake.mock.on(ListPhoneNumbersCommand).rejects(Object.assign(new Error('getaddrinfo ENOTFOUND voice-chime.xx-east-9.amazonaws.com'), { code: 'ENOTFOUND' }));
    const message = await failure(run(createEvent(props({ numbers: [n0, n1, n2, n3] }))));
    expect(message).toMatch(/could not be reached in .*Voice Connector is offered only in some regions.*Nothing was changed\.$/);
  });
});

describe('settingsFromEnvironment', () => {
  test('defaults', () => {
    const s = settingsFromEnvironment({});
    expect([s.batchSize, s.concurrency, s.numberAttempts]).toEqual([10, 4, 8]);
    expect(s.retryTiming).toBeUndefined();
  });

  test('empty strings mean the default', () => {
    expect(settingsFromEnvironment({ BATCH_SIZE: '', CONCURRENCY: '', NUMBER_ATTEMPTS: '' }).batchSize).toBe(10);
  });

  test('valid overrides, including the maxima', () => {
    const s = settingsFromEnvironment({ BATCH_SIZE: '100', CONCURRENCY: '32', NUMBER_ATTEMPTS: '50' });
    expect([s.batchSize, s.concurrency, s.numberAttempts]).toEqual([100, 32, 50]);
  });

  test.each([
    ['BATCH_SIZE', '0', 100],
    ['BATCH_SIZE', '101', 100],
    ['BATCH_SIZE', '2.5', 100],
    ['BATCH_SIZE', 'ten', 100],
    ['CONCURRENCY', '-1', 32],
    ['CONCURRENCY', '33', 32],
    ['NUMBER_ATTEMPTS', '51', 50],
    ['NUMBER_ATTEMPTS', ' ', 50],
  ])('%s=%p is rejected', (name, value, max) => {
    expect(() => settingsFromEnvironment({ [name]: value })).toThrow(`Environment variable ${name}=${JSON.stringify(value)} must be an integer from 1 to ${max}.`);
  });

  test('LOG_LEVEL filters log lines', () => {
    const lines: string[] = [];
    const log = createLogger('WARN', (l) => lines.push(l));
    log.info('hidden');
    log.warn('shown', { count: 1 });
    expect(lines.map((l) => JSON.parse(l))).toEqual([{ level: 'WARN', message: 'shown', count: 1 }]);
  });
});
