import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import 'aws-sdk-client-mock-jest';
import { FakeVoice } from './fake-voice';
import { GROUP_A, LOGICAL_ID, createEvent, numbers, props, updateEvent } from './fixtures';
import { handler, isComplete, reconcile, type Deadlines, type HandlerSettings, type OnEventResponse } from '../../lambda/index';
import { createLogger } from '../../lambda/log';
import { physicalIdFor } from '../../lambda/plan';
import { parseRequest } from '../../lambda/request';
import { Attr, CHECKPOINT_KEY, RECONCILE_TIME_LIMIT_MINUTES } from '../../src/binding-properties';

const ID_A = physicalIdFor(GROUP_A, LOGICAL_ID);
const OTHER_GROUP = 'vcg-other';
const [n0, n1, n2, n3, n4] = numbers(5);

let fake: FakeVoice;

function settings(overrides: Partial<HandlerSettings> = {}): HandlerSettings {
  return {
    batchSize: 10,
    concurrency: 4,
    numberAttempts: 4,
    log: createLogger('ERROR', () => undefined),
    retryTiming: { sleep: async () => undefined, random: () => 0.5 },
    ...overrides,
  };
}

const plenty = (): Deadlines => ({ forward: Date.now() + 60_000, end: Date.now() + 120_000 });
/** No time for forward work, but time to wrap up: what an invocation that started too late sees. */
const exhausted = (): Deadlines => ({ forward: Date.now() - 1, end: Date.now() + 60_000 });

/** What the Provider framework hands isComplete: the event with the onEvent result spread over it. */
function completionEvent(event: CloudFormationCustomResourceEvent, response: OnEventResponse) {
  return { ...event, ...response };
}

async function failure(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    return (error as Error).message;
  }
  throw new Error('expected the call to fail');
}

beforeEach(() => {
  fake = new FakeVoice([GROUP_A, OTHER_GROUP]);
});

afterEach(() => fake.restore());

describe('work that does not fit in one invocation', () => {
  test('onEvent out of time returns an incomplete checkpoint and changes nothing; isComplete then finishes', async () => {
    fake.own([n0, n1, n2]).own([n3], { kind: 'group', id: GROUP_A });
    const event = createEvent(props({ numbers: [n0, n1, n2, n3] }));
    const first = await reconcile(parseRequest(event), fake.client, settings(), exhausted());

    expect(first.PhysicalResourceId).toBe(ID_A);
    expect(first[CHECKPOINT_KEY]).toMatchObject({ complete: false, observed: { [GROUP_A]: { exists: true, bound: [n3] } } });
    expect(fake.writes).toEqual([]);

    const done = await isComplete(completionEvent(event, first), fake.client, settings(), plenty());
    expect(done).toEqual({ IsComplete: true, Data: expect.objectContaining({ [Attr.ASSOCIATED_COUNT]: 3, [Attr.UNCHANGED_COUNT]: 1 }) });
    expect(fake.boundTo(GROUP_A)).toEqual([n0, n1, n2, n3]);
  });

  test('an isComplete that is out of time too asks to be called again, without changing anything', async () => {
    fake.own([n0, n1]);
    const event = createEvent(props({ numbers: [n0, n1] }));
    const first = await reconcile(parseRequest(event), fake.client, settings(), exhausted());
    await expect(isComplete(completionEvent(event, first), fake.client, settings(), exhausted())).resolves.toEqual({ IsComplete: false });
    expect(fake.writes).toEqual([]);
  });

  test('a completed onEvent makes isComplete answer at once, with no calls', async () => {
    fake.own([n0]);
    const event = createEvent(props({ numbers: [n0] }));
    const first = await reconcile(parseRequest(event), fake.client, settings(), plenty());
    expect(first[CHECKPOINT_KEY].complete).toBe(true);
    const calls = fake.mock.calls().length;
    await expect(isComplete(completionEvent(event, first), fake.client, settings(), plenty())).resolves.toEqual({ IsComplete: true });
    expect(fake.mock.calls()).toHaveLength(calls);
  });

  test('a permanent failure in a later invocation undoes what earlier invocations did, not what was there before', async () => {
    fake.own([n0, n1, n2]).own([n3], { kind: 'group', id: GROUP_A });
    const event = createEvent(props({ numbers: [n0, n1, n2, n3, n4] }));
    const first = await reconcile(parseRequest(event), fake.client, settings(), exhausted());
    // An earlier completion check got as far as n0 and n1 before its time ran out.
    fake.own([n0, n1], { kind: 'group', id: GROUP_A });

    const message = await failure(isComplete(completionEvent(event, first), fake.client, settings(), plenty()));
    expect(message).toContain(`- ${n4}: NotFound`);
    expect(fake.boundTo(GROUP_A)).toEqual([n3]);
  });

  test('past the time limit for one deployment it gives up, undoes its changes and says so', async () => {
    fake.own([n0, n1]);
    const event = createEvent(props({ numbers: [n0, n1] }));
    const first = await reconcile(parseRequest(event), fake.client, settings(), exhausted());
    fake.own([n0], { kind: 'group', id: GROUP_A });
    const late = { ...first, [CHECKPOINT_KEY]: { ...first[CHECKPOINT_KEY], startedAt: Date.now() - (RECONCILE_TIME_LIMIT_MINUTES + 1) * 60_000 } };

    const message = await failure(isComplete(completionEvent(event, late), fake.client, settings(), plenty()));
    expect(message).toContain(`- ${n1}: OutOfTime`);
    expect(message).toContain(`${RECONCILE_TIME_LIMIT_MINUTES}-minute`);
    expect(fake.boundTo(GROUP_A)).toEqual([]);
  });

  test('forceAssociate: owners are recorded in the checkpoint, so a failure in a later invocation hands numbers back', async () => {
    fake.own([n0]).own([n1], { kind: 'group', id: OTHER_GROUP });
    const event = createEvent(props({ numbers: [n0, n1, n4], force: 'true' }));
    const first = await reconcile(parseRequest(event), fake.client, settings(), exhausted());
    expect(first[CHECKPOINT_KEY].owners).toEqual({ [n1]: { kind: 'group', id: OTHER_GROUP } });

    const message = await failure(isComplete(completionEvent(event, first), fake.client, settings(), plenty()));
    expect(message).toContain(`- ${n4}: NotFound`);
    expect(fake.snapshot()).toEqual({ [n1]: `group:${OTHER_GROUP}` });
  });

  test('an Update carried over keeps its physical id and removes what was removed', async () => {
    fake.own([n0, n1, n2], { kind: 'group', id: GROUP_A }).own([n3]);
    const event = updateEvent(props({ numbers: [n0, n3] }), props({ numbers: [n0, n1, n2] }), ID_A);
    const first = await reconcile(parseRequest(event), fake.client, settings(), exhausted());
    expect(first.PhysicalResourceId).toBe(ID_A);
    await expect(isComplete(completionEvent(event, first), fake.client, settings(), plenty())).resolves.toMatchObject({ IsComplete: true });
    expect(fake.boundTo(GROUP_A)).toEqual([n0, n3]);
  });
});

describe('handler entry point', () => {
  test('routes an event that carries a checkpoint to the completion check', async () => {
    fake.own([n0]);
    const event = createEvent(props({ numbers: [n0] }));
    const started = await handler(event, { getRemainingTimeInMillis: () => 2_000 }) as OnEventResponse;
    expect(started[CHECKPOINT_KEY].complete).toBe(false);
    expect(fake.writes).toEqual([]);

    const done = await handler({ ...event, ...started } as CloudFormationCustomResourceEvent, { getRemainingTimeInMillis: () => 60_000 });
    expect(done).toMatchObject({ IsComplete: true });
    expect(fake.boundTo(GROUP_A)).toEqual([n0]);
  });
});
