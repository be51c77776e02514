/**
 * Issue 6, drift: numbers changed by hand outside the stack, seen and repaired. The real construct, the
 * bundled handler (for deploys and for the scheduled check), the local CloudFormation driver and the Chime
 * SDK Voice emulator; the check reads the deployed template from a local GetTemplate stub on 127.0.0.1.
 */
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ReconcileMode } from '../../src';
import { DRIFT_METRIC_NAME, type DriftCheckInput } from '../../src/binding-properties';
import { withEnv } from '../local-deploy';
import { Decl, groupBinding, nums, STACK_NAME, World } from './support';

jest.setTimeout(120_000);

let world: World;
let cfn: http.Server;
let getTemplateCalls = 0;

/** A CloudFormation GetTemplate stub that answers with the local driver's deployed template, XML as the real API. */
function startCloudFormation(): Promise<string> {
  cfn = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      getTemplateCalls++;
      const params = new URLSearchParams(body);
      const stack = world.driver.getStack(STACK_NAME);
      if (params.get('Action') !== 'GetTemplate' || !stack || params.get('StackName') !== stack.stackId || !req.headers.authorization?.startsWith('AWS4-HMAC-SHA256')) {
        res.writeHead(400).end('<ErrorResponse><Error><Code>ValidationError</Code><Message>Stack does not exist</Message></Error></ErrorResponse>');
        return;
      }
      const escaped = JSON.stringify(stack.template).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
      res.writeHead(200, { 'content-type': 'text/xml' })
        .end(`<GetTemplateResponse><GetTemplateResult><TemplateBody>${escaped}</TemplateBody></GetTemplateResult></GetTemplateResponse>`);
    });
  });
  return new Promise((resolve) => cfn.listen(0, '127.0.0.1', () => resolve(`http://127.0.0.1:${(cfn.address() as AddressInfo).port}`)));
}

beforeAll(async () => {
  const url = await startCloudFormation();
  world = await World.start({ seed: 11, env: { AWS_ENDPOINT_URL_CLOUDFORMATION: url } });
});
afterAll(async () => {
  await world.close();
  await new Promise((resolve) => cfn.close(resolve));
});

interface Check {
  readonly result: { drifted: number; missing: string[]; foreign: string[]; notRepaired: string[]; repaired: number; repairFailed: string[] };
  /** The DriftedPhoneNumbers value of the check's Embedded Metric Format line. */
  readonly metric: number;
  readonly calls: number;
}

/** Runs the scheduled check as the EventBridge rule would (same bundle, its event shape). */
async function check(logicalId: string, group: string, repair: boolean): Promise<Check> {
  const stackId = world.driver.getStack(STACK_NAME)!.stackId;
  const input: DriftCheckInput = { StackId: stackId, LogicalId: logicalId, VoiceConnectorGroupId: group, Repair: repair };
  world.emu.control.clearCalls();
  const before = world.containers.output.length;
  const result = await withEnv(world.env, () => world.containers.invokeRaw({ DriftCheck: input })) as Check['result'];
  let emf: { [DRIFT_METRIC_NAME]: number; _aws: unknown } | undefined;
  for (let i = 0; i < 100 && !emf; i++) {
    emf = world.containers.output.slice(before).map((l) => { try { return JSON.parse(l); } catch { return undefined; } }).find((l) => l?._aws);
    if (!emf) await new Promise((r) => setTimeout(r, 10));
  }
  expect(emf?._aws).toMatchObject({ CloudWatchMetrics: [{ Namespace: 'ChimeVoiceConnectorGroups', Dimensions: [['VoiceConnectorGroupId']] }] });
  return { result, metric: emf![DRIFT_METRIC_NAME], calls: world.calls.length };
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
  const update = result.events.find((e) => e.logicalResourceId === result.logicalIds.Line)!;
  expect(update.data).toMatchObject({ DriftReboundCount: 1, DriftUnboundCount: 0, DriftNotRepairedCount: 1 });
  world.expectState({ [a]: pool.slice(1, 4) }, { overrides: { [pool[0]]: groupBinding(other), [spare]: groupBinding(a) } });
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
  const update = result.events.find((e) => e.logicalResourceId === result.logicalIds.Line)!;
  expect(update.data).toMatchObject({ DriftReboundCount: 2, DriftUnboundCount: 1, DriftNotRepairedCount: 0 });
  world.expectState({ [a]: pool.slice(0, 4) }, { released: [world.account.foreignOnA, spare] });
});

test('ON_CHANGE (default): a redeploy sees nothing; exclusive on-change removes foreign numbers on its next Update', async () => {
  const { groups: { a, other }, pool, spare } = await world.reset();
  expect((await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 4) }])).status).toBe('CREATE_COMPLETE');
  makeDrift();
  const again = await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 4) }]);
  expect(again.events).toEqual([]);
  world.expectState({ [a]: pool.slice(2, 4) }, { overrides: { [pool[0]]: groupBinding(other), [pool[1]]: null, [spare]: groupBinding(a) } });

  const exclusive = await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 4), exclusive: true }]);
  expect(exclusive.status).toBe('UPDATE_COMPLETE');
  world.expectState({ [a]: pool.slice(1, 4) }, { released: [world.account.foreignOnA, spare], overrides: { [pool[0]]: groupBinding(other) } });
});

test('scheduled check without repair only reports: metric counts all three cases (exclusive), nothing is written', async () => {
  const { groups: { a, other }, pool, spare, foreignOnA } = await world.reset();
  world.emu.control.unbind(foreignOnA);
  world.rebaseline();
  const { logicalIds } = await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 4), exclusive: true, driftDetection: {} }]);
  const clean = await check(logicalIds.Line, a, false);
  expect(clean.metric).toBe(0);
  makeDrift();

  const found = await check(logicalIds.Line, a, false);
  expect(found.metric).toBe(3);
  expect(found.result).toMatchObject({ missing: [pool[0], pool[1]], foreign: [spare], notRepaired: [pool[0]], repaired: 0 });
  expect(world.writtenNumbers()).toEqual(new Set());
  world.expectState({ [a]: pool.slice(2, 4) }, { overrides: { [pool[0]]: groupBinding(other), [pool[1]]: null, [spare]: groupBinding(a) } });
});

test('scheduled check with repair: rebinds the unbound number, unbinds the foreign one, leaves the moved one without forceAssociate', async () => {
  const { groups: { a, other }, pool, spare, foreignOnA } = await world.reset();
  world.emu.control.unbind(foreignOnA);
  world.rebaseline();
  const { logicalIds } = await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 4), exclusive: true, driftDetection: { repair: true } }]);
  makeDrift();

  const repaired = await check(logicalIds.Line, a, true);
  expect(repaired.metric).toBe(3);
  expect(repaired.result).toMatchObject({ repaired: 2, notRepaired: [pool[0]], repairFailed: [] });
  world.expectState({ [a]: pool.slice(1, 4) }, { released: [spare], overrides: { [pool[0]]: groupBinding(other) } });
  expect((await check(logicalIds.Line, a, true)).metric).toBe(1);
});

test('scheduled check with repair and forceAssociate takes the moved number back; non-exclusive leaves the foreign number', async () => {
  const { groups: { a }, pool, spare } = await world.reset();
  const { logicalIds } = await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 4), forceAssociate: true, driftDetection: { repair: true } }]);
  makeDrift();

  const repaired = await check(logicalIds.Line, a, true);
  expect(repaired.metric).toBe(2);
  expect(repaired.result).toMatchObject({ repaired: 2, foreign: [], notRepaired: [] });
  world.expectState({ [a]: [...pool.slice(0, 4), spare] });
  expect((await check(logicalIds.Line, a, true)).metric).toBe(0);
});

test('exclusive with siblings: numbers another construct of the stack declares are never foreign', async () => {
  const { groups: { a }, pool, foreignOnA } = await world.reset();
  const { logicalIds } = await world.deploy([
    { id: 'Line1', group: a, numbers: pool.slice(0, 2), exclusive: true, driftDetection: { repair: true } },
    { id: 'Line2', group: a, numbers: pool.slice(2, 4), exclusive: true },
  ]);
  world.expectState({ [a]: pool.slice(0, 4) }, { released: [foreignOnA] });
  const result = await check(logicalIds.Line1, a, true);
  expect(result.metric).toBe(0);
  expect(world.writtenNumbers()).toEqual(new Set());
});

test('5,000 declared numbers: one check end to end, and its cost in API calls', async () => {
  const { groups: { a } } = await world.reset();
  const many = nums(2000, 5000);
  world.emu.control.seedNumbers(many);
  world.rebaseline();
  const { status, logicalIds } = await world.deploy([{ id: 'Big', group: a, numbers: many, driftDetection: { repair: true } }]);
  expect(status).toBe('CREATE_COMPLETE');
  getTemplateCalls = 0;
  const clean = await check(logicalIds.Big, a, true);
  expect(clean.metric).toBe(0);
  // ceil((5,000 + 1 foreign) / 100) ListPhoneNumbers pages, one GetTemplate, nothing else.
  expect(clean.calls).toBe(51);
  expect(getTemplateCalls).toBe(1);

  world.emu.control.unbind(many[17]);
  world.emu.control.unbind(many[4000]);
  const drifted = await check(logicalIds.Big, a, true);
  expect(drifted.metric).toBe(2);
  // 50 pages, a GetPhoneNumber per missing number, one association call for both.
  expect(drifted.calls).toBe(50 + 2 + 1);
  expect(world.emu.control.groupNumbers(a)).toHaveLength(5001);
  // eslint-disable-next-line no-console
  console.log(`drift check of 5,000 numbers: ${clean.calls} Chime SDK Voice calls + 1 GetTemplate when clean; ${drifted.calls} + 1 with 2 numbers repaired`);
});
