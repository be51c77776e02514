import { ANSWER_LIMIT_MINUTES, FORWARD_LIMIT_MINUTES, UNDO_LIMIT_MINUTES } from '../../src/binding-properties';

/**
 * The time one invocation may use, in epoch ms. Every limit is the earlier of the invocation's own (its
 * remaining Lambda time) and the deployment's (counted from the first invocation, across the Provider
 * framework's completion checks), so forward work, an undo and the answer all end inside
 * CloudFormation's ServiceTimeout however the invocations fall.
 */
export interface Budget {
  /** When the deployment started: the first invocation of this event. */
  readonly startedAt: number;
  /** No new forward change starts after this. */
  readonly forward: number;
  /** Undo, reads and the answer's own work are done by this; every call still in flight is aborted then. */
  readonly end: number;
  /** The deployment is past its forward limit: what is left is not done, and the attempt is undone. */
  readonly overtime: boolean;
}

/** Kept free at the end of an invocation for the answer to reach the Provider framework. */
export const ANSWER_MARGIN_MS = 5_000;
/** Share of an invocation's time kept back for undoing a failed attempt. */
export const UNDO_SHARE = 0.35;

export function budgetFor(startedAt: number, remainingMs: number, now: number = Date.now()): Budget {
  const usable = Math.max(0, remainingMs - ANSWER_MARGIN_MS);
  const invocationEnd = now + usable;
  const deploymentForward = startedAt + FORWARD_LIMIT_MINUTES * 60_000;
  const deploymentUndo = startedAt + UNDO_LIMIT_MINUTES * 60_000;
  const deploymentAnswer = startedAt + ANSWER_LIMIT_MINUTES * 60_000;
  return {
    startedAt,
    forward: Math.min(now + usable * (1 - UNDO_SHARE), deploymentForward),
    end: Math.min(invocationEnd, Math.max(deploymentUndo, now + 1), deploymentAnswer),
    overtime: now >= deploymentForward,
  };
}
