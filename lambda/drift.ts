import type { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import { setCallDeadline } from './client';
import { getTemplate } from './cloudformation';
import { executorFor } from './execute';
import type { Deadlines, HandlerSettings } from './index';
import type { Logger } from './log';
import { lookupOwners, observeGroups } from './observe';
import { planRepair, WHOLE_GROUP, type Owner, type Repair } from './plan';
import { parseSpec, type BindingSpec } from './request';
import {
  DRIFT_CHECK_KEY, DRIFT_METRIC_DIMENSION, DRIFT_METRIC_NAME, DRIFT_METRIC_NAMESPACE, Prop, type DriftCheckInput,
} from '../src/binding-properties';

export interface DriftCheckEvent {
  readonly [DRIFT_CHECK_KEY]: DriftCheckInput;
}

export interface DriftCheckResult {
  readonly groupId: string;
  readonly declared: number;
  /** Drifted numbers found: declared but not on the group, plus (exclusive) on the group but declared by nothing. */
  readonly drifted: number;
  readonly missing: readonly string[];
  readonly foreign: readonly string[];
  readonly notRepaired: readonly string[];
  /** Numbers repaired (only with repair). */
  readonly repaired: number;
  /** Numbers a repair call failed for (only with repair). */
  readonly repairFailed: readonly string[];
}

/**
 * The scheduled drift check: reads the declared set from the binding resource's properties in the
 * stack's deployed template, compares it with the group, publishes the drift as a CloudWatch metric in
 * Embedded Metric Format (a log line: no SDK, no permission) and, with `Repair`, repairs it by the same
 * rules as a deploy with reconcile EVERY_DEPLOY (and exclusive). Nothing is undone on a failed repair:
 * the next check tries again, and the metric keeps the alarm raised until the group is right.
 *
 * Why the template: the declared set can hold 5,000 numbers, more than an EventBridge target input
 * (8,192 characters) or a function's environment (4 KB) can carry; the template is exactly what the
 * last deploy declared, with no copy to keep in step, and one GetTemplate call reads it.
 */
export async function checkDrift(
  event: DriftCheckEvent,
  client: ChimeSDKVoiceClient,
  settings: HandlerSettings,
  deadlines: Deadlines,
  readTemplate: (stackId: string) => Promise<Record<string, unknown>> = getTemplate,
): Promise<DriftCheckResult> {
  const { log } = settings;
  const input = event[DRIFT_CHECK_KEY];
  const spec = declaredSpec(await readTemplate(input.StackId), input);
  setCallDeadline(deadlines.forward);

  const observations = await observeGroups(client, [{
    groupId: spec.groupId,
    numbers: new Set(spec.numbers),
    declaredCount: spec.exclusive ? WHOLE_GROUP : spec.numbers.length,
  }], settings.concurrency);
  const group = observations.get(spec.groupId)!;
  if (!group.exists) {
    throw new Error(`Voice connector group ${spec.groupId} does not exist: every declared number has drifted. Recreate the group or remove the declaration.`);
  }
  const missing = spec.numbers.filter((n) => !group.bound.has(n));
  const owners: ReadonlyMap<string, Owner> = missing.length > 0 ? await lookupOwners(client, missing, settings.concurrency) : new Map();
  const { repair, steps } = planRepair(spec, group, owners);
  const drifted = repair.missing.length + repair.foreign.length;
  emitMetric(settings, spec.groupId, drifted);
  logDrift(log, spec, repair, input.Repair);

  let repaired = 0;
  let repairFailed: string[] = [];
  if (input.Repair && steps.length > 0) {
    const executor = executorFor(client, settings, deadlines.forward);
    const execution = await executor.run(steps);
    repaired = execution.journal.length;
    repairFailed = execution.failures.map((f) => f.number);
    if (execution.failures.length > 0) {
      log.error('drift repair failed for some numbers; the next check tries again', {
        groupId: spec.groupId,
        failures: execution.failures.map(({ number, code, action }) => ({ number, code, action })),
      });
    }
    log.info('drift repaired', {
      groupId: spec.groupId,
      rebound: execution.journal.filter((e) => e.kind === 'associated').map((e) => e.number),
      unbound: execution.journal.filter((e) => e.kind === 'disassociated').map((e) => e.number),
    });
  }
  return {
    groupId: spec.groupId,
    declared: spec.numbers.length,
    drifted,
    missing: repair.missing,
    foreign: repair.foreign,
    notRepaired: repair.notRepaired.map((n) => n.number),
    repaired,
    repairFailed,
  };
}

/** The binding resource's declaration, from the template: literal numbers, peers through the stack's mapping. */
export function declaredSpec(template: Record<string, unknown>, input: DriftCheckInput): BindingSpec {
  const resources = (template.Resources ?? {}) as Record<string, { Properties?: Record<string, unknown> }>;
  const properties = resources[input.LogicalId]?.Properties;
  if (!properties) {
    throw new Error(`Resource ${input.LogicalId} is not in the deployed template of ${input.StackId}; the stack may be mid-deploy. The next check tries again.`);
  }
  const mappings = (template.Mappings ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
  const resolved: Record<string, unknown> = { ...properties, [Prop.GROUP_ID]: input.VoiceConnectorGroupId };
  const peers = properties[Prop.PEER_PHONE_NUMBERS];
  if (peers !== undefined) resolved[Prop.PEER_PHONE_NUMBERS] = findInMap(peers, mappings);
  return parseSpec(resolved, `${input.LogicalId} in the deployed template`);
}

function findInMap(value: unknown, mappings: Record<string, Record<string, Record<string, unknown>>>): unknown {
  const args = (value as { 'Fn::FindInMap'?: unknown })?.['Fn::FindInMap'];
  if (!Array.isArray(args)) return value;
  const [map, top, second] = args as string[];
  return mappings[map]?.[top]?.[second];
}

/** One Embedded Metric Format line: CloudWatch Logs turns it into the metric. */
export function emitMetric(settings: Pick<HandlerSettings, 'log'> & { readonly write?: (line: string) => void }, groupId: string, drifted: number): void {
  const line = JSON.stringify({
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [{
        Namespace: DRIFT_METRIC_NAMESPACE,
        Dimensions: [[DRIFT_METRIC_DIMENSION]],
        Metrics: [{ Name: DRIFT_METRIC_NAME, Unit: 'Count' }],
      }],
    },
    [DRIFT_METRIC_DIMENSION]: groupId,
    [DRIFT_METRIC_NAME]: drifted,
  });
  (settings.write ?? ((l: string) => process.stdout.write(`${l}\n`)))(line);
}

function logDrift(log: Logger, spec: BindingSpec, repair: Repair, willRepair: boolean): void {
  const fields = {
    groupId: spec.groupId,
    declared: spec.numbers.length,
    missing: repair.missing,
    foreign: repair.foreign,
    boundElsewhere: repair.notRepaired.map(({ number, owner }) => ({ number, boundTo: `${owner.kind}:${owner.id}` })),
    repair: willRepair,
  };
  if (repair.missing.length + repair.foreign.length === 0) log.info('no drift', { groupId: spec.groupId, declared: spec.numbers.length });
  else log.warn('drift found', fields);
}
