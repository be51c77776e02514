import type { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { budgetFor, type Budget } from './budget';
import { OUT_OF_TIME } from './error-codes';
import { executorFor, type Execution, type JournalEntry, type NumberFailure } from './execute';
import {
  failureMessage, messageBudget, readFailureMessage, refusalMessage, restoreCommand,
} from './messages';
import { read } from './observe';
import { stackPhase, Waiter, type StackPhase } from './phase';
import {
  cautiousRollbackReads, countNumbers, currentOwner, forwardReads, planCautiousRollback, planDelete, planForward, planReads,
  planRestore, restoreReads, type Readings, type ReadPlan, type Step, type Unrestored,
} from './plan';
import {
  decodePhysicalId, encodePhysicalId, fingerprint, isRecordId, PHYSICAL_ID_MAX_BYTES, RecordTooLargeError, type Owner, type RollbackRecord,
} from './record';
import { InvalidPropertiesError, parseRequest, unknownPropertyNames, type ShardRequest, type ShardSpec } from './request';
import { settingsFromEnvironment, type HandlerSettings } from './settings';
import { Attr, CHECKPOINT_KEY } from '../../src/binding-properties';
import { deployTimeClient } from '../shared/client';
import { awsReaders, type StackReader, type WaiterReader, WaiterExecution } from '../shared/control-plane';
import type { Logger } from '../shared/log';

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
 * What an event that did not finish in its first invocation needs in order to go on, passed by the
 * framework from onEvent to every completion check: the steps still to do (progress itself is read back
 * from the service), the answer's Data, and what a waiting rollback does once nothing else runs. The
 * rollback record is in the physical id, which the completion checks receive too.
 */
export interface Checkpoint {
  readonly complete: boolean;
  /** Epoch ms of the first invocation. */
  readonly startedAt: number;
  readonly mode?: 'forward' | 'restore' | 'cautious' | 'delete' | 'wait';
  readonly steps?: readonly Step[];
  readonly data?: Record<string, string | number>;
  /** For `wait`: what to do once no other completion check of this resource is running. */
  readonly then?: 'restore' | 'cautious' | 'placeholder' | 'answered';
  /** For `wait` of a placeholder Delete: the Create executions it waits for. */
  readonly waitingFor?: readonly string[];
}

/** An isComplete event: the CloudFormation event with the onEvent result spread over it. */
export type CompletionEvent = CloudFormationCustomResourceEvent & { readonly [CHECKPOINT_KEY]: Checkpoint; readonly PhysicalResourceId: string };

/** What the handler talks to; tests replace any of it. */
export interface Dependencies {
  readonly chime: (deadline: () => number) => ChimeSDKVoiceClient;
  readonly stacks: StackReader;
  readonly executions: WaiterReader;
  readonly settings: HandlerSettings;
  readonly env: Record<string, string | undefined>;
}

export function defaultDependencies(env: Record<string, string | undefined> = process.env): Dependencies {
  const readers = awsReaders(env);
  return { chime: (deadline) => deployTimeClient(deadline), stacks: readers, executions: readers, settings: settingsFromEnvironment(env), env };
}

/**
 * Entry point for both of the Provider framework's calls: onEvent (a plain CloudFormation event) and
 * isComplete (the same event carrying onEvent's result). One function serves both.
 */
export async function handler(
  event: CloudFormationCustomResourceEvent | CompletionEvent,
  context?: Pick<Context, 'getRemainingTimeInMillis'>,
): Promise<OnEventResponse | IsCompleteResponse> {
  return handle(event, context?.getRemainingTimeInMillis?.() ?? 15 * 60_000, defaultDependencies());
}

export async function handle(
  event: CloudFormationCustomResourceEvent | CompletionEvent,
  remainingMs: number,
  deps: Dependencies,
): Promise<OnEventResponse | IsCompleteResponse> {
  if (CHECKPOINT_KEY in event) {
    return new Invocation(event, deps, budgetFor(event[CHECKPOINT_KEY].startedAt, remainingMs)).isComplete(event);
  }
  const invocation = new Invocation(event, deps, budgetFor(Date.now(), remainingMs));
  deps.settings.log.info('event', {
    requestType: event.RequestType,
    logicalId: event.LogicalResourceId,
    remainingMs,
    unknownProperties: unknownPropertyNames(event.ResourceProperties ?? {}),
  });
  return invocation.onEvent();
}

/** One invocation of the handler for one event. */
class Invocation {
  private readonly log: Logger;
  private readonly waiter: Waiter;
  private client?: ChimeSDKVoiceClient;
  private deadline = 0;

  constructor(private readonly event: CloudFormationCustomResourceEvent, private readonly deps: Dependencies, private readonly budget: Budget) {
    this.log = deps.settings.log;
    this.waiter = new Waiter(deps.stacks, deps.executions, deps.env);
  }

  private get what(): string {
    return `${this.event.RequestType} of ${this.event.LogicalResourceId}`;
  }

  /** One client per invocation, retrying until the forward deadline, or until the end for an undo or a rollback. */
  private chime(): ChimeSDKVoiceClient {
    this.client ??= this.deps.chime(() => this.deadline);
    return this.client;
  }

  public async onEvent(): Promise<OnEventResponse> {
    const { event } = this;
    // A repeated delivery answers what the first delivery answered: its record describes the bindings as
    // they were before any change, which this delivery can no longer see.
    const earlier = await this.waiter.earlier(event.StackId, event.RequestId).catch((error) => {
      this.log.warn('could not look for an earlier delivery of this event', { error: (error as Error).name });
      return undefined;
    });
    if (earlier?.input && typeof earlier.input.PhysicalResourceId === 'string' && earlier.input[CHECKPOINT_KEY]) {
      this.log.info('repeated delivery: answering as the first delivery did', { requestId: event.RequestId });
      return {
        PhysicalResourceId: earlier.input.PhysicalResourceId,
        Data: (earlier.input.Data ?? {}) as Record<string, string | number>,
        [CHECKPOINT_KEY]: earlier.input[CHECKPOINT_KEY] as Checkpoint,
      };
    }
    const request = parseRequest(event);
    const phase = await stackPhase(this.deps.stacks, event.StackId);
    this.log.info('phase', { status: phase.status, rollingBack: phase.rollingBack });
    if (request.type === 'Delete') return this.onDelete(request, phase);
    if (request.type === 'Update' && phase.rollingBack) return this.onRollbackUpdate(request, phase);
    return this.forward(request);
  }

  // ----------------------------------------------------------------------------------------------------
  // Create and Update: bind what was added, unbind what was removed, move what changed group.

  private async forward(request: Extract<ShardRequest, { type: 'Create' | 'Update' }>): Promise<OnEventResponse> {
    const { desired } = request;
    const previous = request.type === 'Update' ? request.previous : undefined;
    const listed = await this.reads(forwardReads(desired, previous));
    // A listing shows what is on a group, not where a missing number went. Every-deploy numbers the stack
    // already had there and the listing did not show have drifted: each is read on its own, so one moved
    // elsewhere is reported and left, instead of being sent to a plain association the service refuses.
    const drifted = [...desired.bindings.values()]
      .filter((b) => b.everyDeploy && previous?.bindings.get(b.number)?.groupId === b.groupId && currentOwner(listed, b.number) === undefined)
      .map((b) => b.number);
    const readings = drifted.length === 0 ? listed : mergeReadings(listed, await this.reads({ numbers: drifted.sort(), groups: [] }));
    const plan = planForward(desired, previous, readings);
    const ownId = request.type === 'Update' ? request.physicalId : undefined;
    if (plan.refused.length > 0) {
      this.log.error('numbers bound elsewhere, refused', { refused: plan.refused.map((r) => ({ number: r.number, owner: `${r.owner.kind}:${r.owner.id}` })) });
      throw userError(refusalMessage(this.what, plan.refused, messageBudget(ownId)));
    }
    const missing = [...new Set(plan.steps.filter((s) => s.kind === 'associate' && s.target.kind === 'group' && readings.missingGroups.has(s.target.id))
      .map((s) => (s.kind === 'associate' ? s.target.id : '')))];
    if (missing.length > 0) {
      throw userError(`${this.what} failed: voice connector group ${missing.join(', ')} does not exist in this account and region (${this.deps.env.AWS_REGION ?? 'unknown'}). ` +
        "Check voiceConnectorGroupId and the stack's region (aws chime-sdk-voice list-voice-connector-groups lists the groups). Nothing was changed.");
    }
    const record: RollbackRecord = {
      shard: desired.shard,
      fingerprint: fingerprint(this.event.ResourceProperties),
      from: this.event.RequestType === 'Update' ? fingerprint(this.event.OldResourceProperties ?? {}) : '',
      prior: plan.prior,
      unbound: plan.unbound,
    };
    // Every Create and Update answers an id with its own record, empty when it changes nothing, so the id
    // never carries an older event's record into this event's rollback.
    let physicalId: string;
    try {
      physicalId = encodePhysicalId(record, [...desired.bindings.keys()]);
    } catch (error) {
      if (!(error instanceof RecordTooLargeError)) throw error;
      throw userError(
        `${this.what} would change more numbers at once than its rollback record can describe (${error.what}; the record travels in the physical id, ` +
        `which CloudFormation caps at ${PHYSICAL_ID_MAX_BYTES} bytes). Nothing was changed. Deploy the change in two or more smaller steps ` +
        '(for example, half of the added or moved numbers first), or take numbers from fewer previous owners at once.',
      );
    }
    const data = {
      [Attr.SHARD]: desired.shard,
      [Attr.DECLARED_COUNT]: plan.counts.declared,
      [Attr.ASSOCIATED_COUNT]: countNumbers(plan.steps.filter((s) => s.kind === 'associate')),
      [Attr.DISASSOCIATED_COUNT]: countNumbers(plan.steps.filter((s) => s.kind === 'disassociate')),
      [Attr.UNCHANGED_COUNT]: plan.counts.unchanged,
      [Attr.RETAINED_COUNT]: plan.counts.retained,
      ...(plan.counts.rebound + plan.counts.foreign + plan.notRepaired.length > 0 ? {
        [Attr.DRIFT_REBOUND_COUNT]: plan.counts.rebound,
        [Attr.DRIFT_UNBOUND_COUNT]: plan.counts.foreign,
        [Attr.DRIFT_NOT_REPAIRED_COUNT]: plan.notRepaired.length,
      } : {}),
    };
    this.log.info('plan', {
      physicalId,
      declared: plan.counts.declared,
      unchanged: plan.counts.unchanged,
      retained: plan.counts.retained,
      steps: plan.steps.map((s) => ({ kind: s.kind, target: s.kind === 'associate' ? `${s.target.kind}:${s.target.id}` : s.groupId, count: s.numbers.length, ...(s.kind === 'associate' ? { force: s.force } : {}) })),
    });
    if (plan.notRepaired.length > 0) {
      this.log.warn('drifted numbers bound elsewhere were left there: set forceAssociate to take them back', {
        notRepaired: plan.notRepaired.map(({ number, owner }) => ({ number, boundTo: `${owner.kind}:${owner.id}` })),
      });
    }
    const execution = await this.run(plan.steps, false);
    return this.afterForward(execution, plan.steps, physicalId, record, desired, data);
  }

  private async afterForward(
    execution: Execution, steps: readonly Step[], physicalId: string, record: RollbackRecord, desired: ShardSpec,
    data: Record<string, string | number>,
  ): Promise<OnEventResponse> {
    const real = execution.failures.filter((f) => f.code !== OUT_OF_TIME);
    if (real.length > 0) throw await this.undoAndExplain(real, record, desired, physicalId, execution.journal);
    if (execution.failures.length > 0) {
      this.log.info('out of time for now; the completion checks carry on', { physicalId, left: execution.failures.length });
      return { PhysicalResourceId: physicalId, Data: {}, [CHECKPOINT_KEY]: { complete: false, startedAt: this.budget.startedAt, mode: 'forward', steps, data } };
    }
    await this.cancelIfRollingBack(record, desired, physicalId);
    this.log.info('done', { physicalId, ...data });
    return { PhysicalResourceId: physicalId, Data: data, [CHECKPOINT_KEY]: { complete: true, startedAt: this.budget.startedAt, mode: 'forward' } };
  }

  /**
   * CloudFormation may give up on an event in flight (a sibling failed) and roll back without waiting for
   * it: its rollback events can then run before this event's last change. So a forward event looks at the
   * stack before it answers success, and, if the stack is rolling back, undoes its own changes through its
   * record and fails (an answer CloudFormation ignores by then).
   */
  private async cancelIfRollingBack(record: RollbackRecord, desired: ShardSpec, physicalId: string): Promise<void> {
    const phase = await stackPhase(this.deps.stacks, this.event.StackId);
    if (!phase.rollingBack) return;
    this.log.warn('the stack is rolling back while this event ran: undoing it', { physicalId, status: phase.status });
    const undo = await this.restore(record, desired, []);
    throw userError(failureMessage(`${this.what} (cancelled: the stack is ${phase.status})`, [], undo, messageBudget(physicalId)));
  }

  /** Undoes a failing attempt through its record (what is still as the attempt left it), and builds the error. */
  private async undoAndExplain(
    failures: readonly NumberFailure[], record: RollbackRecord, spec: ShardSpec, physicalId: string, journal: readonly JournalEntry[],
  ): Promise<Error> {
    this.log.error('failed numbers', { failures: failures.map(({ number, code, action, groupId }) => ({ number, code, action, groupId })) });
    const undo = await this.restore(record, spec, journal);
    return userError(failureMessage(this.what, failures, undo, messageBudget(physicalId)));
  }

  // ----------------------------------------------------------------------------------------------------
  // Rollbacks: put back what the rolled-back event changed, exactly, and never fail because of a binding.

  private async onRollbackUpdate(request: Extract<ShardRequest, { type: 'Update' }>, phase: StackPhase): Promise<OnEventResponse> {
    const written = this.recordFor(request.physicalId, request.previous, this.rolledBackProperties, false);
    if (written && written.from !== fingerprint(this.event.ResourceProperties)) {
      // The id's record is of the event that set the old properties, but this Update does not go back to
      // what that event replaced: it is a forward Update, sent before the rollback began and run after.
      // CloudFormation no longer waits for it; the rollback Update that follows puts the resource back.
      this.log.warn('a forward Update reached the handler after the stack began to roll back: nothing changed', { physicalId: request.physicalId, status: phase.status });
      throw userError(`${this.what} (cancelled: the stack is ${phase.status}) changed nothing: it reached the handler after the stack began to roll back.`);
    }
    // Without its record in the id, the rolled-back Update may still have run: CloudFormation cancelled it
    // in flight and never took its answer. Its record is then in the waiter's execution of it.
    return this.afterWaiting(written ? 'restore' : 'answered');
  }

  /**
   * The properties the rolled-back event set: a rollback Update's old properties, or a Delete's properties.
   */
  private get rolledBackProperties(): Record<string, unknown> {
    const event = this.event;
    return (event.RequestType === 'Update' ? event.OldResourceProperties : event.ResourceProperties) ?? {};
  }

  /** The record in a physical id, if it was written by the event that set the properties being rolled back. */
  private recordFor(
    physicalId: string, spec: ShardSpec | undefined, properties: Record<string, unknown> = this.rolledBackProperties, checkFrom = true,
  ): RollbackRecord | undefined {
    if (!spec) return undefined;
    const record = decodePhysicalId(physicalId, [...spec.bindings.keys()]);
    if (!record || record.fingerprint !== fingerprint(properties)) return undefined;
    // A rollback Update undoes the record only if it goes back to what the recorded event replaced.
    if (checkFrom && this.event.RequestType === 'Update' && record.from !== fingerprint(this.event.ResourceProperties)) return undefined;
    return record;
  }

  /**
   * A rollback acts once no completion check of the rolled-back event is still running: CloudFormation
   * rolls back without waiting for one, and that check undoes its own changes when it sees the rollback.
   */
  private async afterWaiting(then: NonNullable<Checkpoint['then']>, waitingFor?: readonly string[]): Promise<OnEventResponse> {
    const { event } = this;
    const pid = (event as { PhysicalResourceId?: string }).PhysicalResourceId ?? event.RequestId;
    const running = await this.waiter.runningFor(event.StackId, event.LogicalResourceId, event.RequestId).catch((error) => {
      this.log.warn('could not list the waiter\'s running executions; going on without waiting', { error: (error as Error).name });
      return [];
    });
    if (running.length > 0) {
      this.log.info('waiting for a completion check of this resource that is still running', { running: running.map((r) => r.name) });
      return {
        PhysicalResourceId: pid,
        Data: {},
        [CHECKPOINT_KEY]: { complete: false, startedAt: this.budget.startedAt, mode: 'wait', then, waitingFor: [...new Set([...waitingFor ?? [], ...running.map((r) => r.name)])] },
      };
    }
    return this.rollbackNow(then, pid, waitingFor ?? []);
  }

  private async rollbackNow(waitedThen: NonNullable<Checkpoint['then']>, pid: string, waitedFor: readonly string[]): Promise<OnEventResponse> {
    const { event } = this;
    let then = waitedThen;
    const request = parseRequest(event);
    let steps: readonly Step[] = [];
    let unrestored: readonly Unrestored[] = [];
    let spec: ShardSpec | undefined;
    let record: RollbackRecord | undefined;
    if (then === 'answered' && request.type === 'Update') {
      // The cancelled Update answered its record to the waiter, not to CloudFormation.
      const answered = await this.answeredPhysicalId('Update', waitedFor);
      record = answered === undefined ? undefined : this.recordFor(answered, request.previous);
      if (record) this.log.info('rollback: the rolled-back Update ran after CloudFormation cancelled it; undoing its record', { answered });
      else then = 'cautious';
    }
    if (then === 'restore' || then === 'placeholder' || then === 'answered') {
      let recordPid = pid;
      spec = request.type === 'Update' ? request.previous : request.type === 'Delete' ? request.previous : undefined;
      if (then === 'placeholder') {
        // The Create this Delete cancels answered its record to the waiter, not to CloudFormation.
        recordPid = await this.answeredPhysicalId('Create', waitedFor) ?? pid;
      }
      record ??= this.recordFor(recordPid, spec);
      if (!record || !spec) {
        this.log.info('rollback: no record of what the rolled-back event changed; nothing to put back', { physicalId: pid });
        return this.done(pid, { [Attr.RESTORED_COUNT]: 0, [Attr.NOT_RESTORED_COUNT]: 0 });
      }
      const readings = await this.reads(restoreReads(record, spec), true);
      ({ steps, unrestored } = planRestore(record, spec, readings));
    } else if (request.type === 'Update') {
      const readings = await this.reads(cautiousRollbackReads(request.desired, request.previous), true);
      steps = planCautiousRollback(request.desired, request.previous, readings);
      spec = request.desired;
    }
    this.log.info('rollback plan', { physicalId: pid, restore: countNumbers(steps), alreadyElsewhere: unrestored.length });
    const execution = await this.run(steps, true);
    return this.afterRollback(execution, steps, pid, unrestored, spec);
  }

  private afterRollback(
    execution: Execution, steps: readonly Step[], pid: string, unrestored: readonly Unrestored[], spec: ShardSpec | undefined,
  ): OnEventResponse {
    const left = execution.failures.filter((f) => f.code === OUT_OF_TIME);
    const failed = execution.failures.filter((f) => f.code !== OUT_OF_TIME);
    this.reportUnrestored(unrestored, failed, spec);
    const data = { [Attr.RESTORED_COUNT]: execution.journal.length, [Attr.NOT_RESTORED_COUNT]: unrestored.length + failed.length };
    if (left.length > 0 && !this.budget.overtime) {
      return { PhysicalResourceId: pid, Data: {}, [CHECKPOINT_KEY]: { complete: false, startedAt: this.budget.startedAt, mode: 'restore', steps, data } };
    }
    return this.done(pid, data);
  }

  /** A rollback that could not put a number back says so in the log, with the command that does it by hand; it never fails. */
  private reportUnrestored(unrestored: readonly Unrestored[], failed: readonly NumberFailure[], spec: ShardSpec | undefined): void {
    if (unrestored.length + failed.length === 0) return;
    this.log.warn('rollback left numbers where they are: they have moved on since, or the call failed', {
      elsewhere: unrestored.map((u) => ({ number: u.number, now: u.now ? `${u.now.kind}:${u.now.id}` : u.now, command: restoreCommand(u, spec?.bindings.get(u.number)?.groupId ?? '') })),
      failed: failed.map(({ number, code, groupId }) => ({ number, code, groupId })),
    });
  }

  /**
   * The physical id a cancelled Create or Update of this resource answered to the waiter, from its
   * execution's input: one this rollback waited for, else the newest of the waiter's executions for this
   * resource whose record is of the properties being rolled back.
   */
  private async answeredPhysicalId(requestType: 'Create' | 'Update', names: readonly string[]): Promise<string | undefined> {
    const { StackId, LogicalResourceId, RequestId } = this.event;
    const isAnswer = (execution: WaiterExecution | undefined): execution is WaiterExecution => {
      const input = execution?.input;
      return input?.RequestType === requestType && typeof input.PhysicalResourceId === 'string' && isRecordId(input.PhysicalResourceId)
        && execution!.name !== RequestId;
    };
    for (const name of names) {
      const execution = await this.waiter.byName(StackId, name).catch(() => undefined);
      if (isAnswer(execution)) return execution.input!.PhysicalResourceId as string;
    }
    const newest = await this.waiter.newestFor(StackId, LogicalResourceId, (e) => e.name !== RequestId).catch(() => undefined);
    return isAnswer(newest) ? newest.input!.PhysicalResourceId as string : undefined;
  }

  // ----------------------------------------------------------------------------------------------------
  // Delete: unbind the declared numbers, but only when the resource itself goes away in a deploy or a
  // stack deletion; a rollback's Delete puts back what the deleted resource's event changed.

  private async onDelete(request: Extract<ShardRequest, { type: 'Delete' }>, phase: StackPhase): Promise<OnEventResponse> {
    const { event } = this;
    if (phase.rollingBack) {
      if (!isRecordId(request.physicalId)) {
        // CloudFormation cancelled a Create before it answered and made this id up: find the Create's
        // executions (running, or finished since) through the waiter, wait for them, then use their record.
        const running = await this.waiter.runningFor(event.StackId, event.LogicalResourceId, event.RequestId).catch(() => []);
        return this.afterWaiting('placeholder', running.map((r) => r.name));
      }
      return this.afterWaiting('restore');
    }
    if (!phase.deleting) {
      const current = await this.deps.stacks.physicalIdOf(event.StackId, event.LogicalResourceId);
      if (current !== undefined && current !== request.physicalId) {
        // An id the resource has replaced: its numbers belong to the resource's current id now.
        this.log.info('replaced physical id: nothing to unbind', { physicalId: request.physicalId, current });
        return this.done(request.physicalId, {});
      }
    }
    const previous = request.previous;
    if (!previous) {
      this.log.warn('Delete with properties this handler cannot read: nothing unbound', { physicalId: request.physicalId });
      return this.done(request.physicalId, {});
    }
    const plan = planDelete(previous);
    const data = {
      [Attr.SHARD]: previous.shard,
      [Attr.DECLARED_COUNT]: previous.bindings.size,
      [Attr.DISASSOCIATED_COUNT]: countNumbers(plan.steps),
      [Attr.RETAINED_COUNT]: plan.retained,
    };
    const execution = await this.run(plan.steps, false);
    return this.afterDelete(execution, plan.steps, request.physicalId, data);
  }

  private afterDelete(execution: Execution, steps: readonly Step[], pid: string, data: Record<string, string | number>): OnEventResponse {
    const real = execution.failures.filter((f) => f.code !== OUT_OF_TIME);
    if (real.length > 0 || (execution.failures.length > 0 && this.budget.overtime)) {
      // Nothing is bound back: unbinding is what a Delete is for, and a number this attempt found off its
      // group may have been off it before. A retry sends the rest again.
      const sent = countNumbers(steps);
      throw userError(failureMessage(this.what, execution.failures,
        `The other ${sent - execution.failures.length} number(s) of this binding resource are off their groups, as the deletion wants; ` +
        'the ones above may still be on them. Retry the deletion (or deploy again) once the cause is fixed.', messageBudget(pid)));
    }
    if (execution.failures.length > 0) {
      return { PhysicalResourceId: pid, Data: {}, [CHECKPOINT_KEY]: { complete: false, startedAt: this.budget.startedAt, mode: 'delete', steps, data } };
    }
    this.log.info('done', { physicalId: pid, ...data });
    return this.done(pid, data);
  }

  // ----------------------------------------------------------------------------------------------------
  // Completion checks.

  public async isComplete(event: CompletionEvent): Promise<IsCompleteResponse> {
    const checkpoint = event[CHECKPOINT_KEY];
    const pid = event.PhysicalResourceId;
    if (checkpoint.complete) {
      if (checkpoint.mode === 'forward' && isRecordId(pid)) {
        // The last moment before success is reported: a forward event whose stack started rolling back
        // meanwhile undoes itself instead.
        const request = parseRequest(event) as Extract<ShardRequest, { type: 'Create' | 'Update' }>;
        const record = this.recordFor(pid, request.desired, event.ResourceProperties, false);
        if (record) await this.cancelIfRollingBack(record, request.desired, pid);
      }
      return { IsComplete: true };
    }
    switch (checkpoint.mode) {
      case 'wait': {
        const response = await this.afterWaiting(checkpoint.then!, checkpoint.waitingFor);
        return this.asCompletion(response);
      }
      case 'forward': {
        const request = parseRequest(event) as Extract<ShardRequest, { type: 'Create' | 'Update' }>;
        const record = decodePhysicalId(pid, [...request.desired.bindings.keys()])!;
        await this.cancelIfRollingBack(record, request.desired, pid);
        const remaining = await this.remaining(checkpoint.steps ?? []);
        if (this.budget.overtime && remaining.length > 0) {
          const failures = remaining.flatMap((s) => s.numbers.map((number): NumberFailure => ({
            number,
            groupId: s.kind === 'associate' ? s.target.id : s.groupId,
            action: s.kind,
            code: OUT_OF_TIME,
            message: 'not done within the time one deployment may take',
          })));
          throw await this.undoAndExplain(failures, record, request.desired, pid, []);
        }
        this.log.info('completion check', { physicalId: pid, left: countNumbers(remaining) });
        const execution = await this.run(remaining, false);
        return this.asCompletion(await this.afterForward(execution, checkpoint.steps ?? [], pid, record, request.desired, checkpoint.data ?? {}));
      }
      case 'restore': {
        const remaining = await this.remaining(checkpoint.steps ?? []);
        const execution = await this.run(remaining, true);
        const request = parseRequest(event);
        const spec = request.type === 'Create' ? request.desired : request.previous;
        return this.asCompletion(this.afterRollback(execution, checkpoint.steps ?? [], pid, [], spec));
      }
      case 'delete': {
        // Sent again whole, without reading: unbinding a number already off its group changes nothing.
        const execution = await this.run(checkpoint.steps ?? [], false);
        return this.asCompletion(await this.afterDelete(execution, checkpoint.steps ?? [], pid, checkpoint.data ?? {}));
      }
      default:
        return { IsComplete: true };
    }
  }

  private asCompletion(response: OnEventResponse): IsCompleteResponse {
    const checkpoint = response[CHECKPOINT_KEY];
    return checkpoint.complete ? { IsComplete: true, Data: response.Data } : { IsComplete: false };
  }

  /** The part of `steps` not yet done, read back from the service. */
  private async remaining(steps: readonly Step[]): Promise<Step[]> {
    const numbers = new Map<string, string[]>();
    const exact = new Set<string>();
    for (const step of steps) {
      for (const n of step.numbers) {
        numbers.set(n, [step.kind === 'associate' ? step.target.id : step.groupId]);
        if (step.kind === 'associate' && step.target.kind === 'voiceConnector') exact.add(n);
      }
    }
    const readings = await this.reads(planReads(numbers, exact), true);
    return steps.map((step): Step => ({
      ...step,
      numbers: step.numbers.filter((n) => {
        const owner = currentOwner(readings, n);
        return step.kind === 'associate'
          ? !(owner && owner.kind === step.target.kind && owner.id === step.target.id)
          : owner?.kind === 'group' && owner.id === step.groupId;
      }),
    })).filter((s) => s.numbers.length > 0);
  }

  // ----------------------------------------------------------------------------------------------------

  /** Puts back, through the record, what is still as the event left it. Best effort: reports what it could not. */
  private async restore(record: RollbackRecord, spec: ShardSpec, journal: readonly JournalEntry[]): Promise<{ changed: number; left: Unrestored[] }> {
    let readings: Readings;
    try {
      readings = await this.reads(restoreReads(record, spec), true);
    } catch (error) {
      this.log.error('could not read the numbers to undo', { error: (error as Error).name });
      return {
        changed: journal.length,
        left: [...record.prior.keys()].map((number) => ({ number, wanted: record.prior.get(number)!, now: undefined })),
      };
    }
    // What this invocation just did is known for certain, whatever a read right after a write shows.
    const owners = new Map(readings.owners);
    for (const entry of journal) owners.set(entry.number, entry.kind === 'associated' ? entry.target : null);
    const { steps, unrestored } = planRestore(record, spec, { ...readings, owners });
    const execution = await this.run(steps, true);
    const left: Unrestored[] = [...unrestored, ...execution.failures.map((f): Unrestored => ({
      number: f.number,
      wanted: record.prior.get(f.number) ?? { kind: 'owned', owner: { kind: 'group', id: record.unbound.get(f.number) ?? f.groupId } },
      now: (f.owner ?? owners.get(f.number)) as Owner | null | undefined,
    }))];
    this.reportUnrestored(left, [], spec);
    return { changed: journal.length, left };
  }

  /** Runs reads; a failure before any change is reported as such. Reads for an undo or a rollback may use the whole invocation. */
  private async reads(plan: ReadPlan, late = false): Promise<Readings> {
    this.deadline = late ? this.budget.end : this.budget.forward;
    try {
      return await read(this.chime(), plan, this.deps.settings.concurrency, this.budget.end);
    } catch (error) {
      if (late) throw error;
      throw userError(readFailureMessage(this.what, error as Error));
    }
  }

  private async run(steps: readonly Step[], bestEffort: boolean): Promise<Execution> {
    if (steps.length === 0) return { journal: [], failures: [] };
    this.deadline = bestEffort ? this.budget.end : this.budget.forward;
    return executorFor(this.chime(), this.deps.settings, this.deadline, this.budget.end, bestEffort).run(steps);
  }

  private done(pid: string, data: Record<string, string | number>): OnEventResponse {
    return { PhysicalResourceId: pid, Data: data, [CHECKPOINT_KEY]: { complete: true, startedAt: this.budget.startedAt } };
  }
}

/**
 * An error for the person running the deployment. Its stack is the message's first line alone: Lambda
 * reports the stack as the error's trace, and the Provider framework appends all of the trace but its
 * first line to the message in the FAILED reason, where it would only repeat the message (or add a stack
 * trace) and push the response past CloudFormation's 4,096 bytes.
 */
function userError(message: string): Error {
  const error = new Error(message);
  error.stack = message.split('\n')[0];
  return error;
}

export { InvalidPropertiesError };

/** Readings of one event put together: a later read of a number wins over a listing. */
function mergeReadings(first: Readings, second: Readings): Readings {
  return {
    owners: new Map([...first.owners, ...second.owners]),
    groups: new Map([...first.groups, ...second.groups]),
    missingGroups: new Set([...first.missingGroups, ...second.missingGroups]),
  };
}
