import { OUT_OF_TIME } from '../../lambda/phone-numbers/error-codes';
import { DeadlineRetryStrategy, OUT_OF_TIME_ERROR, WindowRateLimiter, deployTimeClient } from '../../lambda/shared/client';

function strategy(overrides: { maxAttempts?: number; deadline?: number; random?: () => number; limiter?: WindowRateLimiter } = {}) {
  return new DeadlineRetryStrategy({
    maxAttempts: overrides.maxAttempts ?? 4,
    baseDelayMs: 1000,
    maxDelayMs: 20_000,
    deadline: () => overrides.deadline ?? Date.now() + 60_000,
    random: overrides.random ?? (() => 0),
    limiter: overrides.limiter,
  });
}

/** Whether a promise has settled, without waiting for it. */
function watch<T>(promise: Promise<T>): { done: () => boolean; failed: () => boolean } {
  let state: 'pending' | 'done' | 'failed' = 'pending';
  promise.then(() => { state = 'done'; }, () => { state = 'failed'; });
  return { done: () => state === 'done', failed: () => state === 'failed' };
}

const FAR = Number.POSITIVE_INFINITY;

/** A limiter engaged at `limit` sends per window: `limit` sends answered ok, then one throttled. */
async function engaged(limit: number): Promise<WindowRateLimiter> {
  const limiter = new WindowRateLimiter();
  for (let i = 0; i < limit; i++) limiter.answered(await limiter.acquire(FAR), 'ok');
  limiter.answered(await limiter.acquire(FAR), 'throttled');
  expect(limiter.sendsPerWindow).toBe(limit);
  return limiter;
}

describe('DeadlineRetryStrategy', () => {
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

  test('throttled retries do not use up the attempts kept for errors: containers sharing a rate keep going', async () => {
    // A limiter that never makes anyone wait: this test is about counting, not pacing.
    const unpaced = new WindowRateLimiter();
    jest.spyOn(unpaced, 'acquire').mockResolvedValue({});
    jest.spyOn(unpaced, 'answered').mockImplementation(() => undefined);
    const s = strategy({ maxAttempts: 2, limiter: unpaced });
    let token = await s.acquireInitialRetryToken();
    for (let i = 0; i < 5; i++) {
      token = await s.refreshRetryTokenForRetry(token, { errorType: 'THROTTLING' });
    }
    token = await s.refreshRetryTokenForRetry(token, { errorType: 'TRANSIENT' });
    expect(token.getRetryCount()).toBe(6);
    await expect(s.refreshRetryTokenForRetry(token, { errorType: 'TRANSIENT' })).rejects.toThrow('not retryable');
  });

  test('never retries client errors', async () => {
    const s = strategy();
    await expect(s.refreshRetryTokenForRetry(await s.acquireInitialRetryToken(), { errorType: 'CLIENT_ERROR' })).rejects.toThrow('not retryable');
  });

  test('refuses a retry whose backoff would end past the deadline', async () => {
    // random 0.5 of a 2 s ceiling = 1 s of backoff, with only 500 ms left.
    const s = strategy({ deadline: Date.now() + 500, random: () => 0.5 });
    await expect(s.refreshRetryTokenForRetry(await s.acquireInitialRetryToken(), { errorType: 'SERVER_ERROR' })).rejects.toThrow('deadline');
  });

  test('a throttled request is retried without a backoff of its own, and engages the limiter', async () => {
    // The same draw that refuses a server error's retry (1 s of backoff, 500 ms left) does not apply.
    const s = strategy({ deadline: Date.now() + 500, random: () => 0.5 });
    const token = await s.refreshRetryTokenForRetry(await s.acquireInitialRetryToken(), { errorType: 'THROTTLING' });
    expect(token.getRetryCount()).toBe(1);
    expect(s.limiter.sendsPerWindow).toBe(1);
  });

  test('a request throttled again backs off too: other senders the limiter cannot see share the rate', async () => {
    const unpaced = new WindowRateLimiter();
    jest.spyOn(unpaced, 'acquire').mockResolvedValue({});
    jest.spyOn(unpaced, 'answered').mockImplementation(() => undefined);
    // random 0.5 of the second throttle's 2 s ceiling = 1 s of backoff, with only 500 ms left.
    const s = strategy({ deadline: Date.now() + 500, random: () => 0.5, limiter: unpaced });
    const once = await s.refreshRetryTokenForRetry(await s.acquireInitialRetryToken(), { errorType: 'THROTTLING' });
    await expect(s.refreshRetryTokenForRetry(once, { errorType: 'THROTTLING' })).rejects.toThrow('deadline');
  });

  test('a throttled retry that could get no send slot before the deadline is refused', async () => {
    const s = strategy({ deadline: Date.now() + 500 });
    const [answered, throttled] = [await s.acquireInitialRetryToken(), await s.acquireInitialRetryToken()];
    s.recordSuccess(answered);
    // The limit becomes 1, and the one slot is free again only a second after that success.
    await expect(s.refreshRetryTokenForRetry(throttled, { errorType: 'THROTTLING' })).rejects.toThrow('deadline');
    expect(s.limiter.sendsPerWindow).toBe(1);
  });

  test('a call that could not be sent before the deadline fails as out of time, so the completion checks carry it on', async () => {
    const s = strategy({ deadline: Date.now() + 500, limiter: await engaged(1) });
    const error = await s.acquireInitialRetryToken().then(() => undefined, (e: Error) => e);
    expect(error?.name).toBe(OUT_OF_TIME_ERROR);
    expect(OUT_OF_TIME_ERROR).toBe(OUT_OF_TIME);
  });

  test('every client of a container shares one limiter (concurrent calls pace themselves together), with no hard-coded region or endpoint', async () => {
    const one = deployTimeClient(() => Date.now() + 1000);
    const two = deployTimeClient(() => Date.now() + 1000);
    const [a, b] = [await one.config.retryStrategy(), await two.config.retryStrategy()] as DeadlineRetryStrategy[];
    expect(a).toBeInstanceOf(DeadlineRetryStrategy);
    expect(a.limiter).toBe(b.limiter);
    expect(one.config.endpoint).toBeUndefined();
  });
});

describe('WindowRateLimiter', () => {
  beforeEach(() => jest.useFakeTimers());
  afterEach(() => jest.useRealTimers());

  test('sends freely until the service first throttles', async () => {
    const limiter = new WindowRateLimiter();
    const slots = await Promise.all(Array.from({ length: 50 }, () => limiter.acquire(FAR)));
    expect(slots).toHaveLength(50);
    expect(limiter.sendsPerWindow).toBeUndefined();
  });

  test('the first throttle sets the limit to the sends answered ok in the last window, not counting older ones', async () => {
    const limiter = new WindowRateLimiter();
    limiter.answered(await limiter.acquire(FAR), 'ok');
    await jest.advanceTimersByTimeAsync(1_000);
    for (let i = 0; i < 3; i++) limiter.answered(await limiter.acquire(FAR), 'ok');
    limiter.answered(await limiter.acquire(FAR), 'failed');
    limiter.answered(await limiter.acquire(FAR), 'throttled');
    expect(limiter.sendsPerWindow).toBe(3);
  });

  test('once engaged, a send waits until a slot has been answered a full window ago', async () => {
    const limiter = await engaged(3);
    const next = watch(limiter.acquire(FAR));
    await jest.advanceTimersByTimeAsync(999);
    expect(next.done()).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(next.done()).toBe(true);
  });

  test('a send still in flight holds its slot until a window after its answer', async () => {
    const limiter = await engaged(1);
    await jest.advanceTimersByTimeAsync(1_000);
    const inFlight = await limiter.acquire(FAR);
    const next = watch(limiter.acquire(FAR));
    await jest.advanceTimersByTimeAsync(5_000);
    expect(next.done()).toBe(false);
    limiter.answered(inFlight, 'ok');
    await jest.advanceTimersByTimeAsync(999);
    expect(next.done()).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(next.done()).toBe(true);
  });

  test('a send the service turned away holds no slot', async () => {
    const limiter = await engaged(2);
    await jest.advanceTimersByTimeAsync(1_000);
    const [a, b] = [await limiter.acquire(FAR), await limiter.acquire(FAR)];
    limiter.answered(b, 'ok');
    await jest.advanceTimersByTimeAsync(500);
    limiter.answered(a, 'throttled'); // the limit drops to 1: b's slot alone fills the window
    const next = watch(limiter.acquire(FAR));
    // Free when b's answer is a window old; had a kept a slot, only a window after its own answer.
    await jest.advanceTimersByTimeAsync(499);
    expect(next.done()).toBe(false);
    await jest.advanceTimersByTimeAsync(1);
    expect(next.done()).toBe(true);
  });

  test('waiters are served in order, and one that could not be served before its deadline is refused', async () => {
    const limiter = await engaged(1);
    const late = watch(limiter.acquire(Date.now() + 500));
    const patient = watch(limiter.acquire(FAR));
    await jest.advanceTimersByTimeAsync(0);
    expect(late.failed()).toBe(true);
    await jest.advanceTimersByTimeAsync(1_000);
    expect(patient.done()).toBe(true);
  });

  test('further throttles lower the limit by one, once per window however many requests were turned away together', async () => {
    const limiter = await engaged(4);
    await jest.advanceTimersByTimeAsync(1_000);
    const inFlight = [await limiter.acquire(FAR), await limiter.acquire(FAR), await limiter.acquire(FAR)];
    inFlight.forEach((slot) => limiter.answered(slot, 'throttled'));
    expect(limiter.sendsPerWindow).toBe(3);
    await jest.advanceTimersByTimeAsync(1_000);
    limiter.answered(await limiter.acquire(FAR), 'throttled');
    expect(limiter.sendsPerWindow).toBe(2);
  });

  test('after a quiet spell a send that fills the window raises the limit by one; an idle client does not', async () => {
    const limiter = await engaged(2);
    await jest.advanceTimersByTimeAsync(3_000);
    limiter.answered(await limiter.acquire(FAR), 'ok');
    expect(limiter.sendsPerWindow).toBe(2);
    limiter.answered(await limiter.acquire(FAR), 'ok');
    expect(limiter.sendsPerWindow).toBe(3);
  });
});
