import type { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import {
  BINDING_RESOURCE_TYPE, canonicalJson, DRIFT_CHECK_KEY, DRIFT_METRIC_DIMENSION, DRIFT_METRIC_NAME, DRIFT_METRIC_NAMESPACE, E164_PATTERN, EntryProp,
  normalizeE164, Prop, type DriftCheckInput,
} from '../../src/binding-properties';
import { executorFor } from '../phone-numbers/execute';
import { listGroup, lookupOwners } from '../phone-numbers/observe';
import { stackPhase } from '../phone-numbers/phase';
import type { Step } from '../phone-numbers/plan';
import type { Owner } from '../phone-numbers/record';
import type { HandlerSettings } from '../phone-numbers/settings';
import type { StackReader } from '../shared/control-plane';
import type { Logger } from '../shared/log';

export interface DriftCheckEvent {
  readonly [DRIFT_CHECK_KEY]: DriftCheckInput;
}

export interface DriftCheckResult {
  readonly groupId: string;
  /** Set when the check did not run, and why. */
  readonly skipped?: string;
  readonly declared: number;
  /** Drifted numbers found: declared but not on the group, plus (exclusive) on the group but not declared for it. */
  readonly drifted: number;
  readonly missing: readonly string[];
  readonly foreign: readonly string[];
  /** Declared numbers found on another group or voice connector and left there (no forceAssociate). */
  readonly notRepaired: readonly string[];
  /** Numbers repaired (only with repair). */
  readonly repaired: number;
  /** Numbers a repair call failed for (only with repair). */
  readonly repairFailed: readonly string[];
}

/** What the stack declares for one group, read from the deployed template. */
export interface GroupDeclaration {
  readonly groupId: string;
  /** Declared number -> whether it may be taken back (forceAssociate). */
  readonly numbers: ReadonlyMap<string, boolean>;
  readonly exclusive: boolean;
  /** Entries of token lists that may name this group: their numbers cannot be read from the template. */
  readonly unreadable: number;
}

/**
 * The scheduled drift check of one group: reads what the stack declares for the group from the binding
 * resources in its deployed template, compares it with the group, publishes the drift as a CloudWatch
 * metric in Embedded Metric Format (a log line: no SDK, no permission) and, with `Repair`, repairs it by
 * the rules of a deploy with EVERY_DEPLOY (and exclusive). A failed repair is not undone: the next check
 * tries again, and the metric keeps the alarm raised until the group is right.
 *
 * It does nothing while the stack, or its root stack, is being deployed, rolled back or has failed: the
 * template and the bindings are then changing under it, and a repair would race CloudFormation.
 */
export async function checkDrift(
  event: DriftCheckEvent,
  client: ChimeSDKVoiceClient,
  settings: HandlerSettings & { readonly write?: (line: string) => void },
  stacks: StackReader,
  deadline: number,
): Promise<DriftCheckResult> {
  const { log } = settings;
  const input = event[DRIFT_CHECK_KEY];
  const phase = await stackPhase(stacks, input.StackId);
  if (phase.busy) {
    const skipped = `the stack is ${phase.status}${phase.rootStatus ? ` (its root stack is ${phase.rootStatus})` : ''}`;
    log.info('drift check skipped: the stack is changing; the next check runs as usual', { groupId: input.VoiceConnectorGroupId, status: phase.status });
    return {
      groupId: input.VoiceConnectorGroupId,
      skipped,
      declared: 0,
      drifted: 0,
      missing: [],
      foreign: [],
      notRepaired: [],
      repaired: 0,
      repairFailed: [],
    };
  }
  const declaration = declaredFor(await stacks.getTemplate(input.StackId), input);
  if (declaration.unreadable > 0) {
    log.warn('some entries of the group are token lists, whose numbers the template does not show; they are left out of the check', { groupId: declaration.groupId });
  }

  const bound = await listGroup(client, declaration.groupId, deadline);
  if (!bound) {
    throw new Error(`Voice connector group ${declaration.groupId} does not exist: every declared number has drifted. Recreate the group or remove the declaration.`);
  }
  const missing = [...declaration.numbers.keys()].filter((n) => !bound.has(n)).sort();
  const foreign = declaration.exclusive ? [...bound].filter((n) => !declaration.numbers.has(n)).sort() : [];
  const owners = missing.length > 0 ? await lookupOwners(client, missing, settings.concurrency, deadline) : new Map<string, Owner | null>();
  const rebind = missing.filter((n) => !owners.get(n));
  const elsewhere = missing.filter((n) => owners.get(n));
  const take = elsewhere.filter((n) => declaration.numbers.get(n));
  const notRepaired = elsewhere.filter((n) => !declaration.numbers.get(n));
  const drifted = missing.length + foreign.length;
  emitMetric(settings, declaration.groupId, drifted);
  logDrift(log, declaration, { missing, foreign, notRepaired, owners }, input.Repair);

  let repaired = 0;
  let repairFailed: string[] = [];
  const target = { kind: 'group', id: declaration.groupId } as const;
  const steps: Step[] = [
    ...(rebind.length > 0 ? [{ kind: 'associate', target, numbers: rebind, force: false } as const] : []),
    ...(take.length > 0 ? [{ kind: 'associate', target, numbers: take, force: true } as const] : []),
    ...(foreign.length > 0 ? [{ kind: 'disassociate', groupId: declaration.groupId, numbers: foreign } as const] : []),
  ];
  if (input.Repair && steps.length > 0) {
    const execution = await executorFor(client, settings, deadline, deadline, true).run(steps);
    repaired = execution.journal.length;
    repairFailed = execution.failures.map((f) => f.number);
    if (execution.failures.length > 0) {
      log.error('drift repair failed for some numbers; the next check tries again', {
        groupId: declaration.groupId,
        failures: execution.failures.map(({ number, code, action }) => ({ number, code, action })),
      });
    }
    log.info('drift repaired', {
      groupId: declaration.groupId,
      rebound: execution.journal.filter((e) => e.kind === 'associated').map((e) => e.number),
      unbound: execution.journal.filter((e) => e.kind === 'disassociated').map((e) => e.number),
    });
  }
  return { groupId: declaration.groupId, declared: declaration.numbers.size, drifted, missing, foreign, notRepaired, repaired, repairFailed };
}

/**
 * What the stack declares for the input's group: the entries of every binding resource whose group id,
 * as written in the template, resolves to it (the rule's input carries each key's resolved id).
 */
export function declaredFor(template: Record<string, unknown>, input: DriftCheckInput): GroupDeclaration {
  const resolved = new Map(input.GroupKeys.map((k) => [k.Key, k.Id]));
  const idOf = (value: unknown) => (typeof value === 'string' ? value : resolved.get(canonicalJson(value)));
  const numbers = new Map<string, boolean>();
  let exclusive = false;
  let unreadable = 0;
  const resources = (template.Resources ?? {}) as Record<string, { Type?: string; Properties?: Record<string, unknown> }>;
  for (const resource of Object.values(resources)) {
    if (resource.Type !== BINDING_RESOURCE_TYPE || !resource.Properties) continue;
    const props = resource.Properties;
    for (const g of (props[Prop.EXCLUSIVE_GROUPS] as unknown[] | undefined) ?? []) {
      if (idOf(g) === input.VoiceConnectorGroupId) exclusive = true;
    }
    for (const entry of (props[Prop.BINDINGS] as Array<Record<string, unknown>> | undefined) ?? []) {
      if (idOf(entry[EntryProp.GROUP_ID]) !== input.VoiceConnectorGroupId) continue;
      const list = entry[EntryProp.PHONE_NUMBERS];
      if (!Array.isArray(list)) {
        unreadable++;
        continue;
      }
      for (const n of list) {
        if (typeof n === 'string' && E164_PATTERN.test(n)) numbers.set(normalizeE164(n), entry[EntryProp.FORCE_ASSOCIATE] === 'true');
        else unreadable++;
      }
    }
  }
  return { groupId: input.VoiceConnectorGroupId, numbers, exclusive, unreadable };
}

/** One Embedded Metric Format line: CloudWatch Logs turns it into the metric. */
export function emitMetric(settings: { readonly write?: (line: string) => void }, groupId: string, drifted: number): void {
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

function logDrift(
  log: Logger,
  declaration: GroupDeclaration,
  found: { missing: readonly string[]; foreign: readonly string[]; notRepaired: readonly string[]; owners: ReadonlyMap<string, Owner | null> },
  willRepair: boolean,
): void {
  if (found.missing.length + found.foreign.length === 0) {
    log.info('no drift', { groupId: declaration.groupId, declared: declaration.numbers.size });
    return;
  }
  log.warn('drift found', {
    groupId: declaration.groupId,
    declared: declaration.numbers.size,
    missing: found.missing,
    foreign: found.foreign,
    // A declared number on another group may have been moved there by another stack that now declares it:
    // two stacks then fight over it. The README's "Moving a number between stacks" gives the safe order.
    boundElsewhere: found.notRepaired.map((number) => {
      const owner = found.owners.get(number)!;
      return { number, boundTo: `${owner.kind}:${owner.id}`, note: 'possibly a move to another stack: check that only one stack declares it' };
    }),
    repair: willRepair,
  });
}
