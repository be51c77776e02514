import { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';

/**
 * Name of the error a call gets when it could not even be sent before the deadline. It matches the
 * executor's OUT_OF_TIME code (not imported, to keep the executor out of the group handler's bundle),
 * so such a number is carried over to the completion checks instead of failing the deployment.
 */
export const OUT_OF_TIME_ERROR = 'OutOfTime';

/** One send's place in the rate window: held from the send until one window after its answer. */
interface Slot {
  answeredAt?: number;
  ok?: boolean;
}

interface Waiter {
  readonly deadline: number;
  readonly resolve: (slot: Slot) => void;
  readonly reject: (error: Error) => void;
}

export interface WindowRateLimiterOptions {
  /** Length of the service's rate window. */
  readonly windowMs?: number;
  /** Time without a throttle after which the limit is raised by one, to find out whether the service allows more. */
  readonly raiseAfterMs?: number;
}

/**
 * Client-side pacing for a service that counts requests in a sliding one-second window. It stays out
 * of the way until the service first throttles; the limit is then what the service just proved it
 * admits (the requests answered successfully in the last window), and from then on at most that many
 * sends start in any window. A slot is held until one window after its answer, not its send: the
 * service counts a request somewhere in between, and this way a reused slot can never land inside the
 * service's window of the request that held it. A request the service turned away used none of its
 * quota, so its slot is released at once. The limit probes upward by one after a quiet spell while
 * the client is actually pushing against it, and goes down by one (at most once per window, since
 * the requests in flight together are all answered 429) on each further throttle.
 */
export class WindowRateLimiter {
  /** Sends allowed in any window; undefined until the service first throttles. */
  private limit?: number;
  /** Sends still counting against the window, in send order. */
  private slots: Slot[] = [];
  private readonly waiters: Waiter[] = [];
  private timer?: ReturnType<typeof setTimeout>;
  private lastRaise = Number.NEGATIVE_INFINITY;
  private lastThrottle = Number.NEGATIVE_INFINITY;
  private readonly windowMs: number;
  private readonly raiseAfterMs: number;

  constructor(options: WindowRateLimiterOptions = {}) {
    this.windowMs = options.windowMs ?? 1_000;
    this.raiseAfterMs = options.raiseAfterMs ?? 3_000;
  }

  /** The current limit per window, or undefined while the service has not throttled. */
  public get sendsPerWindow(): number | undefined {
    return this.limit;
  }

  /** Resolves when a send may start; rejects if that could not happen before `deadline` (epoch ms). */
  public acquire(deadline: number): Promise<Slot> {
    return new Promise((resolve, reject) => {
      this.waiters.push({ deadline, resolve, reject });
      this.pump();
    });
  }

  /** Records how the send that held `slot` was answered. */
  public answered(slot: Slot, outcome: 'ok' | 'throttled' | 'failed'): void {
    const now = Date.now();
    if (outcome === 'throttled') {
      this.slots = this.slots.filter((s) => s !== slot);
      this.prune(now);
      if (this.limit === undefined) {
        this.limit = Math.max(1, this.slots.filter((s) => s.ok).length);
      } else if (now - this.lastThrottle >= this.windowMs) {
        this.limit = Math.max(1, this.limit - 1);
      }
      this.lastThrottle = now;
    } else {
      slot.answeredAt = now;
      slot.ok = outcome === 'ok';
    }
    this.pump();
  }

  private prune(now: number): void {
    this.slots = this.slots.filter((s) => s.answeredAt === undefined || now - s.answeredAt < this.windowMs);
  }

  private pump(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const now = Date.now();
    this.prune(now);
    while (this.waiters.length > 0) {
      const head = this.waiters[0];
      if (this.limit === undefined || this.slots.length < this.limit) {
        this.waiters.shift();
        this.maybeRaise(now);
        const slot: Slot = {};
        this.slots.push(slot);
        head.resolve(slot);
        continue;
      }
      // The send can start once enough slots have left the window. Slots still in flight leave no
      // earlier than one window from now, so after every answered one.
      const leaving = this.slots.length - this.limit + 1;
      const leaveTimes = this.slots.filter((s) => s.answeredAt !== undefined).map((s) => s.answeredAt! + this.windowMs).sort((a, b) => a - b);
      const known = leaveTimes[leaving - 1] as number | undefined;
      if ((known ?? now + this.windowMs) >= head.deadline) {
        this.waiters.shift();
        head.reject(new Error('no send slot before the deadline'));
        continue;
      }
      // Without a known time, the answer of a request in flight wakes the queue.
      const wakeAt = Math.min(known ?? Number.POSITIVE_INFINITY, head.deadline);
      if (Number.isFinite(wakeAt)) this.timer = setTimeout(() => this.pump(), wakeAt - now);
      return;
    }
  }

  /** Raises the limit when this send fills the window and the service has been quiet for a while. */
  private maybeRaise(now: number): void {
    if (this.limit === undefined || this.slots.length + 1 < this.limit) return;
    if (now - Math.max(this.lastThrottle, this.lastRaise) >= this.raiseAfterMs) {
      this.limit++;
      this.lastRaise = now;
    }
  }
}

/** The SDK hands the token back on the answer: it carries the send's slot in the rate window. */
export interface WindowToken extends RetryToken {
  readonly slot: Slot;
  /** Retries after errors other than throttling, which have their own, smaller budget. */
  readonly failures: number;
}

/**
 * Throttled retries are paced by the limiter and bounded by the deadline; this cap only stops a
 * pathological loop. It is high because several Lambda containers (one per resource CloudFormation
 * updates at once) share the account's rate, and each learns it from its own 429s.
 */
const MAX_THROTTLED_RETRIES = 60;

/**
 * Retry policy for deploy-time calls. The SDK's default (3 attempts, and a retry quota that a long
 * throttling storm drains) gives up well before a deployment should. This one:
 * - retries transient and server errors up to `maxAttempts` times, after exponential backoff with
 *   full jitter, and throttling as long as the deadline allows (see MAX_THROTTLED_RETRIES);
 * - paces every send of the client through one WindowRateLimiter, so a low TPS limit is met at that
 *   rate instead of with a storm of 429s; a throttled request simply waits for its next slot;
 * - never waits past the deadline the handler sets from the Lambda's remaining time: a retry that
 *   could not start in time is refused, and the caller gets the last error while there is still
 *   time to undo what was done.
 */
export class DeadlineRetryStrategy implements RetryStrategyV2 {
  public readonly mode = 'adaptive';
  public readonly limiter: WindowRateLimiter;

  constructor(
    private readonly options: {
      readonly maxAttempts: number;
      readonly baseDelayMs: number;
      readonly maxDelayMs: number;
      /** Epoch milliseconds after which no call or retry may start. */
      readonly deadline: () => number;
      readonly random?: () => number;
      readonly limiter?: WindowRateLimiter;
    },
  ) {
    this.limiter = options.limiter ?? new WindowRateLimiter();
  }

  public async acquireInitialRetryToken(): Promise<WindowToken> {
    try {
      return windowToken(0, await this.limiter.acquire(this.options.deadline()), 0);
    } catch (error) {
      throw Object.assign(new Error(`not sent: ${(error as Error).message}`), { name: OUT_OF_TIME_ERROR });
    }
  }

  public async refreshRetryTokenForRetry(token: WindowToken, errorInfo: RetryErrorInfo): Promise<WindowToken> {
    const throttled = errorInfo.errorType === 'THROTTLING';
    this.limiter.answered(token.slot, throttled ? 'throttled' : 'failed');
    const retries = token.getRetryCount() + 1;
    const failures = token.failures + (throttled ? 0 : 1);
    if (errorInfo.errorType === 'CLIENT_ERROR' || failures >= this.options.maxAttempts || retries >= MAX_THROTTLED_RETRIES) {
      throw new Error('not retryable');
    }
    // A request throttled once needs no backoff of its own: the limiter now paces it to the rate the
    // service admits. One throttled again and again is competing with senders the limiter cannot see
    // (other Lambda containers on the same account), so it backs off as well.
    const throttles = retries - failures;
    const exponent = throttled ? throttles - 1 : failures;
    const ceiling = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** exponent);
    const delay = exponent <= 0 ? 0 : Math.floor((this.options.random ?? Math.random)() * ceiling);
    const deadline = this.options.deadline();
    if (Date.now() + delay >= deadline) {
      throw markRefusedForTime(errorInfo, new Error('deadline'));
    }
    if (delay > 0) await new Promise((resolve) => setTimeout(resolve, delay));
    try {
      return windowToken(retries, await this.limiter.acquire(deadline), failures);
    } catch (error) {
      throw markRefusedForTime(errorInfo, error as Error);
    }
  }

  public recordSuccess(token: WindowToken): void {
    this.limiter.answered(token.slot, 'ok');
  }
}

/**
 * The SDK rethrows the last service error when a retry is refused. A refusal for lack of time is marked
 * on that error, so the executor carries the numbers over to the next invocation instead of failing
 * them: the service would most likely have answered them, given the time.
 */
export const REFUSED_FOR_TIME = Symbol.for('cdk-chime-voice-connector-groups.refusedForTime');

function markRefusedForTime(errorInfo: RetryErrorInfo, refusal: Error): Error {
  if (errorInfo.error) Object.assign(errorInfo.error, { [REFUSED_FOR_TIME]: true });
  return refusal;
}

function windowToken(count: number, slot: Slot, failures: number): WindowToken {
  return { getRetryCount: () => count, getRetryDelay: () => 0, slot, failures };
}

/**
 * One rate limiter and one connection pool per Lambda container: every client an invocation makes shares
 * them, so concurrent calls pace themselves together and warm invocations reuse their connections.
 */
const sharedLimiter = new WindowRateLimiter();
const sharedRequestHandler = { connectionTimeout: 5_000, requestTimeout: 30_000 };

/**
 * A Chime SDK Voice client with the deploy-time retry policy, retrying until `deadline()` (epoch ms).
 * Region and endpoint come from the SDK's default chain (AWS_REGION, AWS_ENDPOINT_URL_CHIME_SDK_VOICE).
 */
export function deployTimeClient(deadline: () => number, limiter: WindowRateLimiter = sharedLimiter): ChimeSDKVoiceClient {
  return new ChimeSDKVoiceClient({
    retryStrategy: new DeadlineRetryStrategy({ maxAttempts: 10, baseDelayMs: 100, maxDelayMs: 20_000, deadline, limiter }),
    requestHandler: sharedRequestHandler,
  });
}

/**
 * An abort signal that fires at `until` (epoch ms), for a call that must not outlive the invocation's
 * hard end: a call started just before the end would otherwise run up to its 30-second request timeout.
 */
export function abortAt(until: number): AbortSignal {
  return AbortSignal.timeout(Math.max(1, until - Date.now()));
}
