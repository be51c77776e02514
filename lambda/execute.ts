import {
  AssociatePhoneNumbersWithVoiceConnectorCommand,
  AssociatePhoneNumbersWithVoiceConnectorGroupCommand,
  BadRequestException,
  ChimeSDKVoiceClient,
  DisassociatePhoneNumbersFromVoiceConnectorGroupCommand,
  type PhoneNumberError,
} from '@aws-sdk/client-chime-sdk-voice';
import { REFUSED_FOR_TIME } from './client';
import type { Logger } from './log';
import { lookupOwners } from './observe';
import { ownerBefore, type Owner, type Step } from './plan';
import { chunk } from './pool';
import { normalizeE164 } from '../src/binding-properties';

/** Per-number error codes that say "try again later" rather than "this cannot work". */
export const TRANSIENT_CODES: ReadonlySet<string> = new Set(['Throttled', 'Throttling', 'ServiceFailure', 'ServiceUnavailable']);

/** Code recorded for numbers the handler never got to because the Lambda was running out of time. */
export const OUT_OF_TIME = 'OutOfTime';

/** Per-number code for a number bound elsewhere. */
export const CONTESTED = 'PhoneNumberAssociationsExist';

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
  readonly deadline: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly random: () => number;
  readonly log: Logger;
}

export interface NumberFailure {
  readonly number: string;
  readonly groupId: string;
  readonly action: 'associate' | 'disassociate' | 'restore';
  readonly code: string;
  readonly message: string;
  /** Where the number is bound, when that explains the failure. */
  readonly owner?: Owner;
}

/** One change that succeeded, with what is needed to undo it. */
export type JournalEntry =
  | { readonly kind: 'associated'; readonly groupId: string; readonly number: string; readonly prior?: Owner }
  | { readonly kind: 'disassociated'; readonly groupId: string; readonly number: string };

export interface Execution {
  readonly journal: readonly JournalEntry[];
  readonly failures: readonly NumberFailure[];
}

interface CallResult {
  readonly succeeded: string[];
  readonly failed: NumberFailure[];
}

type Target = { readonly kind: 'group' | 'voiceConnector'; readonly id: string };

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

/** An executor that starts no new call after `deadline` (epoch ms). */
export function executorFor(client: ChimeSDKVoiceClient, settings: ExecutorSettings, deadline: number): Executor {
  return new Executor(client, {
    batchSize: settings.batchSize,
    concurrency: settings.concurrency,
    numberAttempts: settings.numberAttempts,
    baseDelayMs: settings.retryTiming?.baseDelayMs ?? 200,
    maxDelayMs: settings.retryTiming?.maxDelayMs ?? 10_000,
    deadline: () => deadline,
    sleep: settings.retryTiming?.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms))),
    random: settings.retryTiming?.random ?? Math.random,
    log: settings.log,
  });
}

/** Applies a plan's steps with batching, bounded concurrency and per-number retries, journaling each change. */
export class Executor {
  private batchSize: number;
  private until?: number;
  private undoing = false;
  /**
   * Set once a forward number has failed for good: the attempt will be undone, so batches not yet
   * started are skipped, in every step, since each change made after that point only adds to the undo.
   */
  private failedForGood = false;
  private readonly slots: CallSlots;

  constructor(private readonly client: ChimeSDKVoiceClient, private readonly options: ExecutorOptions) {
    this.batchSize = options.batchSize;
    this.slots = new CallSlots(options.concurrency);
  }

  /**
   * Runs the steps: association steps on disjoint numbers at the same time, sharing the calls in
   * flight, and disassociations only once every association has succeeded. A number is never let go by
   * an attempt that is about to fail: another resource could take it before the undo wants it back.
   * Everything is journaled, so a failure undoes all of it. Stops after the first group of steps that
   * has failures.
   */
  public async run(steps: readonly Step[]): Promise<Execution> {
    const journal: JournalEntry[] = [];
    for (const group of disjointGroups(steps)) {
      const failures = (await Promise.all(group.map((step) => (step.kind === 'associate'
        ? this.associateStep(step, journal)
        : this.disassociateStep(step.groupId, step.numbers, journal))))).flat();
      if (failures.length > 0) {
        return { journal, failures: await this.explain(failures) };
      }
    }
    return { journal, failures: [] };
  }

  /** Reverts journaled changes, newest first; returns what could not be reverted. */
  public async undo(journal: readonly JournalEntry[], until?: number): Promise<NumberFailure[]> {
    // Undo may use the time that was held back from the forward work.
    if (until !== undefined) this.until = until;
    this.undoing = true;
    const unbind = new Map<string, string[]>();
    const giveBack = new Map<string, { target: Target; numbers: string[] }>();
    const rebind = new Map<string, string[]>();
    for (const entry of [...journal].reverse()) {
      if (entry.kind === 'disassociated') {
        push(rebind, entry.groupId, entry.number);
      } else if (entry.prior) {
        const key = `${entry.prior.kind}:${entry.prior.id}`;
        const bucket = giveBack.get(key) ?? { target: entry.prior, numbers: [] };
        bucket.numbers.push(entry.number);
        giveBack.set(key, bucket);
      } else {
        push(unbind, entry.groupId, entry.number);
      }
    }

    const failed: NumberFailure[] = [];
    for (const [groupId, numbers] of unbind) {
      failed.push(...(await this.disassociateStep(groupId, numbers, [])));
    }
    for (const { target, numbers } of giveBack.values()) {
      failed.push(...(await this.batched(numbers, (batch) => this.associateCall(target, batch, true), target.id, 'restore')).failed);
    }
    for (const [groupId, numbers] of rebind) {
      failed.push(...(await this.batched(numbers, (batch) => this.associateCall({ kind: 'group', id: groupId }, batch, false), groupId, 'restore')).failed);
    }
    // A number bound back to its group can meet an owner that took it meanwhile: name that owner too.
    return this.explain(failed);
  }

  private async associateStep(step: Extract<Step, { kind: 'associate' }>, journal: JournalEntry[]): Promise<NumberFailure[]> {
    const target: Target = { kind: 'group', id: step.groupId };
    const known = step.force === 'take' ? step.numbers.filter((n) => step.owners?.[n]) : [];
    const rest = known.length > 0 ? step.numbers.filter((n) => !step.owners?.[n]) : step.numbers;
    const failures: NumberFailure[] = [];
    if (known.length > 0) {
      const taken = await this.batched(known, (batch) => this.associateCall(target, batch, true), step.groupId, 'associate');
      for (const number of taken.succeeded) {
        journal.push({ kind: 'associated', groupId: step.groupId, number, prior: ownerBefore(step, number) });
      }
      failures.push(...taken.failed);
    }
    if (rest.length > 0) {
      failures.push(...(await this.associateUnknown({ ...step, numbers: rest }, target, journal)));
    }
    return failures;
  }

  private async associateUnknown(step: Extract<Step, { kind: 'associate' }>, target: Target, journal: JournalEntry[]): Promise<NumberFailure[]> {
    const forced = step.force === 'ours';
    // In the polite pass of forceAssociate a contested number is not a failure: it is forced next.
    const first = await this.batched(step.numbers, (batch) => this.associateCall(target, batch, forced), step.groupId, 'associate',
      step.force === 'take' ? CONTESTED : undefined);
    for (const number of first.succeeded) {
      journal.push({ kind: 'associated', groupId: step.groupId, number, prior: step.from });
    }
    if (step.force !== 'take') {
      return first.failed;
    }

    // forceAssociate: only the numbers the polite call could not take are forced, each with its owner
    // recorded first so that a failure later in this deployment can hand it back.
    const contested = first.failed.filter((f) => f.code === CONTESTED).map((f) => f.number);
    const otherFailures = first.failed.filter((f) => f.code !== CONTESTED);
    // Once the attempt is failing, a number taken now would only be handed back.
    if (contested.length === 0 || this.failedForGood) {
      return first.failed;
    }
    let owners: Map<string, Owner>;
    try {
      owners = await lookupOwners(this.client, contested, this.options.concurrency);
    } catch (error) {
      // Without the owners a forced move could not be handed back, so the contested numbers are not
      // forced. Returning failures (rather than throwing) keeps the journal, so the caller can still
      // undo what this attempt already changed.
      const { name, message } = error as Error;
      return [
        ...otherFailures,
        ...contested.map((number) => ({
          number,
          groupId: step.groupId,
          action: 'associate' as const,
          code: name ?? 'Error',
          message: `could not look up the current owner before forcing it over: ${message ?? String(error)}`,
        })),
      ];
    }
    const second = await this.batched(contested, (batch) => this.associateCall(target, batch, true), step.groupId, 'associate');
    for (const number of second.succeeded) {
      journal.push({ kind: 'associated', groupId: step.groupId, number, prior: owners.get(number) });
    }
    return [...otherFailures, ...second.failed];
  }

  private async disassociateStep(groupId: string, numbers: readonly string[], journal: JournalEntry[]): Promise<NumberFailure[]> {
    // NotFound here means the number is no longer on the group (unbound by hand, or a repeated event):
    // the goal is reached, and there is nothing of ours to restore.
    const result = await this.batched(numbers, (batch) => this.disassociateCall(groupId, batch), groupId, 'disassociate', 'NotFound');
    for (const number of result.succeeded) {
      journal.push({ kind: 'disassociated', groupId, number });
    }
    return result.failed.filter((f) => f.code !== 'NotFound');
  }

  /** `handled`: a per-number code the caller deals with itself, so it does not fail the attempt. */
  private async batched(
    numbers: readonly string[],
    call: (batch: string[]) => Promise<PhoneNumberError[]>,
    groupId: string,
    action: NumberFailure['action'],
    handled?: string,
  ): Promise<CallResult> {
    const results = await Promise.all(chunk(numbers, this.batchSize).map((batch) => this.slots.run(async () => {
      // Undo tries everything.
      if (this.failedForGood && !this.undoing) return { succeeded: [], failed: [] };
      const result = await this.callWithRetries(batch, call, groupId, action);
      this.failedForGood ||= !this.undoing && result.failed.some((f) => f.code !== OUT_OF_TIME && f.code !== handled);
      return result;
    })));
    return { succeeded: results.flatMap((r) => r.succeeded), failed: results.flatMap((r) => r.failed) };
  }

  /**
   * One logical call for a batch: numbers that fail with a transient per-number code are sent again
   * (exponential backoff, full jitter) until they succeed, fail for good, run out of attempts or time.
   * A list the service rejects as a whole with BadRequest is split in half, and the batch size for
   * the rest of the invocation shrinks with it.
   */
  private async callWithRetries(
    numbers: string[],
    call: (batch: string[]) => Promise<PhoneNumberError[]>,
    groupId: string,
    action: NumberFailure['action'],
  ): Promise<CallResult> {
    const succeeded: string[] = [];
    const failed: NumberFailure[] = [];
    let pending = numbers;
    for (let attempt = 1; pending.length > 0; attempt++) {
      if (Date.now() >= this.deadline()) {
        failed.push(...pending.map((number) => outOfTime(number, groupId, action)));
        break;
      }
      let errors: PhoneNumberError[];
      try {
        errors = await call(pending);
      } catch (error) {
        if (error instanceof BadRequestException && pending.length > 1) {
          const half = Math.ceil(pending.length / 2);
          this.batchSize = Math.min(this.batchSize, half);
          this.options.log.warn('list rejected as a whole; splitting it', { groupId, size: pending.length, batchSize: this.batchSize });
          const [left, right] = [pending.slice(0, half), pending.slice(half)];
          const parts = [await this.callWithRetries(left, call, groupId, action), await this.callWithRetries(right, call, groupId, action)];
          succeeded.push(...parts.flatMap((p) => p.succeeded));
          failed.push(...parts.flatMap((p) => p.failed));
          break;
        }
        if ((error as Record<symbol, unknown>)[REFUSED_FOR_TIME]) {
          failed.push(...pending.map((number) => outOfTime(number, groupId, action)));
          break;
        }
        const { name, message } = error as Error;
        failed.push(...pending.map((number) => ({ number, groupId, action, code: name ?? 'Error', message: message ?? String(error) })));
        break;
      }

      const byNumber = new Map(errors.filter((e) => e.PhoneNumberId).map((e) => [normalizeE164(e.PhoneNumberId!), e]));
      const retry: string[] = [];
      for (const number of pending) {
        const error = byNumber.get(number);
        if (!error) {
          succeeded.push(number);
        } else if (TRANSIENT_CODES.has(error.ErrorCode ?? '') && attempt < this.options.numberAttempts) {
          retry.push(number);
        } else {
          failed.push({ number, groupId, action, code: error.ErrorCode ?? 'Unknown', message: error.ErrorMessage ?? '' });
        }
      }
      pending = retry;
      if (pending.length > 0) {
        const ceiling = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** attempt);
        const delay = Math.floor(this.options.random() * ceiling);
        if (Date.now() + delay >= this.deadline()) {
          failed.push(...pending.map((number) => outOfTime(number, groupId, action)));
          break;
        }
        this.options.log.debug('retrying numbers after a transient per-number error', { groupId, count: pending.length, attempt, delay });
        await this.options.sleep(delay);
      }
    }
    return { succeeded, failed };
  }

  private deadline(): number {
    return this.until ?? this.options.deadline();
  }

  private async associateCall(target: Target, numbers: string[], force: boolean): Promise<PhoneNumberError[]> {
    const response = target.kind === 'group'
      ? await this.client.send(new AssociatePhoneNumbersWithVoiceConnectorGroupCommand({
        VoiceConnectorGroupId: target.id,
        E164PhoneNumbers: numbers,
        ForceAssociate: force,
      }))
      : await this.client.send(new AssociatePhoneNumbersWithVoiceConnectorCommand({
        VoiceConnectorId: target.id,
        E164PhoneNumbers: numbers,
        ForceAssociate: force,
      }));
    return response.PhoneNumberErrors ?? [];
  }

  private async disassociateCall(groupId: string, numbers: string[]): Promise<PhoneNumberError[]> {
    const response = await this.client.send(new DisassociatePhoneNumbersFromVoiceConnectorGroupCommand({
      VoiceConnectorGroupId: groupId,
      E164PhoneNumbers: numbers,
    }));
    return response.PhoneNumberErrors ?? [];
  }

  /** Adds the current owner to failures caused by an existing association, so the message can name it. */
  private async explain(failures: NumberFailure[]): Promise<NumberFailure[]> {
    const contested = failures.filter((f) => f.code === CONTESTED).map((f) => f.number);
    if (contested.length === 0) return failures;
    try {
      const owners = await lookupOwners(this.client, contested, this.options.concurrency);
      return failures.map((f) => (owners.has(f.number) ? { ...f, owner: owners.get(f.number) } : f));
    } catch (error) {
      this.options.log.warn('could not look up who holds the contested numbers', { error: (error as Error).name });
      return failures;
    }
  }
}

function outOfTime(number: string, groupId: string, action: NumberFailure['action']): NumberFailure {
  return { number, groupId, action, code: OUT_OF_TIME, message: 'the handler ran short of time before this number' };
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key) ?? [];
  list.push(value);
  map.set(key, list);
}

/**
 * Splits steps, in order, into groups whose steps touch disjoint numbers, so that no number is ever
 * in two calls at once and a step that depends on an earlier one (shares a number with it) waits for it.
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
