import { ChimeSDKVoiceClient } from '@aws-sdk/client-chime-sdk-voice';
import type { RetryErrorInfo, RetryStrategyV2, RetryToken } from '@smithy/types';
import { DefaultRateLimiter } from '@smithy/util-retry';

/**
 * Retry policy for deploy-time calls. The SDK's default (3 attempts, and a retry quota that a long
 * throttling storm drains) gives up well before a deployment should. This one:
 * - retries throttling, transient and server errors up to `maxAttempts` times, with exponential
 *   backoff and full jitter;
 * - paces requests adaptively (the SDK's CUBIC rate limiter) once the service starts throttling, so a
 *   low TPS limit is met with a steady rate instead of a storm of 429s;
 * - never sleeps past the deadline the handler sets from the Lambda's remaining time: a retry that
 *   could not finish in time is refused, and the caller gets the last error while there is still
 *   time to undo what was done.
 */
export class DeadlineRetryStrategy implements RetryStrategyV2 {
  public readonly mode = 'adaptive';
  private readonly rateLimiter = new DefaultRateLimiter();

  constructor(
    private readonly options: {
      readonly maxAttempts: number;
      readonly baseDelayMs: number;
      readonly maxDelayMs: number;
      /** Epoch milliseconds after which no retry may start. */
      readonly deadline: () => number;
      readonly random?: () => number;
    },
  ) {}

  public async acquireInitialRetryToken(): Promise<RetryToken> {
    await this.rateLimiter.getSendToken();
    return retryToken(0);
  }

  public async refreshRetryTokenForRetry(token: RetryToken, errorInfo: RetryErrorInfo): Promise<RetryToken> {
    this.rateLimiter.updateClientSendingRate(errorInfo);
    const retries = token.getRetryCount() + 1;
    if (errorInfo.errorType === 'CLIENT_ERROR' || retries >= this.options.maxAttempts) {
      throw new Error('not retryable');
    }
    const ceiling = Math.min(this.options.maxDelayMs, this.options.baseDelayMs * 2 ** retries);
    const delay = Math.floor((this.options.random ?? Math.random)() * ceiling);
    if (Date.now() + delay >= this.options.deadline()) {
      throw new Error('deadline');
    }
    await new Promise((resolve) => setTimeout(resolve, delay));
    await this.rateLimiter.getSendToken();
    return retryToken(retries);
  }

  public recordSuccess(): void {
    this.rateLimiter.updateClientSendingRate({});
  }
}

function retryToken(count: number): RetryToken {
  return { getRetryCount: () => count, getRetryDelay: () => 0 };
}

let callDeadline = Number.POSITIVE_INFINITY;

/** Sets the time (epoch ms) after which the shared client stops retrying. Called once per invocation. */
export function setCallDeadline(epochMs: number): void {
  callDeadline = epochMs;
}

/**
 * One client per Lambda container, created at module load so warm invocations reuse its connections.
 * Region and endpoint come from the SDK's default chain (AWS_REGION, AWS_ENDPOINT_URL_CHIME_SDK_VOICE).
 */
export const chimeClient = new ChimeSDKVoiceClient({
  retryStrategy: new DeadlineRetryStrategy({
    maxAttempts: 10,
    baseDelayMs: 100,
    maxDelayMs: 20_000,
    deadline: () => callDeadline,
  }),
  requestHandler: { connectionTimeout: 5_000, requestTimeout: 30_000 },
});
