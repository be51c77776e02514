/**
 * Stack scale of the sharded model: one stack declaring N numbers over two groups, deployed through the
 * local CloudFormation driver and the real handler bundle against the emulator. Create, then an update
 * that moves 100 numbers from group a to group b, then a stack deletion. For each phase: wall time,
 * events sent, API calls, and the largest event, waiter input (event and onEvent's answer, which Step
 * Functions caps at 256 KB), response Data and physical id, against the limits in DESIGN.md.
 *
 * Run alone with `npx ts-node --project test/tsconfig.json test/bench/stack-scale.ts [N ...]`; `npx projen
 * bench` runs it as one of its sections.
 */
import { App, Stack } from 'aws-cdk-lib';
import { benchNumber } from './workload';
import { VoiceConnectorGroupPhoneNumbers } from '../../src';
import { BINDING_RESOURCE_TYPE } from '../../src/binding-properties';
import { startEmulator, type Emulator } from '../../tools/emulator';
import { LIBRARY_HANDLERS, LocalDeployDriver, MAX_WAITER_INPUT_BYTES, synthApp, type OperationResult } from '../../tools/local-deploy';

export const STACK_SCALE_SIZES = [1_000, 5_000, 20_000];
const STACK = 'ScaleStack';
const MOVED = 100;

export interface StackScalePhase {
  readonly phase: 'Create' | 'Move 100 a->b' | 'Delete';
  readonly status: string;
  readonly wallMs: number;
  readonly events: number;
  readonly calls: number;
  readonly maxEventBytes: number;
  readonly maxWaiterInputBytes: number;
  readonly maxDataBytes: number;
  readonly maxPhysicalIdBytes: number;
  /** Declared numbers not on their group, or numbers on a group the stack does not declare there. */
  readonly wrong: number;
}

export interface StackScaleResult {
  readonly n: number;
  readonly shards: number;
  readonly templateBytes: number;
  readonly resources: number;
  readonly synthMs: number;
  readonly phases: readonly StackScalePhase[];
}

function build(n: number, groups: { a: string; b: string }, moved: number): { template: ReturnType<typeof synthApp>[number]; ms: number } {
  const started = process.hrtime.bigint();
  const app = new App();
  const stack = new Stack(app, STACK);
  const numbers = Array.from({ length: n }, (_, i) => benchNumber(i));
  const half = Math.floor(n / 2);
  const onA = numbers.slice(0, half - moved);
  const onB = [...numbers.slice(half - moved, half), ...numbers.slice(half)];
  new VoiceConnectorGroupPhoneNumbers(stack, 'Sales', { voiceConnectorGroupId: groups.a, phoneNumbers: onA });
  new VoiceConnectorGroupPhoneNumbers(stack, 'Support', { voiceConnectorGroupId: groups.b, phoneNumbers: onB });
  const template = synthApp(app)[0];
  return { template, ms: Number(process.hrtime.bigint() - started) / 1e6 };
}

function wrongBindings(emu: Emulator, n: number, groups: { a: string; b: string }, moved: number, deleted: boolean): number {
  const half = Math.floor(n / 2);
  let wrong = 0;
  const a = new Set(emu.control.groupNumbers(groups.a));
  const b = new Set(emu.control.groupNumbers(groups.b));
  for (let i = 0; i < n; i++) {
    const number = benchNumber(i);
    const want = deleted ? undefined : i < half - moved ? 'a' : 'b';
    if (want === 'a' ? !a.has(number) || b.has(number) : want === 'b' ? !b.has(number) || a.has(number) : a.has(number) || b.has(number)) wrong++;
  }
  return wrong;
}

function measure(phase: StackScalePhase['phase'], result: OperationResult, wallMs: number, calls: number, wrong: number): StackScalePhase {
  const ours = result.events.filter((e) => e.resourceType === BINDING_RESOURCE_TYPE);
  const bytes = (value: unknown) => Buffer.byteLength(typeof value === 'string' ? value : JSON.stringify(value ?? {}), 'utf8');
  return {
    phase,
    status: result.status,
    wallMs,
    events: ours.length,
    calls,
    maxEventBytes: Math.max(0, ...ours.map((e) => bytes(e.event))),
    maxWaiterInputBytes: Math.max(0, ...ours.map((e) => e.waiterInputBytes ?? 0)),
    maxDataBytes: Math.max(0, ...ours.map((e) => bytes(e.data))),
    maxPhysicalIdBytes: Math.max(0, ...ours.map((e) => bytes(e.returnedPhysicalResourceId ?? ''))),
    wrong,
  };
}

export async function runStackScale(emu: Emulator, n: number, latencyMs: number): Promise<StackScaleResult> {
  emu.control.reset();
  emu.control.seedNumbers(Array.from({ length: n }, (_, i) => benchNumber(i)));
  const groups = {
    a: emu.control.createGroup({ name: `scale-a-${n}` }).VoiceConnectorGroupId!,
    b: emu.control.createGroup({ name: `scale-b-${n}` }).VoiceConnectorGroupId!,
  };
  emu.control.setFaults({ latencyMs });
  const driver = new LocalDeployDriver({
    handlers: LIBRARY_HANDLERS,
    env: { AWS_ENDPOINT_URL_CHIME_SDK_VOICE: emu.url, AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', LOG_LEVEL: 'ERROR' },
    order: 'parallel',
  });
  try {
    const first = build(n, groups, 0);
    const moved = build(n, groups, MOVED);
    const phases: StackScalePhase[] = [];
    const steps: Array<{ phase: StackScalePhase['phase']; run: () => Promise<OperationResult>; moved: number; deleted: boolean }> = [
      { phase: 'Create', run: () => driver.deploy(first.template), moved: 0, deleted: false },
      { phase: 'Move 100 a->b', run: () => driver.deploy(moved.template), moved: MOVED, deleted: false },
      { phase: 'Delete', run: () => driver.destroy(STACK), moved: MOVED, deleted: true },
    ];
    for (const step of steps) {
      emu.control.clearCalls();
      const started = process.hrtime.bigint();
      const result = await step.run();
      const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
      const calls = emu.control.getCalls().length;
      phases.push(measure(step.phase, result, wallMs, calls, wrongBindings(emu, n, groups, step.moved, step.deleted)));
    }
    const resources = Object.values(first.template.template.Resources ?? {});
    return {
      n,
      shards: resources.filter((r) => (r as { Type?: string }).Type === BINDING_RESOURCE_TYPE).length,
      templateBytes: Buffer.byteLength(JSON.stringify(first.template.template), 'utf8'),
      resources: resources.length,
      synthMs: first.ms,
      phases,
    };
  } finally {
    emu.control.clearFaults();
    await driver.close();
  }
}

export function stackScaleLimits(): string {
  return `limits: waiter input ${MAX_WAITER_INPUT_BYTES} B, response 4,096 B, physical id 1,024 B, template 1,048,576 B, 500 resources`;
}

if (require.main === module) {
  const sizes = process.argv.slice(2).map(Number).filter((n) => n > 0);
  void (async () => {
    const emu = await startEmulator({ seed: 1 });
    try {
      for (const n of sizes.length > 0 ? sizes : STACK_SCALE_SIZES) {
        const result = await runStackScale(emu, n, 20);
        console.log(JSON.stringify(result));
      }
    } finally {
      await emu.close();
    }
  })();
}
