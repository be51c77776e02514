import { DeadlineRetryStrategy, chimeClient } from '../../lambda/client';

function strategy(overrides: { maxAttempts?: number; deadline?: number; random?: () => number } = {}) {
  return new DeadlineRetryStrategy({
    maxAttempts: overrides.maxAttempts ?? 4,
    baseDelayMs: 1000,
    maxDelayMs: 20_000,
    deadline: () => overrides.deadline ?? Date.now() + 60_000,
    random: overrides.random ?? (() => 0),
  });
}

describe('DeadlineRetryStrategy', () => {
  // THROTTLING is left out of the happy-path cases: it makes the adaptive rate limiter pace real time.
  test('retries server and transient errors, counting attempts', async () => {
    const s = strategy();
    let token = await s.acquireInitialRetryToken();
    token = await s.refreshRetryTokenForRetry(token, { errorType: 'SERVER_ERROR' });
    token = await s.refreshRetryTokenForRetry(token, { errorType: 'SERVER_ERROR' });
    token = await s.refreshRetryTokenForRetry(token, { errorType: 'TRANSIENT' });
    expect(token.getRetryCount()).toBe(3);
  });

  test('stops at maxAttempts', async () => {
    const s = strategy({ maxAttempts: 2 });
    const token = await s.refreshRetryTokenForRetry(await s.acquireInitialRetryToken(), { errorType: 'TRANSIENT' });
    await expect(s.refreshRetryTokenForRetry(token, { errorType: 'TRANSIENT' })).rejects.toThrow('not retryable');
  });

  test('never retries client errors', async () => {
    const s = strategy();
    await expect(s.refreshRetryTokenForRetry(await s.acquireInitialRetryToken(), { errorType: 'CLIENT_ERROR' })).rejects.toThrow('not retryable');
  });

  test('refuses a retry whose backoff would end past the deadline', async () => {
    // random 0.5 of a 2 s ceiling = 1 s of backoff, with only 500 ms left.
    const s = strategy({ deadline: Date.now() + 500, random: () => 0.5 });
    await expect(s.refreshRetryTokenForRetry(await s.acquireInitialRetryToken(), { errorType: 'THROTTLING' })).rejects.toThrow('deadline');
  });

  test('the shared client uses it, with no hard-coded region or endpoint', async () => {
    expect(chimeClient.config.retryStrategy).toBeDefined();
    expect(await chimeClient.config.retryStrategy()).toBeInstanceOf(DeadlineRetryStrategy);
    expect(chimeClient.config.endpoint).toBeUndefined();
  });
});
