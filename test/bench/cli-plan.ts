/**
 * `cdk-chime-vcg plan` at stack scale: one stack of N numbers over two groups, against the emulator with
 * the bench's latency. Plans a first deploy (every number to bind), deploys it with the local driver, plans
 * the same app again (nothing to do), then an app that moves 100 numbers between the groups. For each plan:
 * wall time, Chime SDK Voice calls by operation, the JSON plan's size, and whether the plan matched what
 * the deploy then did. Plans only read; the deploy between them is not timed here (stack-scale.ts is).
 *
 * Run alone with `npx ts-node --project test/tsconfig.json test/bench/cli-plan.ts [N ...]`; `npx projen
 * bench` runs it as one of its sections.
 */
import { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import { App, Stack } from 'aws-cdk-lib';
import { benchNumber } from './workload';
import { VoiceConnectorGroupPhoneNumbers } from '../../src';
import { localStateSource, plan, type PlanResult } from '../../tools/cli/plan';
import { startEmulator, type Emulator } from '../../tools/emulator';
import { LIBRARY_HANDLERS, LocalDeployDriver, synthApp, type StackTemplate } from '../../tools/local-deploy';

export const CLI_PLAN_SIZES = [1_000, 20_000];
const MOVED = 100;

export interface CliPlanRow {
  readonly n: number;
  readonly phase: 'first deploy' | 'no change' | `move ${number} a->b`;
  readonly wallMs: number;
  readonly calls: Readonly<Record<string, number>>;
  readonly jsonBytes: number;
  /** Changes by action, as planned. */
  readonly planned: Readonly<Record<string, number>>;
  /** Whether the deploy that followed changed exactly the planned numbers (undefined: no deploy followed). */
  readonly matchedDeploy?: boolean;
}

function build(n: number, groups: { a: string; b: string }, moved: number): StackTemplate {
  const app = new App();
  const stack = new Stack(app, 'PlanScale');
  const numbers = Array.from({ length: n }, (_, i) => benchNumber(i));
  const half = Math.floor(n / 2);
  new VoiceConnectorGroupPhoneNumbers(stack, 'Sales', { voiceConnectorGroupId: groups.a, phoneNumbers: numbers.slice(0, half - moved) });
  new VoiceConnectorGroupPhoneNumbers(stack, 'Support', { voiceConnectorGroupId: groups.b, phoneNumbers: numbers.slice(half - moved) });
  return synthApp(app)[0];
}

function counts(result: PlanResult): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of result.stacks.flatMap((s) => s.changes)) out[c.action] = (out[c.action] ?? 0) + 1;
  out.unchanged = result.stacks.reduce((n, s) => n + s.unchanged, 0);
  return out;
}

export async function runCliPlan(emu: Emulator, n: number, latencyMs: number): Promise<CliPlanRow[]> {
  emu.control.reset();
  emu.control.seedNumbers(Array.from({ length: n }, (_, i) => benchNumber(i)));
  const groups = {
    a: emu.control.createGroup({ name: `plan-a-${n}` }).VoiceConnectorGroupId!,
    b: emu.control.createGroup({ name: `plan-b-${n}` }).VoiceConnectorGroupId!,
  };
  emu.control.setFaults({ latencyMs });
  const client = new ChimeSDKVoiceClient({ region: 'us-east-1', endpoint: emu.url, credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' } });
  const driver = new LocalDeployDriver({
    handlers: LIBRARY_HANDLERS,
    env: { AWS_ENDPOINT_URL_CHIME_SDK_VOICE: emu.url, AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', LOG_LEVEL: 'ERROR' },
    order: 'parallel',
  });
  const rows: CliPlanRow[] = [];
  const timedPlan = async (phase: CliPlanRow['phase'], template: StackTemplate): Promise<PlanResult> => {
    emu.control.clearCalls();
    const started = process.hrtime.bigint();
    const result = await plan([template], { client, region: 'us-east-1', source: localStateSource(driver.exportState()), parameters: {} });
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    const calls: Record<string, number> = {};
    for (const c of emu.control.getCalls()) calls[c.operation] = (calls[c.operation] ?? 0) + 1;
    rows.push({ n, phase, wallMs, calls, jsonBytes: Buffer.byteLength(JSON.stringify(result)), planned: counts(result) });
    return result;
  };
  /** Deploys and checks that the numbers whose group changed are exactly the planned binds, moves and unbinds. */
  const deployAndCompare = async (template: StackTemplate, planned: PlanResult) => {
    const before = emu.control.getBindings();
    const result = await driver.deploy(template);
    const after = emu.control.getBindings();
    const changed = Object.keys(after).filter((k) => (before[k]?.value ?? null) !== (after[k]?.value ?? null)).sort();
    const expected = planned.stacks.flatMap((s) => s.changes).filter((c) => ['bind', 'move', 'take', 'unbind'].includes(c.action)).map((c) => c.number).sort();
    const row = rows[rows.length - 1] as { matchedDeploy?: boolean };
    row.matchedDeploy = result.status.endsWith('_COMPLETE') && !result.status.includes('ROLLBACK') && JSON.stringify(changed) === JSON.stringify(expected);
  };
  try {
    const first = build(n, groups, 0);
    await deployAndCompare(first, await timedPlan('first deploy', first));
    await timedPlan('no change', first);
    const moved = build(n, groups, MOVED);
    await deployAndCompare(moved, await timedPlan(`move ${MOVED} a->b`, moved));
    return rows;
  } finally {
    emu.control.clearFaults();
    client.destroy();
    await driver.close();
  }
}

export function formatCliPlan(rows: readonly CliPlanRow[]): string[][] {
  return rows.map((r) => [
    r.n.toLocaleString('en-US'),
    r.phase,
    `${(r.wallMs / 1000).toFixed(2)} s`,
    Object.entries(r.calls).map(([op, c]) => `${op} ${c}`).join(', '),
    Object.entries(r.planned).map(([a, c]) => `${a} ${c}`).join(', '),
    `${(r.jsonBytes / 1024).toFixed(0)} KB`,
    r.matchedDeploy === undefined ? '-' : r.matchedDeploy ? 'yes' : 'NO',
  ]);
}

export const CLI_PLAN_HEADER = ['numbers', 'plan', 'wall', 'Chime calls', 'planned', 'JSON plan', 'deploy did exactly that'];

if (require.main === module) {
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  void (async () => {
    const emu = await startEmulator({ seed: 3 });
    try {
      const rows: CliPlanRow[] = [];
      for (const n of sizes.length > 0 ? sizes : CLI_PLAN_SIZES) rows.push(...await runCliPlan(emu, n, 20));
      console.log(CLI_PLAN_HEADER.join(' | '));
      for (const row of formatCliPlan(rows)) console.log(row.join(' | '));
      if (rows.some((r) => r.matchedDeploy === false)) process.exitCode = 1;
    } finally {
      await emu.close();
    }
  })();
}
