import type { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { chimeClient, setCallDeadline } from './client';
import { checkDrift, type DriftCheckEvent, type DriftCheckResult } from './drift';
import { EarlyUnbind } from './early-unbind';
import { Executor, executorFor, OUT_OF_TIME, type ExecutorSettings, type JournalEntry, type NumberFailure } from './execute';
import { createLogger, type Logger } from './log';
import { failureMessage, readFailureMessage, undoOutcome } from './messages';
import { lookupOwners, observeGroups } from './observe';
import {
  driftLookups, ownerBefore, planChanges, progressReads, remainingSteps, requiredReads, WHOLE_GROUP,
  type GroupObservation, type Observations, type Owner, type Plan, type ReadRequest, type Step,
} from './plan';
import { parseRequest, unknownPropertyNames, type BindingRequest } from './request';
import { Attr, CHECKPOINT_KEY, DRIFT_CHECK_KEY, RECONCILE_TIME_LIMIT_MINUTES } from '../src/binding-properties';

/** The Provider framework's onEvent contract, plus the progress record its isComplete call receives. */
export interface OnEventResponse {
  readonly PhysicalResourceId: string;
  readonly Data: Record<string, string | number>;
  readonly [CHECKPOINT_KEY]: Checkpoint;
}

/** The Provider framework's isComplete contract. */
export interface IsCompleteResponse {
  readonly IsComplete: boolean;
  readonly Data?: Record<string, string | number>;
}

/**
 * What a deployment that did not finish in its first invocation needs in order to go on: the
 * observations the plan was made from (so every later invocation recomputes the same plan) and the
 * owners of numbers being taken with forceAssociate (so a failure can hand them back). Progress itself
 * is never stored: it is read back from the service.
 */
export interface Checkpoint {
  readonly complete: boolean;
  /** Epoch ms of the first invocation. */
  readonly startedAt: number;
  readonly observed?: Record<string, { readonly exists: boolean; readonly bound: readonly string[] }>;
  readonly owners?: Record<string, Owner>;
  /** Owners of drifted declared numbers found bound elsewhere (resources that repair on deploy). */
  readonly driftOwners?: Record<string, Owner>;
}

/** An isComplete event: the CloudFormation event with the onEvent result spread over it. */
export type CompletionEvent = CloudFormationCustomResourceEvent & { readonly [CHECKPOINT_KEY]: Checkpoint; readonly PhysicalResourceId: string };

/** The handler's tunables, from the function's environment. */
export type HandlerSettings = ExecutorSettings;

/** Share of the remaining time reserved for undoing a failed attempt. */
const UNDO_RESERVE = 0.35;
/** Kept free at the very end for the response to reach the Provider framework. */
const RESPONSE_MARGIN_MS = 3_000;

/**
 * Entry point for both of the Provider framework's calls: onEvent (a plain CloudFormation event) and
 * isComplete (the same event carrying onEvent's result). One function serves both, so a stack still has
 * exactly one handler function.
 */
export async function handler(event: CompletionEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<IsCompleteResponse>;
export async function handler(event: CloudFormationCustomResourceEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<OnEventResponse>;
export async function handler(event: DriftCheckEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<DriftCheckResult>;
export async function handler(
  event: CloudFormationCustomResourceEvent | CompletionEvent | DriftCheckEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<OnEventResponse | IsCompleteResponse | DriftCheckResult> {
  const settings = settingsFromEnvironment(process.env);
  const deadlines = deadlinesFor(context);
  // The scheduled drift check runs the same bundle in its own function, with its own event shape.
  if (DRIFT_CHECK_KEY in event) {
    return checkDrift(event, chimeClient, settings, deadlines);
  }
  if (CHECKPOINT_KEY in event) {
    return isComplete(event, chimeClient, settings, deadlines);
  }
  settings.log.info('event', {
    requestType: event.RequestType,
    logicalId: event.LogicalResourceId,
    remainingMs: deadlines.end - Date.now(),
    unknownProperties: unknownPropertyNames(event.ResourceProperties ?? {}),
  });
  return reconcile(parseRequest(event), chimeClient, settings, deadlines);
}

function deadlinesFor(context?: Pick<Context, 'getRemainingTimeInMillis'>): Deadlines {
  const remaining = context?.getRemainingTimeInMillis?.() ?? 15 * 60_000;
  const start = Date.now();
  return {
    forward: start + (remaining - RESPONSE_MARGIN_MS) * (1 - UNDO_RESERVE),
    end: start + remaining - RESPONSE_MARGIN_MS,
  };
}

export interface Deadlines {
  /** No new change starts after this (epoch ms). */
  readonly forward: number;
  /** Undo and the response must be done by this. */
  readonly end: number;
}

/**
 * Event -> plan -> apply. Reads what the plan needs, computes it and applies it as far as this
 * invocation's time allows. On any per-number failure it undoes this attempt's changes and fails with a
 * message naming every failing number. If time runs out first, it returns a checkpoint and the
 * Provider framework's isComplete calls carry on from there.
 */
export async function reconcile(
  request: BindingRequest,
  client: ChimeSDKVoiceClient,
  settings: HandlerSettings,
  deadlines: Deadlines,
): Promise<OnEventResponse> {
  const { log } = settings;
  const startedAt = Date.now();
  setCallDeadline(deadlines.forward);

  const reads = requiredReads(request);
  const executor = executorFor(client, settings, deadlines.forward);
  // A Delete that lists its group starts unbinding each page while the next one is read.
  const early = request.type === 'Delete' ? new EarlyUnbind(request, executor) : undefined;
  const { observations, driftOwners, execution: earlyExecution } = await readsFirst(request, reads, executor, early, deadlines, log, async () => {
    const observed = await observeGroups(client, reads, settings.concurrency, early?.onPage);
    const lookups = driftLookups(request, observed);
    const owners = lookups.length > 0 ? await lookupOwners(client, lookups, settings.concurrency) : new Map<string, Owner>();
    if (early) {
      return { ...(await early.finish(client, observed, settings.concurrency)), driftOwners: owners };
    }
    return { observations: observed, driftOwners: owners, execution: undefined };
  });
  const plan = planChanges(request, observations, driftOwners);
  logPlan(log, plan);
  logRepair(log, plan);

  const execution = earlyExecution ?? await executor.run(plan.steps);
  if (execution.failures.length > 0 && !execution.failures.every((f) => f.code === OUT_OF_TIME)) {
    return fail(request, executor, execution.failures, execution.journal, deadlines, log);
  }
  if (execution.failures.length > 0) {
    setCallDeadline(deadlines.end);
    const owners = await ownersToRemember(client, plan, execution.journal, settings.concurrency);
    log.info('out of time for now; the completion checks carry on', { physicalId: plan.physicalId, left: execution.failures.length });
    return {
      PhysicalResourceId: plan.physicalId,
      Data: {},
      [CHECKPOINT_KEY]: {
        complete: false,
        startedAt,
        observed: serializeObservations(observations, reads),
        owners,
        ...(driftOwners.size > 0 ? { driftOwners: Object.fromEntries(driftOwners) } : {}),
      },
    };
  }
  log.info('done', { physicalId: plan.physicalId, ...counts(plan, execution.journal) });
  return { PhysicalResourceId: plan.physicalId, Data: dataFor(plan, execution.journal), [CHECKPOINT_KEY]: { complete: true, startedAt } };
}

/**
 * The Provider framework's completion check. Recomputes the plan from the checkpoint, reads how far it
 * has got, and applies the rest as far as time allows. A per-number failure, or running past the
 * deployment's time limit, undoes everything this deployment changed (as read back from the service).
 */
export async function isComplete(
  event: CompletionEvent,
  client: ChimeSDKVoiceClient,
  settings: HandlerSettings,
  deadlines: Deadlines,
): Promise<IsCompleteResponse> {
  const checkpoint = event[CHECKPOINT_KEY];
  if (checkpoint.complete) {
    return { IsComplete: true };
  }
  const { log } = settings;
  const request = parseRequest(event);
  const driftOwners = new Map(Object.entries(checkpoint.driftOwners ?? {}));
  const plan = withOwners(planChanges(request, deserializeObservations(checkpoint.observed), driftOwners), checkpoint.owners ?? {});
  setCallDeadline(deadlines.forward);
  const current = await observeGroups(client, progressReads(plan), settings.concurrency);
  const remaining = remainingSteps(plan, current);
  const doneBefore = journalOf(plan, remaining);
  const executor = executorFor(client, settings, deadlines.forward);

  const giveUpAt = checkpoint.startedAt + RECONCILE_TIME_LIMIT_MINUTES * 60_000;
  if (remaining.length > 0 && Date.now() >= giveUpAt) {
    const left = remaining.flatMap((step) => step.numbers.map((number): NumberFailure => ({
      number,
      groupId: step.groupId,
      action: step.kind,
      code: OUT_OF_TIME,
      message: `not done within the ${RECONCILE_TIME_LIMIT_MINUTES}-minute limit for one deployment`,
    })));
    return fail(request, executor, left, doneBefore, deadlines, log);
  }

  log.info('completion check', { physicalId: plan.physicalId, left: remaining.reduce((sum, s) => sum + s.numbers.length, 0) });
  const execution = await executor.run(remaining);
  if (execution.failures.length > 0 && !execution.failures.every((f) => f.code === OUT_OF_TIME)) {
    return fail(request, executor, execution.failures, [...doneBefore, ...execution.journal], deadlines, log);
  }
  if (execution.failures.length > 0) {
    return { IsComplete: false };
  }
  log.info('done', { physicalId: plan.physicalId, ...counts(plan) });
  return { IsComplete: true, Data: dataFor(plan) };
}

/**
 * Runs the reads the plan is made from, turning a service error into a message that says which resource
 * and group it was about and what the error means. Reads come before any change, except the early
 * unbinding of a Delete: what that already changed is undone before the failure is reported.
 */
async function readsFirst<T>(
  request: BindingRequest,
  reads: readonly ReadRequest[],
  executor: Executor,
  early: EarlyUnbind | undefined,
  deadlines: Deadlines,
  log: Logger,
  work: () => Promise<T>,
): Promise<T> {
  try {
    return await work();
  } catch (error) {
    const message = readFailureMessage(request, reads.map((r) => r.groupId), error as Error);
    const { journal } = early ? await early.settle() : { journal: [] };
    if (journal.length > 0) {
      log.error('a read failed after unbinding had started; undoing', { error: (error as Error).name, changed: journal.length });
      setCallDeadline(deadlines.end);
    }
    const undoFailures = journal.length > 0 ? await executor.undo(journal, deadlines.end) : [];
    throw new Error(`${message} ${undoOutcome(request, undoFailures, journal.length)}`);
  }
}

async function fail(
  request: BindingRequest,
  executor: Executor,
  failures: readonly NumberFailure[],
  journal: readonly JournalEntry[],
  deadlines: Deadlines,
  log: Logger,
): Promise<never> {
  log.error('failed numbers', { failures: failures.map(({ number, code, action, groupId }) => ({ number, code, action, groupId })) });
  setCallDeadline(deadlines.end);
  const undoFailures = await executor.undo(journal, deadlines.end);
  if (undoFailures.length > 0) {
    log.error('could not undo', { failures: undoFailures.map(({ number, code, groupId }) => ({ number, code, groupId })) });
  }
  throw new Error(failureMessage(request, failures, undoFailures, journal.length));
}


/** What the plan changed, as journal entries an undo can replay, for the numbers no longer remaining. */
function journalOf(plan: Plan, remaining: readonly Step[]): JournalEntry[] {
  const left = new Set(remaining.flatMap((step) => step.numbers.map((n) => `${step.kind}:${step.groupId}:${n}`)));
  return plan.steps.flatMap((step) => step.numbers
    .filter((number) => !left.has(`${step.kind}:${step.groupId}:${number}`))
    .map((number): JournalEntry => (step.kind === 'associate'
      ? { kind: 'associated', groupId: step.groupId, number, prior: ownerBefore(step, number) }
      : { kind: 'disassociated', groupId: step.groupId, number })));
}

/**
 * Owners of every number a `take` step moves: from the journal for those already moved, looked up now
 * for the rest, so that a later invocation can still hand each one back.
 */
async function ownersToRemember(
  client: ChimeSDKVoiceClient,
  plan: Plan,
  journal: readonly JournalEntry[],
  concurrency: number,
): Promise<Record<string, Owner>> {
  const owners: Record<string, Owner> = {};
  const moved = new Set<string>();
  for (const entry of journal) {
    if (entry.kind === 'associated') {
      moved.add(entry.number);
      if (entry.prior) owners[entry.number] = entry.prior;
    }
  }
  const pending = plan.steps.filter((s) => s.kind === 'associate' && s.force === 'take').flatMap((s) => s.numbers).filter((n) => !moved.has(n));
  if (pending.length > 0) {
    for (const [number, owner] of await lookupOwners(client, pending, concurrency)) owners[number] = owner;
  }
  return owners;
}

function withOwners(plan: Plan, owners: Record<string, Owner>): Plan {
  return {
    ...plan,
    steps: plan.steps.map((step) => (step.kind === 'associate' && step.force === 'take' ? { ...step, owners } : step)),
  };
}

/** Observations restricted to the numbers the plan was about, so the checkpoint stays small. */
function serializeObservations(
  observations: Observations,
  reads: readonly { groupId: string; numbers: ReadonlySet<string>; declaredCount: number }[],
): Checkpoint['observed'] {
  const observed: Record<string, { exists: boolean; bound: string[] }> = {};
  for (const read of reads) {
    const found = observations.get(read.groupId);
    // A whole-group read (exclusive) keeps every number: the plan unbinds the ones nothing declares.
    const keep = (n: string) => read.declaredCount === WHOLE_GROUP || read.numbers.has(n);
    if (found) observed[read.groupId] = { exists: found.exists, bound: [...found.bound].filter(keep) };
  }
  return observed;
}

function deserializeObservations(observed: Checkpoint['observed']): Observations {
  return new Map(Object.entries(observed ?? {}).map(([groupId, o]): [string, GroupObservation] => [
    groupId,
    { exists: o.exists, bound: new Set(o.bound) },
  ]));
}

/**
 * Changes made: from the journal when one invocation did everything (it leaves out numbers that turned
 * out to be gone already), otherwise from the plan, which is what the invocations together carried out.
 */
function counts(plan: Plan, journal?: readonly JournalEntry[]): { associated: number; disassociated: number; unchanged: number } {
  const sum = (kind: Step['kind']) => plan.steps.filter((s) => s.kind === kind).reduce((total, s) => total + s.numbers.length, 0);
  if (journal) {
    const associated = journal.filter((e) => e.kind === 'associated').length;
    return { associated, disassociated: journal.length - associated, unchanged: plan.unchanged };
  }
  return { associated: sum('associate'), disassociated: sum('disassociate'), unchanged: plan.unchanged };
}

function dataFor(plan: Plan, journal?: readonly JournalEntry[]): Record<string, string | number> {
  const { associated, disassociated, unchanged } = counts(plan, journal);
  return {
    [Attr.GROUP_ID]: plan.groupId,
    [Attr.DECLARED_COUNT]: plan.declared,
    [Attr.ASSOCIATED_COUNT]: associated,
    [Attr.DISASSOCIATED_COUNT]: disassociated,
    [Attr.UNCHANGED_COUNT]: unchanged,
    ...(plan.repair ? {
      [Attr.DRIFT_REBOUND_COUNT]: plan.repair.rebind.length + plan.repair.take.length,
      [Attr.DRIFT_UNBOUND_COUNT]: plan.repair.foreign.length,
      [Attr.DRIFT_NOT_REPAIRED_COUNT]: plan.repair.notRepaired.length,
    } : {}),
  };
}

/** One line naming every number the plan repairs, and every drifted number it leaves as found. */
function logRepair(log: Logger, plan: Plan): void {
  const { repair } = plan;
  if (!repair) return;
  const fields = {
    physicalId: plan.physicalId,
    groupId: plan.groupId,
    rebound: [...repair.rebind, ...repair.take],
    unbound: repair.foreign,
    notRepaired: repair.notRepaired.map(({ number, owner }) => ({ number, boundTo: `${owner.kind}:${owner.id}` })),
  };
  if (fields.rebound.length + fields.unbound.length + fields.notRepaired.length === 0) {
    log.info('no drift', { physicalId: plan.physicalId, groupId: plan.groupId });
  } else if (repair.notRepaired.length > 0) {
    log.warn('repairing drift (some numbers are bound elsewhere and were left there: set forceAssociate to take them back)', fields);
  } else {
    log.info('repairing drift', fields);
  }
}

function logPlan(log: Logger, plan: Plan): void {
  log.info('plan', {
    physicalId: plan.physicalId,
    groupId: plan.groupId,
    declared: plan.declared,
    unchanged: plan.unchanged,
    steps: plan.steps.map((s) => ({ kind: s.kind, groupId: s.groupId, count: s.numbers.length, ...(s.kind === 'associate' ? { force: s.force } : {}) })),
  });
}

/** Tunables the construct sets on the function; a bad value fails loudly instead of deploying oddly. */
export function settingsFromEnvironment(env: Record<string, string | undefined>): HandlerSettings {
  return {
    batchSize: positiveInteger(env, 'BATCH_SIZE', 10, 100),
    concurrency: positiveInteger(env, 'CONCURRENCY', 4, 32),
    numberAttempts: positiveInteger(env, 'NUMBER_ATTEMPTS', 8, 50),
    log: createLogger(env.LOG_LEVEL),
  };
}

function positiveInteger(env: Record<string, string | undefined>, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`Environment variable ${name}=${JSON.stringify(raw)} must be an integer from 1 to ${max}.`);
  }
  return value;
}
