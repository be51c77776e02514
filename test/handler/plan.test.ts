import { GROUP_A, GROUP_B, numbers, props, type EntryInput } from './fixtures';
import {
  currentOwner, forwardReads, ONE_BY_ONE_PER_GROUP, planCautiousRollback, planDelete, planForward, planReads, planRestore, type Readings,
} from '../../lambda/phone-numbers/plan';
import type { Owner } from '../../lambda/phone-numbers/record';
import { parseSpec, type ShardSpec } from '../../lambda/phone-numbers/request';

const context = { requestType: 'Update', logicalId: 'X' };
const spec = (entries: readonly EntryInput[], exclusive?: readonly string[]): ShardSpec => parseSpec(props(entries, { exclusive }), context);
const group = (id: string): Owner => ({ kind: 'group', id });
const vc = (id: string): Owner => ({ kind: 'voiceConnector', id });

/** Readings of numbers read one by one (null: unbound) and of listed groups. */
function readings(owners: Record<string, Owner | null>, groups: Record<string, readonly string[]> = {}): Readings {
  return {
    owners: new Map(Object.entries(owners)),
    groups: new Map(Object.entries(groups).map(([g, n]) => [g, new Set(n)])),
    missingGroups: new Set(),
  };
}

const [n1, n2, n3, n4, n5] = numbers(5);

describe('planForward', () => {
  test('Create: binds the unbound, adopts what is already on its group, records where each bound number was', () => {
    const plan = planForward(spec([{ numbers: [n1, n2, n3] }]), undefined, readings({ [n1]: null, [n2]: group(GROUP_A), [n3]: null }));
    expect(plan.steps).toEqual([{ kind: 'associate', target: group(GROUP_A), numbers: [n1, n3], force: false }]);
    expect(plan.prior).toEqual(new Map([[n1, { kind: 'unbound' }], [n3, { kind: 'unbound' }]]));
    expect(plan.counts.unchanged).toBe(1);
    expect(plan.refused).toEqual([]);
  });

  test('a number bound elsewhere is refused without forceAssociate (no step at all), taken with it (owner recorded)', () => {
    const refused = planForward(spec([{ numbers: [n1, n2] }]), undefined, readings({ [n1]: null, [n2]: vc('vc-1') }));
    expect(refused.refused).toEqual([{ number: n2, groupId: GROUP_A, owner: vc('vc-1') }]);
    expect(refused.steps).toEqual([]);
    const taken = planForward(spec([{ numbers: [n1, n2], force: true }]), undefined, readings({ [n1]: null, [n2]: vc('vc-1') }));
    expect(taken.steps).toEqual([
      { kind: 'associate', target: group(GROUP_A), numbers: [n1], force: false },
      { kind: 'associate', target: group(GROUP_A), numbers: [n2], force: true },
    ]);
    expect(taken.prior.get(n2)).toEqual({ kind: 'owned', owner: vc('vc-1') });
  });

  test('Update: unchanged numbers are not even read; added are bound, removed unbound (only if still on their group), moved forced', () => {
    const before = spec([{ numbers: [n1, n2, n3] }, { numbers: [n4], group: GROUP_B }]);
    const after = spec([{ numbers: [n1, n5] }, { numbers: [n3, n4], group: GROUP_B }]);
    expect(forwardReads(after, before)).toEqual({ numbers: [n2, n3, n5].sort(), groups: [] });
    const plan = planForward(after, before, readings({ [n2]: group(GROUP_A), [n3]: group(GROUP_A), [n5]: null }));
    expect(plan.steps).toEqual([
      { kind: 'associate', target: group(GROUP_A), numbers: [n5], force: false },
      { kind: 'associate', target: group(GROUP_B), numbers: [n3], force: true },
      { kind: 'disassociate', groupId: GROUP_A, numbers: [n2] },
    ]);
    expect(plan.prior).toEqual(new Map([[n3, { kind: 'owned', owner: group(GROUP_A) }], [n5, { kind: 'unbound' }]]));
    expect(plan.unbound).toEqual(new Map([[n2, GROUP_A]]));
    const drifted = planForward(after, before, readings({ [n2]: group('someone-else'), [n3]: group(GROUP_A), [n5]: null }));
    expect(drifted.unbound.size).toBe(0);
  });

  test('a moved number that is no longer on its old group is not forced: someone else holds it', () => {
    const before = spec([{ numbers: [n1] }]);
    const after = spec([{ numbers: [n1], group: GROUP_B }]);
    expect(planForward(after, before, readings({ [n1]: group('someone-else') })).refused).toEqual([{ number: n1, groupId: GROUP_B, owner: group('someone-else') }]);
  });

  test('RETAIN: a removed retained number is left bound and counted', () => {
    const before = spec([{ numbers: [n1, n2], retain: true }]);
    const after = spec([{ numbers: [n1], retain: true }]);
    expect(forwardReads(after, before).numbers).toEqual([]);
    const plan = planForward(after, before, readings({}));
    expect(plan.steps).toEqual([]);
    expect(plan.counts.retained).toBe(1);
  });

  test('EVERY_DEPLOY reads unchanged numbers and repairs them: rebinds the unbound, takes back with force, reports the rest', () => {
    const before = spec([{ numbers: [n1, n2, n3], everyDeploy: true }]);
    const after = spec([{ numbers: [n1, n2, n3], everyDeploy: true }]);
    expect(forwardReads(after, before).numbers).toEqual([n1, n2, n3].sort());
    const plan = planForward(after, before, readings({ [n1]: group(GROUP_A), [n2]: null, [n3]: vc('vc-1') }));
    expect(plan.steps).toEqual([{ kind: 'associate', target: group(GROUP_A), numbers: [n2], force: false }]);
    expect(plan.notRepaired).toEqual([{ number: n3, owner: vc('vc-1') }]);
    expect(plan.counts.rebound).toBe(1);
  });

  test('exclusive: numbers on the group that hash to this shard and that the stack does not declare for it are unbound, and recorded for a rollback', () => {
    const [foreign, otherShard] = [numbers(1, 9)[0], '+12065550100'];
    const mine = spec([{ numbers: [n1] }], [GROUP_A]);
    const plan = planForward(mine, undefined, readings({ [n1]: group(GROUP_A) }, { [GROUP_A]: [n1, foreign, otherShard] }));
    expect(plan.steps).toEqual([{ kind: 'disassociate', groupId: GROUP_A, numbers: [foreign] }]);
    expect([...plan.unbound]).toEqual([[foreign, GROUP_A]]);
    expect(plan.counts.foreign).toBe(1);
  });
});

describe('reads', () => {
  test(`numbers are read one by one up to ${ONE_BY_ONE_PER_GROUP} per group; past that the group is listed; numbers to take are always read one by one`, () => {
    const few = new Map(numbers(ONE_BY_ONE_PER_GROUP).map((n) => [n, [GROUP_A]] as const));
    expect(planReads(few, new Set())).toEqual({ numbers: [...few.keys()].sort(), groups: [] });
    const many = new Map(numbers(ONE_BY_ONE_PER_GROUP + 2).map((n) => [n, [GROUP_A]] as const));
    const forced = [...many.keys()][0];
    expect(planReads(many, new Set([forced]))).toEqual({ numbers: [forced], groups: [GROUP_A] });
  });

  test('a listing answers for the numbers on the listed groups; others stay unknown', () => {
    const r = readings({}, { [GROUP_A]: [n1] });
    expect(currentOwner(r, n1)).toEqual(group(GROUP_A));
    expect(currentOwner(r, n2)).toBeUndefined();
  });
});

describe('planRestore: back to where each number was before the event, as far as it still is where the event put it', () => {
  const declared = spec([{ numbers: [n1, n2, n3, n4] }]);
  const record = {
    shard: 5,
    fingerprint: 'fp',
    from: '',
    prior: new Map([
      [n1, { kind: 'unbound' } as const],
      [n2, { kind: 'owned', owner: vc('vc-1') } as const],
      [n3, { kind: 'owned', owner: group(GROUP_B) } as const],
    ]),
    unbound: new Map([[n5, GROUP_B]]),
  };

  test('unbinds what it bound, hands back what it took, rebinds what it unbound; adopted numbers (no entry) stay', () => {
    const { steps, unrestored } = planRestore(
      record, declared, readings({ [n1]: group(GROUP_A), [n2]: group(GROUP_A), [n3]: group(GROUP_A), [n5]: null }),
    );
    expect(steps).toEqual([
      { kind: 'disassociate', groupId: GROUP_A, numbers: [n1] },
      { kind: 'associate', target: vc('vc-1'), numbers: [n2], force: true },
      { kind: 'associate', target: group(GROUP_B), numbers: [n3], force: true },
      { kind: 'associate', target: group(GROUP_B), numbers: [n5], force: false },
    ]);
    expect(unrestored).toEqual([]);
  });

  test('run again once restored, it does nothing (safe whether CloudFormation sends an Update, a Delete, or both)', () => {
    const { steps } = planRestore(record, declared, readings({ [n1]: null, [n2]: vc('vc-1'), [n3]: group(GROUP_B), [n5]: group(GROUP_B) }));
    expect(steps).toEqual([]);
  });

  test('a number someone else took since is left there and reported', () => {
    const { steps, unrestored } = planRestore(record, declared, readings({ [n1]: null, [n2]: group('third'), [n3]: group(GROUP_B), [n5]: group('third') }));
    expect(steps).toEqual([]);
    expect(unrestored.map((u) => u.number).sort()).toEqual([n2, n5].sort());
  });
});

describe('planDelete and planCautiousRollback', () => {
  test('Delete unbinds every declared number from its group without reading, except RETAIN', () => {
    const previous = spec([{ numbers: [n2, n1] }, { numbers: [n3], retain: true }, { numbers: [n4], group: GROUP_B }]);
    expect(planDelete(previous)).toEqual({
      steps: [{ kind: 'disassociate', groupId: GROUP_A, numbers: [n1, n2].sort() }, { kind: 'disassociate', groupId: GROUP_B, numbers: [n4] }], retained: 1,
    });
  });

  test('without the failed event\'s record, a rollback only rebinds unbound numbers of the old declaration; it never unbinds or takes', () => {
    const restored = spec([{ numbers: [n1, n2] }]);
    const failed = spec([{ numbers: [n2, n3] }]);
    expect(planCautiousRollback(restored, failed, readings({ [n1]: null }))).toEqual([
      { kind: 'associate', target: group(GROUP_A), numbers: [n1], force: false },
    ]);
  });
});
