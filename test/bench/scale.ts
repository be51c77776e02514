/**
 * Deploy, update and destroy runs against the emulator: this library through the local deploy driver
 * and the real bundle, and the two model approaches of ./models.
 */
import { App, Stack } from 'aws-cdk-lib';
import { listHandler, listTemplate, LIST_TYPE, perNumberHandler, perNumberTemplate, PER_NUMBER_TYPE } from './models';
import { Workload } from './workload';
import { VoiceConnectorGroupPhoneNumbers } from '../../src';
import type { CallRecord, Emulator, FaultOptions } from '../../tools/emulator';
import { LIBRARY_HANDLERS, LocalDeployDriver, MAX_RESPONSE_BYTES, synthApp, type OperationResult, type StackTemplate } from '../../tools/local-deploy';

export type Approach = 'library' | 'per-number' | 'aws-custom-resource';
export type PhaseName = 'Create' | 'Update' | 'Delete';

export interface PhaseResult {
  readonly phase: PhaseName;
  readonly status: string;
  readonly failure?: string;
  /** Handler invocations (events the driver sent). */
  readonly invocations: number;
  /** Successful (HTTP 2xx) API calls by operation. */
  readonly calls: Record<string, number>;
  readonly totalCalls: number;
  readonly readCalls: number;
  readonly writeCalls: number;
  /** Requests answered 429 ThrottledClientException. */
  readonly throttled: number;
  /** Other failed requests. */
  readonly otherErrors: number;
  readonly wallMs: number;
  /** Bound to the group but not declared, after this phase (after Delete: anything left on the group). */
  readonly stale: number;
  /** Declared but not bound to the group, after this phase. */
  readonly missing: number;
  /** Size of the largest handler response Data, JSON bytes. */
  readonly dataBytes: number;
}

export interface ScenarioResult {
  readonly approach: Approach;
  readonly n: number;
  readonly profile: string;
  readonly added: number;
  readonly removed: number;
  readonly phases: readonly PhaseResult[];
}

const READS = new Set(['GetPhoneNumber', 'ListPhoneNumbers', 'GetVoiceConnectorGroup']);
const STACK = 'BenchStack';

export function libraryStack(groupId: string, numbers: readonly string[]): StackTemplate {
  const app = new App();
  const stack = new Stack(app, STACK);
  new VoiceConnectorGroupPhoneNumbers(stack, 'Numbers', { voiceConnectorGroupId: groupId, phoneNumbers: [...numbers] });
  return synthApp(app)[0];
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function runScenario(
  emu: Emulator,
  approach: Approach,
  work: Workload,
  profile: { readonly name: string; readonly faults: FaultOptions },
): Promise<ScenarioResult> {
  emu.control.reset();
  emu.control.seedNumbers([...work.initial, ...work.added]);
  const groupId = emu.control.createGroup({ name: `bench-${approach}-${work.n}` }).VoiceConnectorGroupId!;
  emu.control.setFaults(profile.faults);
  const env = { AWS_ENDPOINT_URL_CHIME_SDK_VOICE: emu.url, AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', LOG_LEVEL: 'ERROR' };
  // A new driver is a cold start: the library's bundle is loaded afresh (new SDK client, new rate limiter).
  const driver = new LocalDeployDriver({
    handlers: approach === 'library' ? LIBRARY_HANDLERS
      : approach === 'per-number' ? { [PER_NUMBER_TYPE]: perNumberHandler(emu.url) }
        : { [LIST_TYPE]: listHandler(emu.url) },
    env,
    order: 'parallel',
  });
  const template = (numbers: readonly string[], slots: readonly (string | undefined)[]): StackTemplate => {
    if (approach === 'library') return libraryStack(groupId, numbers);
    return { stackName: STACK, template: approach === 'per-number' ? perNumberTemplate(groupId, slots) : listTemplate(groupId, numbers) };
  };

  const phases: PhaseResult[] = [];
  const steps: { phase: PhaseName; declared: readonly string[]; build?: () => StackTemplate }[] = [
    { phase: 'Create', declared: work.initial, build: () => template(work.initial, work.initial) },
    { phase: 'Update', declared: work.updated, build: () => template(work.updated, work.updatedSlots) },
    { phase: 'Delete', declared: [] },
  ];
  for (const step of steps) {
    // Synthesis is not part of the measured time: the template is built before the clock starts.
    const built = step.build?.();
    if (profile.faults.tpsLimit) await sleep(1100); // start each phase with an empty rate window
    emu.control.clearCalls();
    const started = process.hrtime.bigint();
    const result = built ? await driver.deploy(built) : await driver.destroy(STACK);
    const wallMs = Number(process.hrtime.bigint() - started) / 1e6;
    phases.push(summarize(step.phase, result, emu.control.getCalls(), wallMs, emu, groupId, step.declared));
  }
  return { approach, n: work.n, profile: profile.name, added: work.added.length, removed: work.removed.length, phases };
}

function summarize(
  phase: PhaseName,
  result: OperationResult,
  records: readonly CallRecord[],
  wallMs: number,
  emu: Emulator,
  groupId: string,
  declared: readonly string[],
): PhaseResult {
  const calls: Record<string, number> = {};
  let throttled = 0;
  let otherErrors = 0;
  for (const record of records) {
    if (record.status >= 200 && record.status < 300) calls[record.operation] = (calls[record.operation] ?? 0) + 1;
    else if (record.status === 429) throttled++;
    else otherErrors++;
  }
  const totalCalls = Object.values(calls).reduce((a, b) => a + b, 0);
  const readCalls = Object.entries(calls).filter(([op]) => READS.has(op)).reduce((a, [, c]) => a + c, 0);
  const bound = new Set(emu.control.groupNumbers(groupId));
  const wanted = new Set(declared);
  const dataBytes = Math.max(0, ...result.events.filter((e) => e.ok).map((e) => Buffer.byteLength(JSON.stringify(e.data ?? {}), 'utf8')));
  if (dataBytes > MAX_RESPONSE_BYTES) throw new Error(`internal: Data of ${dataBytes} bytes should have failed the driver`);
  return {
    phase,
    status: result.status,
    failure: result.failure,
    invocations: result.events.length,
    calls,
    totalCalls,
    readCalls,
    writeCalls: totalCalls - readCalls,
    throttled,
    otherErrors,
    wallMs,
    stale: [...bound].filter((n) => !wanted.has(n)).length,
    missing: [...wanted].filter((n) => !bound.has(n)).length,
    dataBytes,
  };
}
