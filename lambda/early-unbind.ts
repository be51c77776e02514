import type { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import type { Execution, Executor } from './execute';
import { observeGroups, type PageListener } from './observe';
import { planChanges, type GroupObservation, type Observations } from './plan';
import type { BindingRequest } from './request';

/**
 * A Delete that lists its group unbinds each page's numbers as soon as that page arrives, instead of
 * waiting for the whole listing: a Delete's plan for a page is the declared numbers on that page, so
 * nothing is lost by starting early, and the listing (one call after another) overlaps the writes.
 *
 * Whether a listing's next-token still finds every number after numbers before it were unbound is not
 * documented. So if writes started while the listing went on and a declared number never showed up, those
 * numbers are read once more after the writes, and any still bound are unbound then.
 */
export class EarlyUnbind {
  private readonly runs: Promise<Execution>[] = [];
  private listed = false;
  private wroteWhileListing = false;

  constructor(
    private readonly request: Extract<BindingRequest, { type: 'Delete' }>,
    private readonly executor: Executor,
  ) {}

  public readonly onPage: PageListener = (groupId, bound) => {
    this.listed = true;
    if (this.runs.length > 0) this.wroteWhileListing = true;
    const { steps } = planChanges(this.request, new Map([[groupId, { exists: true, bound }]]));
    if (steps.length > 0) this.runs.push(this.executor.run(steps));
  };

  /** Waits for every write started so far; what they changed and what failed. */
  public async settle(): Promise<Execution> {
    const runs = await Promise.all(this.runs);
    return { journal: runs.flatMap((r) => r.journal), failures: runs.flatMap((r) => r.failures) };
  }

  /**
   * Waits for the early writes, then reads again any declared number the listing did not show (when the
   * listing may have skipped it) and unbinds those still on the group. Returns everything done and the
   * observations merged, which are what the plan is made from. Without a listing (a Delete of a single
   * number reads it on its own) nothing was started: `execution` is then undefined and the plan runs as usual.
   */
  public async finish(
    client: ChimeSDKVoiceClient,
    observations: Observations,
    concurrency: number,
  ): Promise<{ execution?: Execution; observations: Observations }> {
    if (!this.listed) {
      return { execution: undefined, observations };
    }
    const early = await this.settle();
    const previous = this.request.previous;
    const listed = previous && observations.get(previous.groupId);
    if (!previous || !listed?.exists || !this.wroteWhileListing || early.failures.length > 0) {
      return { execution: early, observations };
    }
    const unseen = previous.numbers.filter((n) => !listed.bound.has(n));
    if (unseen.length === 0) {
      return { execution: early, observations };
    }
    const { groupId } = previous;
    const again = await observeGroups(client, [{ groupId, numbers: new Set(unseen), declaredCount: previous.numbers.length }], concurrency);
    const stillBound = unseen.filter((n) => again.get(groupId)!.bound.has(n));
    const merged: GroupObservation = { exists: true, bound: new Set([...listed.bound, ...stillBound]) };
    const late = await this.executor.run(planChanges(this.request, new Map([[groupId, { exists: true, bound: new Set(stillBound) }]])).steps);
    return {
      execution: { journal: [...early.journal, ...late.journal], failures: [...early.failures, ...late.failures] },
      observations: new Map([[groupId, merged]]),
    };
  }
}
