import {
  AssociatePhoneNumbersWithVoiceConnectorCommand,
  AssociatePhoneNumbersWithVoiceConnectorGroupCommand,
  BadRequestException,
  ChimeSDKVoiceClient,
  DisassociatePhoneNumbersFromVoiceConnectorGroupCommand,
  type PhoneNumberError,
} from '@aws-sdk/client-chime-sdk-voice';
import { CONTESTED, isDenied, isTransient, OUT_OF_TIME } from './error-codes';
import { lookupOwners } from './observe';
import type { Step } from './plan';
import type { Owner } from './record';
import { normalizeE164 } from '../../src/binding-properties';
import { abortAt, REFUSED_FOR_TIME } from '../shared/client';
import type { Logger } from '../shared/log';
import { chunk } from '../shared/pool';

export interface ExecutorOptions {
  /** Numbers per association call; shrinks by itself if the service rejects a list as too long. */
  readonly batchSize: number;
  /** Association calls in flight at once, across every step that runs at the same time. */
  readonly concurrency: number;
  /** Calls per number before a transient per-number error counts as a failure. */
  readonly numberAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Epoch ms after which no new call starts. */
  readonly deadline: number;
  /** Epoch ms by which every call in flight is aborted. */
  readonly hardEnd: number;
  /** Keep going after a number fails for good (a rollback does what it can), instead of stopping new batches. */
  readonly bestEffort?: boolean;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly log: Logger;
}

export interface NumberFailure {
  readonly number: string;
  /** The group the call was about (for an association to a voice connector, the voice connector's id). */
  readonly groupId: string;
  readonly action: 'associate' | 'disassociate';
  readonly code: string;
  readonly message: string;
  /** Where the number is bound, when that explains the failure. */
  readonly owner?: Owner;
}

/** One change that succeeded. */
export interface JournalEntry {
  readonly kind: 'associated' | 'disassociated';
  readonly target: Owner;
  readonly number: string;
}

export interface Execution {
  readonly journal: readonly JournalEntry[];
  readonly failures: readonly NumberFailure[];
}

interface CallResult {
  readonly succeeded: string[];
  readonly failed: NumberFailure[];
}

/** What the handler's settings decide about an executor; the rest are production defaults. */
export interface ExecutorSettings {
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

/** An executor that starts no new call after `deadline` and aborts calls still running at `hardEnd` (epoch ms). */
export function executorFor(
  client: ChimeSDKVoiceClient, settings: ExecutorSettings, deadline: number, hardEnd: number, bestEffort = false,
): Executor {
  return new Executor(client, {
    batchSize: settings.batchSize,
    concurrency: settings.concurrency,
    numberAttempts: settings.numberAttempts,
    baseDelayMs: settings.retryTiming?.baseDelayMs ?? 200,
    maxDelayMs: settings.retryTiming?.maxDelayMs ?? 10_000,
    deadline,
    hardEnd,
    bestEffort,
    sleep: settings.retryTiming?.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: settings.retryTiming?.random ?? Math.random,
    log: settings.log,
  });
}

/** Applies a plan's steps with batching, bounded concurrency and per-number retries, journaling each change. */
export class Executor {
  private batchSize: number;
  /**
   * Set once a number has failed for good (outside best effort): the attempt will be undone, so batches
   * not yet started are skipped, since each change made after that point only adds to the undo.
   */
  private failedForGood = false;
  private readonly slots: CallSlots;

  constructor(private readonly client: ChimeSDKVoiceClient, private readonly options: ExecutorOptions) {
    this.batchSize = options.batchSize;
    this.slots = new CallSlots(options.concurrency);
  }

  /**
   * Runs the steps: association steps on disjoint numbers at the same time, sharing the calls in flight,
   * and disassociations only once every association has succeeded, so an attempt that is failing never
   * lets go of a number that another resource could take before the undo wants it back. Stops after the
   * first group of steps that has failures, unless best effort.
   */
  public async run(steps: readonly Step[]): Promise<Execution> {
    const journal: JournalEntry[] = [];
    const failures: NumberFailure[] = [];
    for (const group of disjointGroups(steps)) {
      const found = (await Promise.all(group.map((step) => (step.kind === 'associate'
        ? this.step(step.numbers, step.target, 'associate', step.force, journal)
        : this.step(step.numbers, { kind: 'group', id: step.groupId }, 'disassociate', false, journal))))).flat();
      failures.push(...found);
      if (found.length > 0 && !this.options.bestEffort) break;
    }
    return { journal, failures: await this.explain(failures) };
  }

  private async step(numbers: readonly string[], target: Owner, action: NumberFailure['action'], force: boolean, journal: JournalEntry[]): Promise<NumberFailure[]> {
    const call = action === 'associate'
      ? (batch: string[]) => this.associateCall(target, batch, force)
      : (batch: string[]) => this.disassociateCall(target.id, batch);
    const results = await Promise.all(chunk(numbers, this.batchSize).map((batch) => this.slots.run(async () => {
      if (this.failedForGood && !this.options.bestEffort) return { succeeded: [], failed: [] };
      const sent = await this.callWithRetries(batch, call, target, action);
      const result = action === 'disassociate' ? await this.settleDisassociations(sent, target) : sent;
      this.failedForGood ||= result.failed.some((f) => f.code !== OUT_OF_TIME);
      return result;
    })));
    const succeeded = results.flatMap((r) => r.succeeded);
    for (const number of succeeded) journal.push({ kind: action === 'associate' ? 'associated' : 'disassociated', target, number });
    return results.flatMap((r) => r.failed);
  }

  /**
   * A disassociation wants the number off the group, and a number already off it is the goal reached:
   * NotFound (the number is not on the group: unbound by hand, moved, a repeated event) and
   * NotFoundException (the group itself is gone) say so, and any other lasting per-number error is read
   * back, since the API reference does not say what the service answers for a number on another group.
   * Numbers found off the group are neither failures nor journaled (this call did not unbind them).
   */
  private async settleDisassociations(result: CallResult, target: Owner): Promise<CallResult> {
    const open = result.failed.filter((f) => f.code !== 'NotFound' && f.code !== 'NotFoundException');
    const unsure = open.filter((f) => f.code !== OUT_OF_TIME && f.code !== 'Unverified' && !isDenied(f.code));
    if (unsure.length === 0) return { succeeded: result.succeeded, failed: open };
    const off = await this.verify(unsure.map((f) => f.number), target, 'disassociate');
    return { succeeded: result.succeeded, failed: open.filter((f) => !off.has(f.number)) };
  }

  /**
   * One logical call for a batch: numbers that fail with a transient per-number code are sent again
   * (exponential backoff, full jitter) until they succeed, fail for good, run out of attempts or time.
   * A list the service rejects as a whole with BadRequest is split in half, and the batch size for the
   * rest of the invocation shrinks with it. A per-number error that names no number, or a number that was
   * not sent, leaves the batch's outcome uncertain: those numbers are read back, and only the ones found
   * in the wanted state count as done.
   */
  private async callWithRetries(
    numbers: string[],
    call: (batch: string[]) => Promise<PhoneNumberError[]>,
    target: Owner,
    action: NumberFailure['action'],
  ): Promise<CallResult> {
    const succeeded: string[] = [];
    const failed: NumberFailure[] = [];
    let pending = numbers;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (Date.now() >= this.options.deadline) {
        failed.push(...pending.map((number) => outOfTime(number, target, action)));
        break;
      }
      let errors: PhoneNumberError[];
      try {
        errors = await call(pending);
      } catch (error) {
        if (error instanceof BadRequestException && pending.length > 1) {
          const half = Math.ceil(pending.length / 2);
          this.batchSize = Math.min(this.batchSize, half);
          this.options.log.warn('list rejected as a whole; splitting it', { target: target.id, size: pending.length, batchSize: this.batchSize });
          const parts = [
            await this.callWithRetries(pending.slice(0, half), call, target, action),
            await this.callWithRetries(pending.slice(half), call, target, action),
          ];
          succeeded.push(...parts.flatMap((p) => p.succeeded));
          failed.push(...parts.flatMap((p) => p.failed));
          break;
        }
        if ((error as Record<symbol, unknown>)[REFUSED_FOR_TIME] || (error as Error).name === 'AbortError' || (error as Error).name === 'TimeoutError') {
          failed.push(...pending.map((number) => outOfTime(number, target, action)));
          break;
        }
        const { name, message } = error as Error;
        failed.push(...pending.map((number) => ({ number, groupId: target.id, action, code: name ?? 'Error', message: message ?? String(error) })));
        break;
      }

      const sent = new Set(pending);
      const byNumber = new Map<string, PhoneNumberError>();
      let uncertain = false;
      for (const e of errors) {
        const number = e.PhoneNumberId ? normalizeE164(e.PhoneNumberId) : undefined;
        if (number && sent.has(number)) byNumber.set(number, e);
        else uncertain = true;
      }
      if (uncertain) {
        this.options.log.warn('a per-number error named no number that was sent; reading the batch back', {
          target: target.id, action, unmatched: errors.filter((e) => !e.PhoneNumberId || !sent.has(normalizeE164(e.PhoneNumberId))).map((e) => e.ErrorCode ?? 'none'),
        });
      }
      const verified = uncertain ? await this.verify(pending.filter((n) => !byNumber.has(n)), target, action) : undefined;
      // Codes of the errors that named no number sent: when all are transient, a number found not done is
      // sent again like any other transient failure (the call is idempotent).
      const unmatchedCodes = [...new Set(errors.filter((e) => !e.PhoneNumberId || !sent.has(normalizeE164(e.PhoneNumberId))).map((e) => e.ErrorCode ?? 'none'))];
      const unmatchedTransient = unmatchedCodes.every((code) => isTransient(code));
      const retry: string[] = [];
      for (const number of pending) {
        const error = byNumber.get(number);
        if (!error) {
          if (!verified || verified.has(number)) {
            succeeded.push(number);
          } else if (unmatchedTransient && attempt < this.options.numberAttempts) {
            retry.push(number);
          } else {
            failed.push({
              number,
              groupId: target.id,
              action,
              code: 'Unverified',
              message: `the service answered with an error that named no number (${unmatchedCodes.join(', ')}), and reading the number back did not show it done`,
            });
          }
        } else if (isTransient(error.ErrorCode) && attempt < this.options.numberAttempts) {
          retry.push(number);
        } else {
          failed.push({ number, groupId: target.id, action, code: error.ErrorCode ?? 'Unknown', message: error.ErrorMessage ?? '' });
        }
      }
      pending = retry;
      if (pending.length > 0) {
        const ceiling = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** attempt);
        const delay = Math.floor(this.options.random() * ceiling);
        if (Date.now() + delay >= this.options.deadline) {
          failed.push(...pending.map((number) => outOfTime(number, target, action)));
          break;
        }
        this.options.log.debug('retrying numbers after a transient per-number error', { target: target.id, count: pending.length, attempt, delay });
        await this.options.sleep(delay);
      }
    }
    return { succeeded, failed };
  }

  /** The numbers found in the state the call wanted (bound to its target, or off its group). */
  private async verify(numbers: readonly string[], target: Owner, action: NumberFailure['action']): Promise<Set<string>> {
    try {
      const owners = await lookupOwners(this.client, numbers, this.options.concurrency, this.options.hardEnd);
      return new Set(numbers.filter((n) => {
        const owner = owners.get(n);
        return action === 'associate'
          ? owner?.kind === target.kind && owner.id === target.id
          : !(owner?.kind === 'group' && owner.id === target.id);
      }));
    } catch (error) {
      this.options.log.warn('could not read the uncertain numbers back; counting them as not done', { error: (error as Error).name });
      return new Set();
    }
  }

  private async associateCall(target: Owner, numbers: string[], force: boolean): Promise<PhoneNumberError[]> {
    const abortSignal = abortAt(this.options.hardEnd);
    const response = target.kind === 'group'
      ? await this.client.send(new AssociatePhoneNumbersWithVoiceConnectorGroupCommand({
        VoiceConnectorGroupId: target.id, E164PhoneNumbers: numbers, ForceAssociate: force,
      }), { abortSignal })
      : await this.client.send(new AssociatePhoneNumbersWithVoiceConnectorCommand({
        VoiceConnectorId: target.id, E164PhoneNumbers: numbers, ForceAssociate: force,
      }), { abortSignal });
    return response.PhoneNumberErrors ?? [];
  }

  private async disassociateCall(groupId: string, numbers: string[]): Promise<PhoneNumberError[]> {
    const response = await this.client.send(new DisassociatePhoneNumbersFromVoiceConnectorGroupCommand({
      VoiceConnectorGroupId: groupId, E164PhoneNumbers: numbers,
    }), { abortSignal: abortAt(this.options.hardEnd) });
    return response.PhoneNumberErrors ?? [];
  }

  /** Adds the current owner to failures caused by an existing association, so the message can name it. */
  private async explain(failures: NumberFailure[]): Promise<NumberFailure[]> {
    const contested = failures.filter((f) => f.code === CONTESTED && !f.owner).map((f) => f.number);
    if (contested.length === 0) return failures;
    try {
      const owners = await lookupOwners(this.client, contested, this.options.concurrency, this.options.hardEnd);
      return failures.map((f) => (owners.has(f.number) ? { ...f, owner: owners.get(f.number) ?? undefined } : f));
    } catch (error) {
      this.options.log.warn('could not look up who holds the contested numbers', { error: (error as Error).name });
      return failures;
    }
  }
}

function outOfTime(number: string, target: Owner, action: NumberFailure['action']): NumberFailure {
  return { number, groupId: target.id, action, code: OUT_OF_TIME, message: 'the handler ran short of time before this number' };
}

/**
 * Splits steps, in order, into groups whose steps touch disjoint numbers, so that no number is ever in two
 * calls at once and a step that depends on an earlier one (shares a number with it) waits for it; a
 * disassociation also waits for every association before it.
 */
function disjointGroups(steps: readonly Step[]): Step[][] {
  const groups: Step[][] = [];
  let touched = new Set<string>();
  for (const step of steps) {
    const overlaps = step.numbers.some((n) => touched.has(n));
    const afterAssociations = step.kind === 'disassociate' && groups.length > 0 && groups[groups.length - 1].some((s) => s.kind === 'associate');
    if (overlaps || afterAssociations || groups.length === 0) {
      groups.push([]);
      touched = new Set();
    }
    groups[groups.length - 1].push(step);
    step.numbers.forEach((n) => touched.add(n));
  }
  return groups;
}

/** Bounds the calls in flight across everything the executor runs at once. First come, first served. */
class CallSlots {
  private readonly waiting: (() => void)[] = [];

  constructor(private free: number) {}

  public async run<T>(work: () => Promise<T>): Promise<T> {
    if (this.free > 0) {
      this.free--;
    } else {
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    }
    try {
      return await work();
    } finally {
      const next = this.waiting.shift();
      if (next) next(); else this.free++;
    }
  }
}
