import type { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { chimeClient, setCallDeadline } from './client';
import { Executor, type ExecutorOptions } from './execute';
import { createLogger, type Logger } from './log';
import { failureMessage } from './messages';
import { observeGroups } from './observe';
import { planChanges, requiredReads } from './plan';
import { parseRequest, unknownPropertyNames, type BindingRequest } from './request';
import { Attr } from '../src/binding-properties';

/** The Provider framework's onEvent contract. */
export interface OnEventResponse {
  readonly PhysicalResourceId: string;
  readonly Data: Record<string, string | number>;
}

export interface HandlerSettings {
  readonly batchSize: number;
  readonly concurrency: number;
  readonly numberAttempts: number;
  readonly log: Logger;
  /**
   * Overrides for the per-number retry backoff (tests use them to avoid real sleeps). Production leaves
   * this unset: 200 ms base, 10 s cap, full jitter from Math.random, real timers.
   */
  readonly retryTiming?: Partial<Pick<ExecutorOptions, 'baseDelayMs' | 'maxDelayMs' | 'sleep' | 'random'>>;
}

/** Share of the remaining time reserved for undoing a failed attempt. */
const UNDO_RESERVE = 0.35;
/** Kept free at the very end for the response to reach the Provider framework. */
const RESPONSE_MARGIN_MS = 3_000;

export async function handler(event: CloudFormationCustomResourceEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<OnEventResponse> {
  const settings = settingsFromEnvironment(process.env);
  const remaining = context?.getRemainingTimeInMillis?.() ?? 15 * 60_000;
  const start = Date.now();
  const end = start + remaining - RESPONSE_MARGIN_MS;
  const forwardDeadline = start + (remaining - RESPONSE_MARGIN_MS) * (1 - UNDO_RESERVE);
  settings.log.info('event', {
    requestType: event.RequestType,
    logicalId: event.LogicalResourceId,
    remainingMs: remaining,
    unknownProperties: unknownPropertyNames(event.ResourceProperties ?? {}),
  });
  const request = parseRequest(event);
  return reconcile(request, chimeClient, settings, { forward: forwardDeadline, end });
}

/**
 * Event -> plan -> apply. Reads what the plan needs, computes it, applies it; on any per-number
 * failure undoes this attempt's changes and fails with a message naming every failing number.
 */
export async function reconcile(
  request: BindingRequest,
  client: ChimeSDKVoiceClient,
  settings: HandlerSettings,
  deadlines: { readonly forward: number; readonly end: number },
): Promise<OnEventResponse> {
  const { log } = settings;
  let deadline = deadlines.forward;
  setCallDeadline(deadline);

  const observations = await observeGroups(client, requiredReads(request), settings.concurrency);
  const plan = planChanges(request, observations);
  log.info('plan', {
    physicalId: plan.physicalId,
    groupId: plan.groupId,
    declared: plan.declared,
    unchanged: plan.unchanged,
    steps: plan.steps.map((s) => ({ kind: s.kind, groupId: s.groupId, count: s.numbers.length, ...(s.kind === 'associate' ? { force: s.force } : {}) })),
  });

  const executor = new Executor(client, {
    batchSize: settings.batchSize,
    concurrency: settings.concurrency,
    numberAttempts: settings.numberAttempts,
    baseDelayMs: settings.retryTiming?.baseDelayMs ?? 200,
    maxDelayMs: settings.retryTiming?.maxDelayMs ?? 10_000,
    deadline: () => deadline,
    sleep: settings.retryTiming?.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: settings.retryTiming?.random ?? Math.random,
    log,
  });
  const execution = await executor.run(plan.steps);

  if (execution.failures.length > 0) {
    log.error('failed numbers', { failures: execution.failures.map(({ number, code, action, groupId }) => ({ number, code, action, groupId })) });
    deadline = deadlines.end;
    setCallDeadline(deadline);
    const undoFailures = await executor.undo(execution.journal);
    if (undoFailures.length > 0) {
      log.error('could not undo', { failures: undoFailures.map(({ number, code, groupId }) => ({ number, code, groupId })) });
    }
    throw new Error(failureMessage(request, execution.failures, undoFailures, execution.journal.length));
  }

  const associated = execution.journal.filter((e) => e.kind === 'associated').length;
  const disassociated = execution.journal.length - associated;
  log.info('done', { physicalId: plan.physicalId, associated, disassociated, unchanged: plan.unchanged });
  return {
    PhysicalResourceId: plan.physicalId,
    Data: {
      [Attr.GROUP_ID]: plan.groupId,
      [Attr.DECLARED_COUNT]: plan.declared,
      [Attr.ASSOCIATED_COUNT]: associated,
      [Attr.DISASSOCIATED_COUNT]: disassociated,
      [Attr.UNCHANGED_COUNT]: plan.unchanged,
    },
  };
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
