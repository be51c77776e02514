import { GROUP_A, GROUP_B, LOGICAL_ID, numbers, observations, phone, props, spec, updateEvent } from './fixtures';
import { PlanError, physicalIdFor, planChanges, requiredReads, type ReadRequest } from '../../lambda/plan';
import { parseRequest, type BindingRequest, type BindingSpec } from '../../lambda/request';

const ID_A = physicalIdFor(GROUP_A, LOGICAL_ID);
const ID_B = physicalIdFor(GROUP_B, LOGICAL_ID);

function create(desired: BindingSpec): BindingRequest {
  return { type: 'Create', logicalId: LOGICAL_ID, desired };
}
function update(desired: BindingSpec, previous: BindingSpec | undefined, physicalId = ID_A): BindingRequest {
  return { type: 'Update', logicalId: LOGICAL_ID, physicalId, desired, previous };
}
function del(previous: BindingSpec | undefined, physicalId = ID_A): BindingRequest {
  return { type: 'Delete', logicalId: LOGICAL_ID, physicalId, previous };
}

/** Reads in a comparable shape (sets become sorted arrays). */
function reads(request: BindingRequest): Array<{ groupId: string; numbers: string[]; declaredCount: number }> {
  return requiredReads(request).map((r: ReadRequest) => ({ groupId: r.groupId, numbers: [...r.numbers].sort(), declaredCount: r.declaredCount }));
}

const [n0, n1, n2, n3, n4] = numbers(5);

describe('physicalIdFor', () => {
  test('embeds group and logical id, so it differs per group and per resource', () => {
    expect(physicalIdFor(GROUP_A, 'X')).toBe(`${GROUP_A}/X`);
    expect(physicalIdFor(GROUP_A, 'X')).not.toBe(physicalIdFor(GROUP_B, 'X'));
    expect(physicalIdFor(GROUP_A, 'X')).not.toBe(physicalIdFor(GROUP_A, 'Y'));
  });
});

describe('Create', () => {
  const request = create(spec({ numbers: [n0, n1, n2] }));

  test('reads every declared number on the group', () => {
    expect(reads(request)).toEqual([{ groupId: GROUP_A, numbers: [n0, n1, n2], declaredCount: 3 }]);
  });

  test('binds all numbers when none is bound, politely (forceAssociate false)', () => {
    const plan = planChanges(request, observations({ [GROUP_A]: [] }));
    expect(plan).toEqual({
      physicalId: ID_A,
      groupId: GROUP_A,
      declared: 3,
      unchanged: 0,
      steps: [{ kind: 'associate', groupId: GROUP_A, numbers: [n0, n1, n2], force: 'never' }],
    });
  });

  test('numbers already bound to this group count as done', () => {
    const plan = planChanges(request, observations({ [GROUP_A]: [n1, n3] }));
    expect(plan.unchanged).toBe(1);
    expect(plan.steps).toEqual([{ kind: 'associate', groupId: GROUP_A, numbers: [n0, n2], force: 'never' }]);
  });

  test('all already bound: no steps', () => {
    const plan = planChanges(request, observations({ [GROUP_A]: [n0, n1, n2] }));
    expect(plan.steps).toEqual([]);
    expect(plan.unchanged).toBe(3);
    expect(plan.declared).toBe(3);
  });

  test("forceAssociate true uses the 'take' mode", () => {
    const plan = planChanges(create(spec({ numbers: [n0], force: true })), observations({ [GROUP_A]: [] }));
    expect(plan.steps).toEqual([{ kind: 'associate', groupId: GROUP_A, numbers: [n0], force: 'take' }]);
  });

  test('a missing group is a PlanError that names it', () => {
    const attempt = () => planChanges(request, observations({ [GROUP_A]: 'missing' }));
    expect(attempt).toThrow(PlanError);
    expect(attempt).toThrow(new RegExp(`${GROUP_A} does not exist.*Check voiceConnectorGroupId`, 's'));
  });

  test('planning without the needed read is an internal error, not a silent empty plan', () => {
    expect(() => planChanges(request, observations({}))).toThrow(/internal: group vcg-aaaa was not read/);
  });
});

describe('Update on the same group', () => {
  test('no change: no reads and no steps, physical id kept', () => {
    const request = update(spec({ numbers: [n0, n1] }), spec({ numbers: [n1, n0] }));
    expect(requiredReads(request)).toEqual([]);
    expect(planChanges(request, observations({}))).toEqual({ physicalId: ID_A, groupId: GROUP_A, declared: 2, unchanged: 2, steps: [] });
  });

  test('only forceAssociate changed: still nothing to do', () => {
    const request = update(spec({ numbers: [n0], force: true }), spec({ numbers: [n0], force: false }));
    expect(requiredReads(request)).toEqual([]);
    expect(planChanges(request, observations({})).steps).toEqual([]);
  });

  test('reads only the added and removed numbers', () => {
    const request = update(spec({ numbers: [n0, n1, n2] }), spec({ numbers: [n0, n1, n3] }));
    expect(reads(request)).toEqual([{ groupId: GROUP_A, numbers: [n2, n3], declaredCount: 3 }]);
  });

  test('binds added, unbinds removed, no calls for unchanged numbers', () => {
    const request = update(spec({ numbers: [n0, n1, n2] }), spec({ numbers: [n0, n1, n3] }));
    const plan = planChanges(request, observations({ [GROUP_A]: [n0, n1, n3] }));
    expect(plan).toEqual({
      physicalId: ID_A,
      groupId: GROUP_A,
      declared: 3,
      unchanged: 2,
      steps: [
        { kind: 'associate', groupId: GROUP_A, numbers: [n2], force: 'never' },
        { kind: 'disassociate', groupId: GROUP_A, numbers: [n3] },
      ],
    });
    const touched = plan.steps.flatMap((s) => s.numbers);
    expect(touched).not.toContain(n0);
    expect(touched).not.toContain(n1);
  });

  test('added numbers use the mode of the new forceAssociate', () => {
    const request = update(spec({ numbers: [n0, n1], force: true }), spec({ numbers: [n0] }));
    expect(planChanges(request, observations({ [GROUP_A]: [n0] })).steps).toEqual([
      { kind: 'associate', groupId: GROUP_A, numbers: [n1], force: 'take' },
    ]);
  });

  test('an added number already bound needs no call', () => {
    const request = update(spec({ numbers: [n0, n1] }), spec({ numbers: [n0] }));
    const plan = planChanges(request, observations({ [GROUP_A]: [n0, n1] }));
    expect(plan.steps).toEqual([]);
    expect(plan.unchanged).toBe(2);
  });

  test('removed numbers no longer bound are skipped', () => {
    const request = update(spec({ numbers: [n0] }), spec({ numbers: [n0, n1, n2] }));
    const plan = planChanges(request, observations({ [GROUP_A]: [n0, n2] }));
    expect(plan.steps).toEqual([{ kind: 'disassociate', groupId: GROUP_A, numbers: [n2] }]);
  });

  test('a removed number that a sibling now declares (PeerPhoneNumbers) is neither read nor unbound', () => {
    const request = update(spec({ numbers: [n0], peers: [n1, n4] }), spec({ numbers: [n0, n1, n2] }));
    expect(reads(request)).toEqual([{ groupId: GROUP_A, numbers: [n2], declaredCount: 1 }]);
    const plan = planChanges(request, observations({ [GROUP_A]: [n0, n1, n2] }));
    expect(plan.steps).toEqual([{ kind: 'disassociate', groupId: GROUP_A, numbers: [n2] }]);
  });

  test('only peers removed: nothing to read or do', () => {
    const request = update(spec({ numbers: [n0], peers: [n1] }), spec({ numbers: [n0, n1] }));
    expect(requiredReads(request)).toEqual([]);
    expect(planChanges(request, observations({})).steps).toEqual([]);
  });

  test('the group missing at update time is a PlanError', () => {
    const request = update(spec({ numbers: [n0, n1] }), spec({ numbers: [n0] }));
    expect(() => planChanges(request, observations({ [GROUP_A]: 'missing' }))).toThrow(PlanError);
  });

  test('numbers are parsed from the event the way the planner expects (strings, normalised)', () => {
    const request = parseRequest(updateEvent(
      props({ numbers: [n0.slice(1), n1], force: 'true' }),
      props({ numbers: [n0] }),
      ID_A,
    ));
    expect(planChanges(request, observations({ [GROUP_A]: [n0] })).steps).toEqual([
      { kind: 'associate', groupId: GROUP_A, numbers: [n1], force: 'take' },
    ]);
  });
});

describe('Update with a group change', () => {
  const previous = spec({ group: GROUP_A, numbers: [n0, n1, n2] });

  test('reads both groups, each with its own declared numbers', () => {
    const request = update(spec({ group: GROUP_B, numbers: [n1, n2, n3] }), previous);
    expect(reads(request)).toEqual([
      { groupId: GROUP_B, numbers: [n1, n2, n3], declaredCount: 3 },
      { groupId: GROUP_A, numbers: [n0, n1, n2], declaredCount: 3 },
    ]);
  });

  test("moves our numbers with force 'ours', binds fresh ones with forceAssociate's mode, unbinds leftovers, new physical id", () => {
    const request = update(spec({ group: GROUP_B, numbers: [n1, n2, n3], force: true }), previous);
    const plan = planChanges(request, observations({ [GROUP_B]: [], [GROUP_A]: [n0, n1, n2] }));
    expect(plan).toEqual({
      physicalId: ID_B,
      groupId: GROUP_B,
      declared: 3,
      unchanged: 0,
      steps: [
        { kind: 'associate', groupId: GROUP_B, numbers: [n1, n2], force: 'ours', from: { kind: 'group', id: GROUP_A } },
        { kind: 'associate', groupId: GROUP_B, numbers: [n3], force: 'take' },
        { kind: 'disassociate', groupId: GROUP_A, numbers: [n0] },
      ],
    });
  });

  test('fresh numbers stay polite without forceAssociate', () => {
    const request = update(spec({ group: GROUP_B, numbers: [n3] }), previous);
    const plan = planChanges(request, observations({ [GROUP_B]: [], [GROUP_A]: [n0] }));
    expect(plan.steps).toEqual([
      { kind: 'associate', groupId: GROUP_B, numbers: [n3], force: 'never' },
      { kind: 'disassociate', groupId: GROUP_A, numbers: [n0] },
    ]);
  });

  test('a number on the old group that this resource did not declare is not ours: never moved by force, never unbound', () => {
    const request = update(spec({ group: GROUP_B, numbers: [n0, n4] }), spec({ group: GROUP_A, numbers: [n0] }));
    const plan = planChanges(request, observations({ [GROUP_B]: [], [GROUP_A]: [n0, n4] }));
    expect(plan.steps).toEqual([
      { kind: 'associate', groupId: GROUP_B, numbers: [n0], force: 'ours', from: { kind: 'group', id: GROUP_A } },
      { kind: 'associate', groupId: GROUP_B, numbers: [n4], force: 'never' },
    ]);
  });

  test('numbers already on the new group count as done; already gone from the old group are not unbound', () => {
    const request = update(spec({ group: GROUP_B, numbers: [n0, n1] }), previous);
    const plan = planChanges(request, observations({ [GROUP_B]: [n0], [GROUP_A]: [n1] }));
    expect(plan.unchanged).toBe(1);
    expect(plan.steps).toEqual([
      { kind: 'associate', groupId: GROUP_B, numbers: [n1], force: 'ours', from: { kind: 'group', id: GROUP_A } },
    ]);
  });

  test('repeated after success: nothing left to do, same physical id', () => {
    const request = update(spec({ group: GROUP_B, numbers: [n1, n2, n3] }), previous);
    const plan = planChanges(request, observations({ [GROUP_B]: [n1, n2, n3], [GROUP_A]: [] }));
    expect(plan.steps).toEqual([]);
    expect(plan.physicalId).toBe(ID_B);
  });

  test('the old group gone is fine: everything is fresh', () => {
    const request = update(spec({ group: GROUP_B, numbers: [n0] }), previous);
    const plan = planChanges(request, observations({ [GROUP_B]: [], [GROUP_A]: 'missing' }));
    expect(plan.steps).toEqual([{ kind: 'associate', groupId: GROUP_B, numbers: [n0], force: 'never' }]);
  });

  test('the new group missing is a PlanError', () => {
    const request = update(spec({ group: GROUP_B, numbers: [n0] }), previous);
    expect(() => planChanges(request, observations({ [GROUP_B]: 'missing', [GROUP_A]: [n0] }))).toThrow(/vcg-bbbb does not exist/);
  });
});

describe('Update whose old properties cannot be read', () => {
  const request = update(spec({ numbers: [n0, n1] }), undefined);

  test('reads and binds every declared number, unbinds nothing, keeps the physical id', () => {
    expect(reads(request)).toEqual([{ groupId: GROUP_A, numbers: [n0, n1], declaredCount: 2 }]);
    const plan = planChanges(request, observations({ [GROUP_A]: [n0, n2] }));
    expect(plan.physicalId).toBe(ID_A);
    expect(plan.steps).toEqual([{ kind: 'associate', groupId: GROUP_A, numbers: [n1], force: 'never' }]);
  });

  test('answers with the id of the declared group, so a group change still yields a new physical id', () => {
    const moved = update(spec({ group: GROUP_B, numbers: [n0] }), undefined, ID_A);
    expect(planChanges(moved, observations({ [GROUP_B]: [] })).physicalId).toBe(ID_B);
    const unchangedGroup = update(spec({ numbers: [n0] }), undefined, ID_A);
    expect(planChanges(unchangedGroup, observations({ [GROUP_A]: [n0] })).physicalId).toBe(ID_A);
  });
});

describe('Delete', () => {
  const previous = spec({ numbers: [n0, n1, n2], peers: [n3] });

  test('reads the declared numbers', () => {
    expect(reads(del(previous))).toEqual([{ groupId: GROUP_A, numbers: [n0, n1, n2], declaredCount: 3 }]);
  });

  test('unbinds only declared numbers still bound; other numbers on the group are left alone', () => {
    const plan = planChanges(del(previous), observations({ [GROUP_A]: [n0, n2, n3, n4] }));
    expect(plan).toEqual({
      physicalId: ID_A,
      groupId: GROUP_A,
      declared: 3,
      unchanged: 1,
      steps: [{ kind: 'disassociate', groupId: GROUP_A, numbers: [n0, n2] }],
    });
  });

  test('drifted: nothing bound any more, no steps', () => {
    expect(planChanges(del(previous), observations({ [GROUP_A]: [] })).steps).toEqual([]);
  });

  test('group gone: nothing to do, no error', () => {
    const plan = planChanges(del(previous), observations({ [GROUP_A]: 'missing' }));
    expect(plan.steps).toEqual([]);
    expect(plan.physicalId).toBe(ID_A);
  });

  test('unreadable properties: no reads, no steps, keeps the physical id', () => {
    expect(requiredReads(del(undefined))).toEqual([]);
    const plan = planChanges(del(undefined, 'some-old-id'), observations({}));
    expect(plan.steps).toEqual([]);
    expect(plan.physicalId).toBe('some-old-id');
  });

  test('Delete answers with the physical id it was sent', () => {
    const plan = planChanges(del(spec({ numbers: [n0] }), ID_A), observations({ [GROUP_A]: [n0] }));
    expect(plan.physicalId).toBe(ID_A);
  });
});

describe('determinism', () => {
  test('the same request and observations always give the same plan', () => {
    const request = update(spec({ group: GROUP_B, numbers: numbers(20, 10) }), spec({ group: GROUP_A, numbers: numbers(20) }));
    const seen = observations({ [GROUP_B]: [phone(12)], [GROUP_A]: numbers(15) });
    expect(planChanges(request, seen)).toEqual(planChanges(request, seen));
  });
});
