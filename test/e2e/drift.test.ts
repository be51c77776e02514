/**
 * Drift: numbers changed by hand outside the stack, seen and repaired. The real construct, the bundled
 * handlers (for deploys and for the scheduled check), the local CloudFormation driver (whose control
 * plane serves the check's DescribeStacks and GetTemplate) and the Chime SDK Voice emulator.
 */
import { Decl, groupBinding, nums, STACK_NAME, World } from './support';
import { ReconcileMode } from '../../src';
import { BINDING_RESOURCE_TYPE, canonicalJson, DRIFT_METRIC_NAME, type DriftCheckInput } from '../../src/binding-properties';
import { withEnv } from '../../tools/local-deploy';

jest.setTimeout(120_000);

let world: World;

beforeAll(async () => {
  world = await World.start({ seed: 11 });
});
afterAll(async () => world.close());

interface Check {
  readonly result: {
    skipped?: string; drifted: number; missing: string[]; foreign: string[]; notRepaired: string[]; repaired: number; repairFailed: string[];
  };
  /** The DriftedPhoneNumbers value of the check's Embedded Metric Format line (undefined when the check was skipped). */
  readonly metric?: number;
  readonly calls: number;
}

/** Runs the scheduled check of a group as the EventBridge rule would (its own bundle, the rule's input). */
async function check(group: string, repair: boolean): Promise<Check> {
  const stackId = world.driver.getStack(STACK_NAME)!.stackId;
  const input: DriftCheckInput = {
    StackId: stackId, VoiceConnectorGroupId: group, GroupKeys: [{ Key: canonicalJson(group), Id: group }], Repair: repair,
  };
  world.emu.control.clearCalls();
  const before = world.containers.output.length;
  const env = { ...world.env, AWS_ENDPOINT_URL_CLOUDFORMATION: await world.driver.controlPlane.endpoint() };
  const result = await withEnv(env, () => world.containers.invokeRaw({ DriftCheck: input })) as Check['result'];
  let emf: { [DRIFT_METRIC_NAME]: number; _aws: unknown } | undefined;
  for (let i = 0; i < 50 && !emf && !result.skipped; i++) {
    emf = world.containers.output.slice(before).map((l) => { try { return JSON.parse(l); } catch { return undefined; } }).find((l) => l?._aws);
    if (!emf) await new Promise((r) => setTimeout(r, 10));
  }
  if (!result.skipped) expect(emf?._aws).toMatchObject({ CloudWatchMetrics: [{ Namespace: 'ChimeVoiceConnectorGroups', Dimensions: [['VoiceConnectorGroupId']] }] });
  return { result, metric: emf?.[DRIFT_METRIC_NAME], calls: world.calls.length };
}

function repairData(result: { events: ReadonlyArray<{ resourceType: string; data?: Record<string, unknown> }> }): Record<string, number> {
  const sum: Record<string, number> = {};
  for (const e of result.events.filter((x) => x.resourceType === BINDING_RESOURCE_TYPE)) {
    for (const key of ['DriftReboundCount', 'DriftUnboundCount', 'DriftNotRepairedCount']) sum[key] = (sum[key] ?? 0) + Number(e.data?.[key] ?? 0);
  }
  return sum;
}

/** The three drift cases on one group: pool[0] moved to someone else's group, pool[1] unbound, a foreign number bound to the group. */
function makeDrift(): { moved: string; unbound: string } {
  const { groups: { a, other }, pool, spare } = world.account;
  world.emu.control.unbind(pool[0]);
  world.emu.control.bind(pool[0], 'VoiceConnectorGroupId', other);
  world.emu.control.unbind(pool[1]);
  world.emu.control.bind(spare, 'VoiceConnectorGroupId', a);
  return { moved: pool[0], unbound: pool[1] };
}

test('EVERY_DEPLOY: a redeploy of the same app rebinds the unbound number, leaves the moved one (no forceAssociate) and the foreign one', async () => {
  const { groups: { a, other }, pool, spare } = await world.reset();
  const decls: Decl[] = [{ id: 'Line', group: a, numbers: pool.slice(0, 4), reconcile: ReconcileMode.EVERY_DEPLOY }];
  expect((await world.deploy(decls)).status).toBe('CREATE_COMPLETE');
  makeDrift();

  const result = await world.deploy(decls);
  expect(result.failure).toBeUndefined();
  expect(result.status).toBe('UPDATE_COMPLETE');
  expect(repairData(result)).toEqual({ DriftReboundCount: 1, DriftUnboundCount: 0, DriftNotRepairedCount: 1 });
  world.expectState({ [a]: pool.slice(1, 4) }, { overrides: { [pool[0]]: groupBinding(other), [spare]: groupBinding(a) } });
});

test('EVERY_DEPLOY: a declared number that left the inventory fails the deploy, and the rollback still completes', async () => {
  const { groups: { a }, pool } = await world.reset();
  const decls: Decl[] = [{ id: 'Line', group: a, numbers: pool.slice(0, 4), reconcile: ReconcileMode.EVERY_DEPLOY }];
  expect((await world.deploy(decls)).status).toBe('CREATE_COMPLETE');
  // Released from the account by hand (or ported away); it is still in the code.
  world.emu.control.removeNumber(pool[1]);
  world.emu.control.unbind(pool[2]);
  world.rebaseline();

  const result = await world.deploy([...decls, { id: 'More', group: a, numbers: [pool[4]] }]);
  expect(result.failure).toContain(`${pool[1]}: NotFound`);
  expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
  // The new construct's number is unbound again; the rest is as it was before the deploy.
  expect(world.emu.control.getBinding(pool[4])).toBeNull();
  expect(world.emu.control.getBinding(pool[0])).toEqual(groupBinding(a));
});

test('EVERY_DEPLOY + exclusive + forceAssociate: a redeploy repairs all three cases', async () => {
  const { groups: { a }, pool, spare } = await world.reset();
  const decls: Decl[] = [{ id: 'Line', group: a, numbers: pool.slice(0, 4), reconcile: ReconcileMode.EVERY_DEPLOY, exclusive: true, forceAssociate: true }];
  // Create of an exclusive resource already unbinds what was on the group before (foreignOnA).
  expect((await world.deploy(decls)).status).toBe('CREATE_COMPLETE');
  world.expectState({ [a]: pool.slice(0, 4) }, { released: [world.account.foreignOnA] });
  makeDrift();

  const result = await world.deploy(decls);
  expect(result.status).toBe('UPDATE_COMPLETE');
  expect(repairData(result)).toEqual({ DriftReboundCount: 2, DriftUnboundCount: 1, DriftNotRepairedCount: 0 });
  world.expectState({ [a]: pool.slice(0, 4) }, { released: [world.account.foreignOnA, spare] });
});

test('EVERY_DEPLOY + exclusive without forceAssociate (the group is listed): the moved number is looked up, reported and left; the deploy succeeds', async () => {
  const { groups: { a, other }, pool, spare } = await world.reset();
  const decls: Decl[] = [{ id: 'Line', group: a, numbers: pool.slice(0, 4), reconcile: ReconcileMode.EVERY_DEPLOY, exclusive: true }];
  expect((await world.deploy(decls)).status).toBe('CREATE_COMPLETE');
  makeDrift();
  world.rebaseline();

  const result = await world.deploy(decls);
  expect(result.failure).toBeUndefined();
  expect(result.status).toBe('UPDATE_COMPLETE');
  expect(repairData(result)).toEqual({ DriftReboundCount: 1, DriftUnboundCount: 1, DriftNotRepairedCount: 1 });
  expect(world.emu.control.getBinding(pool[0])).toEqual(groupBinding(other));
  expect(world.emu.control.getBinding(pool[1])).toEqual(groupBinding(a));
  expect(world.emu.control.getBinding(spare)).toBeNull();
});

test('exclusive: numbers a failed deploy unbound from the group because the stack does not declare them are bound again by the rollback', async () => {
  const { groups: { a }, pool, spare, notInInventory } = await world.reset();
  const decls: Decl[] = [{ id: 'Line', group: a, numbers: pool.slice(0, 2), exclusive: true }];
  expect((await world.deploy(decls)).status).toBe('CREATE_COMPLETE');
  world.emu.control.bind(spare, 'VoiceConnectorGroupId', a);
  world.rebaseline();

  // The update unbinds spare (foreign on an exclusive group); another construct fails; the rollback is exact.
  const result = await world.deploy([{ ...decls[0], numbers: pool.slice(0, 3) }, { id: 'Broken', group: a, numbers: [notInInventory], exclusive: true }], { order: 'topological' });
  expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
  world.expectState({ [a]: pool.slice(0, 2) });
  expect(world.emu.control.getBinding(spare)).toEqual(groupBinding(a));
});

test('ON_CHANGE (default): a redeploy sees nothing; making the group exclusive unbinds what the stack does not declare on it', async () => {
  const { groups: { a, other }, pool, spare } = await world.reset();
  expect((await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 4) }])).status).toBe('CREATE_COMPLETE');
  makeDrift();
  const again = await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 4) }]);
  expect(again.events).toEqual([]);
  world.expectState({ [a]: pool.slice(2, 4) }, { overrides: { [pool[0]]: groupBinding(other), [pool[1]]: null, [spare]: groupBinding(a) } });

  // Every shard is created or updated (each learns the group is exclusive) and unbinds the foreign
  // numbers that hash to it; the drifted declared numbers are not touched (no every-deploy repair).
  const exclusive = await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 4), exclusive: true }]);
  expect(exclusive.status).toBe('UPDATE_COMPLETE');
  world.expectState({ [a]: pool.slice(2, 4) }, {
    released: [world.account.foreignOnA, spare], overrides: { [pool[0]]: groupBinding(other), [pool[1]]: null },
  });
});

test('scheduled check without repair only reports: metric counts all three cases (exclusive), nothing is written', async () => {
  const { groups: { a, other }, pool, spare, foreignOnA } = await world.reset();
  world.emu.control.unbind(foreignOnA);
  world.rebaseline();
  await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 4), exclusive: true, driftDetection: {} }]);
  const clean = await check(a, false);
  expect(clean.metric).toBe(0);
  makeDrift();

  const found = await check(a, false);
  expect(found.metric).toBe(3);
  expect(found.result).toMatchObject({ missing: [pool[0], pool[1]], foreign: [spare], notRepaired: [pool[0]], repaired: 0 });
  expect(world.writtenNumbers()).toEqual(new Set());
  world.expectState({ [a]: pool.slice(2, 4) }, { overrides: { [pool[0]]: groupBinding(other), [pool[1]]: null, [spare]: groupBinding(a) } });
});

test('scheduled check with repair: rebinds the unbound number, unbinds the foreign one, leaves the moved one without forceAssociate', async () => {
  const { groups: { a, other }, pool, spare, foreignOnA } = await world.reset();
  world.emu.control.unbind(foreignOnA);
  world.rebaseline();
  await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 4), exclusive: true, driftDetection: { repair: true } }]);
  makeDrift();

  const repaired = await check(a, true);
  expect(repaired.metric).toBe(3);
  expect(repaired.result).toMatchObject({ repaired: 2, notRepaired: [pool[0]], repairFailed: [] });
  world.expectState({ [a]: pool.slice(1, 4) }, { released: [spare], overrides: { [pool[0]]: groupBinding(other) } });
  expect((await check(a, true)).metric).toBe(1);
});

test('scheduled check with repair and forceAssociate takes the moved number back; non-exclusive leaves the foreign number', async () => {
  const { groups: { a }, pool, spare } = await world.reset();
  await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 4), forceAssociate: true, driftDetection: { repair: true } }]);
  makeDrift();

  const repaired = await check(a, true);
  expect(repaired.metric).toBe(2);
  expect(repaired.result).toMatchObject({ repaired: 2, foreign: [], notRepaired: [] });
  world.expectState({ [a]: [...pool.slice(0, 4), spare] });
  expect((await check(a, true)).metric).toBe(0);
});

test('exclusive with siblings: numbers another construct of the stack declares are never foreign', async () => {
  const { groups: { a }, pool, foreignOnA } = await world.reset();
  await world.deploy([
    { id: 'Line1', group: a, numbers: pool.slice(0, 2), exclusive: true, driftDetection: { repair: true } },
    { id: 'Line2', group: a, numbers: pool.slice(2, 4), exclusive: true },
  ]);
  world.expectState({ [a]: pool.slice(0, 4) }, { released: [foreignOnA] });
  const result = await check(a, true);
  expect(result.metric).toBe(0);
  expect(world.writtenNumbers()).toEqual(new Set());
});

test('5,000 declared numbers: one check end to end, and its cost in API calls', async () => {
  const { groups: { a } } = await world.reset();
  const many = nums(2000, 5000);
  world.emu.control.seedNumbers(many);
  world.rebaseline();
  const { status } = await world.deploy([{ id: 'Big', group: a, numbers: many, driftDetection: { repair: true } }]);
  expect(status).toBe('CREATE_COMPLETE');
  world.driver.controlPlane.calls.length = 0;
  const clean = await check(a, true);
  expect(clean.metric).toBe(0);
  // ceil((5,000 + 1 foreign) / 100) ListPhoneNumbers pages, one DescribeStacks and one GetTemplate, nothing else.
  expect(clean.calls).toBe(51);
  expect(world.driver.controlPlane.calls.map((c) => c.action)).toEqual(['DescribeStacks', 'GetTemplate']);

  world.emu.control.unbind(many[17]);
  world.emu.control.unbind(many[4000]);
  const drifted = await check(a, true);
  expect(drifted.metric).toBe(2);
  // 50 pages, a GetPhoneNumber per missing number, one association call for both.
  expect(drifted.calls).toBe(50 + 2 + 1);
  expect(world.emu.control.groupNumbers(a)).toHaveLength(5001);
  // eslint-disable-next-line no-console
  console.log(`drift check of 5,000 numbers: ${clean.calls} Chime SDK Voice calls + 1 GetTemplate when clean; ${drifted.calls} + 1 with 2 numbers repaired`);
});

test('while the stack is being deployed or rolled back, the check does nothing and says so', async () => {
  const { groups: { a }, pool } = await world.reset();
  await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 4), driftDetection: { repair: true } }]);
  world.emu.control.unbind(pool[0]);
  const record = (world.driver as unknown as { stacks: Map<string, { status: string }> }).stacks.get(STACK_NAME)!;
  for (const status of ['UPDATE_IN_PROGRESS', 'UPDATE_ROLLBACK_IN_PROGRESS', 'UPDATE_ROLLBACK_FAILED']) {
    record.status = status;
    const skipped = await check(a, true);
    expect(skipped.result.skipped).toContain(status);
    expect(skipped.calls).toBe(0);
  }
  // A failed deploy that rolled back settles: the checks go on, against the template rolled back to.
  record.status = 'UPDATE_ROLLBACK_COMPLETE';
  expect((await check(a, true)).result.repaired).toBe(1);
  world.emu.control.unbind(pool[1]);
  record.status = 'UPDATE_COMPLETE';
  expect((await check(a, true)).result.repaired).toBe(1);
});
