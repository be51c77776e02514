/**
 * The handler's flows over a fake Chime SDK Voice (aws-sdk-client-mock) and a stub control plane: what it
 * does depends on the stack's phase, the physical id's record and the waiter's executions.
 */
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { FakeVoice } from './fake-voice';
import { createEvent, deleteEvent, dependencies, GROUP_A, GROUP_B, LOGICAL_ID, numbers, props, StubControlPlane, updateEvent } from './fixtures';
import { budgetFor } from '../../lambda/phone-numbers/budget';
import { handle, type CompletionEvent, type OnEventResponse } from '../../lambda/phone-numbers/index';
import { decodePhysicalId } from '../../lambda/phone-numbers/record';
import { FORWARD_LIMIT_MINUTES } from '../../src/binding-properties';

let fake: FakeVoice;
let plane: StubControlPlane;
beforeEach(() => {
  fake = new FakeVoice([GROUP_A, GROUP_B]);
  plane = new StubControlPlane();
});
afterEach(() => fake.restore());

const run = (event: CloudFormationCustomResourceEvent | CompletionEvent, remainingMs = 60_000) =>
  handle(event, remainingMs, dependencies(fake.client, plane)) as Promise<OnEventResponse>;

const [n1, n2, n3, n4] = numbers(4);

describe('Create and Update', () => {
  test('Create binds, adopts, and answers a physical id whose record says which numbers it bound', async () => {
    fake.own([n1, n2, n3]).own([n3], { kind: 'group', id: GROUP_A });
    plane.status = 'CREATE_IN_PROGRESS';
    const event = createEvent(props([{ numbers: [n1, n2, n3] }]));
    const response = await run(event);
    expect(response.Data).toMatchObject({ DeclaredCount: 3, AssociatedCount: 2, UnchangedCount: 1 });
    const record = decodePhysicalId(response.PhysicalResourceId, [n1, n2, n3])!;
    expect([...record.prior.keys()].sort()).toEqual([n1, n2].sort());
    expect(fake.boundTo(GROUP_A)).toEqual([n1, n2, n3].sort());
  });

  test('an Update that changes only options writes nothing but still answers a fresh id (so a rollback never finds an older record)', async () => {
    fake.own([n1], { kind: 'group', id: GROUP_A });
    const before = props([{ numbers: [n1] }]);
    const created = await run(createEvent(before));
    const after = props([{ numbers: [n1], force: true }]);
    const updated = await run(updateEvent(after, before, created.PhysicalResourceId));
    expect(fake.writes).toEqual([]);
    expect(updated.PhysicalResourceId).not.toBe(created.PhysicalResourceId);
  });

  test('a record too large for the physical id fails the event before its first write, naming the cap and the fix', async () => {
    const taken = numbers(30, 10);
    taken.forEach((n, i) => fake.own([n], { kind: 'voiceConnector', id: `vc-${i}` }));
    await expect(run(createEvent(props([{ numbers: taken, force: true }]))))
      .rejects.toThrow(/more numbers at once than its rollback record can describe .* caps at 1024 bytes\)\. Nothing was changed\. Deploy the change in two or more smaller steps/);
    expect(fake.writes).toEqual([]);
  });

  test('out of time: a checkpoint with the steps left; the completion check reads progress back and finishes', async () => {
    fake.own(numbers(40, 20));
    const event = createEvent(props([{ numbers: numbers(40, 20) }]));
    // Little enough time that the forward deadline has already passed when the writes would start.
    const started = await handle(event, 5_000, dependencies(fake.client, plane, { concurrency: 1 })) as OnEventResponse;
    expect(started.Reconciliation.complete).toBe(false);
    const done = await run({ ...event, ...started } as CompletionEvent);
    expect(done).toEqual({ IsComplete: true, Data: expect.objectContaining({ AssociatedCount: 40 }) });
    expect(fake.boundTo(GROUP_A)).toHaveLength(40);
  });
});

describe('rollback', () => {
  test('a rollback Update with the record of the event it rolls back puts every number back where it was', async () => {
    fake.own([n1, n2, n3]).own([n2], { kind: 'group', id: GROUP_A }).own([n3], { kind: 'voiceConnector', id: 'vc-1' });
    const before = props([{ numbers: [n4] }]);
    fake.own([n4], { kind: 'group', id: GROUP_A });
    const after = props([{ numbers: [n1, n2, n3], force: true }]);
    const forward = await run(updateEvent(after, before, 'old-id'));
    expect(fake.boundTo(GROUP_A)).toEqual([n1, n2, n3].sort());

    plane.status = 'UPDATE_ROLLBACK_IN_PROGRESS';
    const back = await run(updateEvent(before, after, forward.PhysicalResourceId));
    expect(back.PhysicalResourceId).toBe(forward.PhysicalResourceId);
    // n1 unbound again, n2 (adopted) left, n3 handed back to its voice connector, n4 bound again.
    expect(fake.snapshot()).toEqual({ [n2]: `group:${GROUP_A}`, [n3]: 'voiceConnector:vc-1', [n4]: `group:${GROUP_A}` });
  });

  test('without a matching record (the resource whose own update failed) it only rebinds, never unbinds or takes', async () => {
    fake.own([n1, n2], { kind: 'group', id: GROUP_A }).own([n3]);
    plane.status = 'UPDATE_ROLLBACK_IN_PROGRESS';
    await run(updateEvent(props([{ numbers: [n1, n3] }]), props([{ numbers: [n1, n2] }]), 'vcgpn2/5/stale/n2//'));
    expect(fake.snapshot()).toEqual({ [n1]: `group:${GROUP_A}`, [n2]: `group:${GROUP_A}`, [n3]: `group:${GROUP_A}` });
  });

  test('a rollback never fails because of a binding: what it cannot put back is reported, and it succeeds', async () => {
    fake.own([n1]);
    const forward = await run(createEvent(props([{ numbers: [n1] }])));
    fake.own([n1], { kind: 'group', id: GROUP_A });
    fake.script('disassociate', n1, 'Gone');
    plane.status = 'ROLLBACK_IN_PROGRESS';
    const response = await run(deleteEvent(props([{ numbers: [n1] }]), forward.PhysicalResourceId));
    expect(response.Data).toMatchObject({ RestoredCount: 0, NotRestoredCount: 1 });
  });

  test('it waits while a completion check of the rolled-back event still runs, then restores', async () => {
    fake.own([n1]);
    const after = props([{ numbers: [n1] }]);
    const forward = await run(createEvent(after));
    plane.executions.push({ name: 'forward-request', status: 'RUNNING', input: { LogicalResourceId: LOGICAL_ID, StackId: forward ? createEvent(after).StackId : '' } });
    plane.status = 'ROLLBACK_IN_PROGRESS';
    const event = deleteEvent(after, forward.PhysicalResourceId);
    const waiting = await run(event);
    expect(waiting.Reconciliation).toMatchObject({ complete: false, mode: 'wait' });
    expect(fake.boundTo(GROUP_A)).toEqual([n1]);
    plane.executions[0] = { ...plane.executions[0], status: 'FAILED' };
    expect(await run({ ...event, ...waiting } as CompletionEvent)).toEqual({ IsComplete: true, Data: expect.objectContaining({ RestoredCount: 1 }) });
    expect(fake.boundTo(GROUP_A)).toEqual([]);
  });

  test('an Update CloudFormation cancelled, which ran anyway, is undone through the id it answered to the waiter', async () => {
    fake.own([n1, n2]).own([n2], { kind: 'group', id: GROUP_B });
    const before = props([{ numbers: [n2], group: GROUP_B }]);
    const created = await run(createEvent(before));
    const after = props([{ numbers: [n1, n2] }]);
    const forwardEvent = updateEvent(after, before, created.PhysicalResourceId);
    const forward = await run(forwardEvent);
    expect(fake.snapshot()).toEqual({ [n1]: `group:${GROUP_A}`, [n2]: `group:${GROUP_A}` });
    // CloudFormation gave up on the forward Update: the rollback Update carries the Create's id, and the
    // forward's answer is only in its waiter execution.
    plane.executions.push({ name: forwardEvent.RequestId, status: 'SUCCEEDED', input: { ...forwardEvent, ...forward } });
    plane.status = 'UPDATE_ROLLBACK_IN_PROGRESS';
    const back = await run(updateEvent(before, after, created.PhysicalResourceId));
    expect(back.Data).toMatchObject({ RestoredCount: 2 });
    expect(fake.snapshot()).toEqual({ [n2]: `group:${GROUP_B}` });
  });

  test('a forward Update that reaches the handler after the rollback began changes nothing, and a later rollback Update is not fooled by its id', async () => {
    fake.own([n1]);
    const first = props([{ numbers: [n1] }]);
    const created = await run(createEvent(first));
    plane.status = 'UPDATE_ROLLBACK_IN_PROGRESS';
    const late = updateEvent(props([{ numbers: [n1], force: true }]), first, created.PhysicalResourceId);
    await expect(run(late)).rejects.toThrow(/cancelled: the stack is UPDATE_ROLLBACK_IN_PROGRESS\) changed nothing/);
    // The Create's record must never be undone by an Update: n1 stays bound.
    expect(fake.snapshot()).toEqual({ [n1]: `group:${GROUP_A}` });
  });

  test('a number unbound from an exclusive group because the stack does not declare it is bound again by the rollback', async () => {
    const [foreign] = numbers(1, 50);
    fake.own([n1]).own([foreign], { kind: 'group', id: GROUP_A });
    const before = props([{ numbers: [n1] }]);
    fake.own([n1], { kind: 'group', id: GROUP_A });
    const after = props([{ numbers: [n1, n2] }], { exclusive: [GROUP_A] });
    fake.own([n2]);
    const forward = await run(updateEvent(after, before, 'old-id'));
    expect(fake.snapshot()).toEqual({ [n1]: `group:${GROUP_A}`, [n2]: `group:${GROUP_A}` });
    plane.status = 'UPDATE_ROLLBACK_IN_PROGRESS';
    await run(updateEvent(before, after, forward.PhysicalResourceId));
    expect(fake.snapshot()).toEqual({ [n1]: `group:${GROUP_A}`, [foreign]: `group:${GROUP_A}` });
  });

  test('a forward event that sees the stack rolling back before it answers undoes itself and fails', async () => {
    fake.own([n1]);
    const event = createEvent(props([{ numbers: [n1] }]));
    const started = await run(event);
    plane.status = 'ROLLBACK_IN_PROGRESS';
    await expect(run({ ...event, ...started } as CompletionEvent)).rejects.toThrow(/cancelled: the stack is ROLLBACK_IN_PROGRESS/);
    expect(fake.boundTo(GROUP_A)).toEqual([]);
  });
});

describe('Delete', () => {
  test('in a deploy\'s cleanup, the Delete of a replaced physical id changes nothing', async () => {
    fake.own([n1], { kind: 'group', id: GROUP_A });
    plane.status = 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS';
    plane.physicalIds.set(LOGICAL_ID, 'the-new-id');
    expect((await run(deleteEvent(props([{ numbers: [n1] }]), 'the-old-id'))).Data).toEqual({});
    expect(fake.writes).toEqual([]);
  });

  test('a shard removed from the template, or a stack deletion, unbinds its numbers except RETAIN', async () => {
    fake.own([n1, n2], { kind: 'group', id: GROUP_A });
    plane.status = 'DELETE_IN_PROGRESS';
    plane.physicalIds.set(LOGICAL_ID, 'id');
    await run(deleteEvent(props([{ numbers: [n1] }, { numbers: [n2], retain: true }]), 'id'));
    expect(fake.boundTo(GROUP_A)).toEqual([n2]);
  });
});

test('a repeated delivery answers what the first delivery answered, without a call', async () => {
  const event = createEvent(props([{ numbers: [n1] }]));
  plane.executions.push({ name: event.RequestId, status: 'RUNNING', input: { PhysicalResourceId: 'first-answer', Data: { X: 1 }, Reconciliation: { complete: true, startedAt: 1 } } });
  expect(await run(event)).toEqual({ PhysicalResourceId: 'first-answer', Data: { X: 1 }, Reconciliation: { complete: true, startedAt: 1 } });
  expect(fake.writes).toEqual([]);
});

describe('time', () => {
  test('limits: no forward work past 44 minutes of a deployment, undo by 52, the answer inside the 60-minute ServiceTimeout', () => {
    const start = 1_000_000;
    const late = budgetFor(start, 10 * 60_000, start + 43 * 60_000);
    expect(late.forward).toBe(start + FORWARD_LIMIT_MINUTES * 60_000);
    expect(late.end).toBe(start + 52 * 60_000);
    expect(budgetFor(start, 10 * 60_000, start + 45 * 60_000).overtime).toBe(true);
  });

  test('past the forward limit, a completion check undoes what the deployment did and fails with the numbers left', async () => {
    fake.own(numbers(3, 50));
    const event = createEvent(props([{ numbers: numbers(3, 50) }]));
    const started = await handle(event, 5_000, dependencies(fake.client, plane)) as OnEventResponse;
    const late = { ...event, ...started, Reconciliation: { ...started.Reconciliation, startedAt: Date.now() - 50 * 60_000 } } as CompletionEvent;
    await expect(run(late)).rejects.toThrow(/OutOfTime/);
    expect(fake.boundTo(GROUP_A)).toEqual([]);
  });
});
