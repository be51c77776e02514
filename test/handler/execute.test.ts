import { FakeVoice } from './fake-voice';
import { GROUP_A, GROUP_B, numbers, quietSettings } from './fixtures';
import { executorFor } from '../../lambda/phone-numbers/execute';
import type { Owner } from '../../lambda/phone-numbers/record';

const group = (id: string): Owner => ({ kind: 'group', id });
let fake: FakeVoice;
beforeEach(() => {
  fake = new FakeVoice([GROUP_A, GROUP_B]);
});
afterEach(() => fake.restore());

const executor = (settings: Partial<typeof quietSettings> = {}, bestEffort = false) =>
  executorFor(fake.client, { ...quietSettings, ...settings }, Date.now() + 60_000, Date.now() + 60_000, bestEffort);

describe('Executor', () => {
  test('batches associations by the batch size, and disassociates only after every association succeeded', async () => {
    const add = numbers(25);
    const drop = numbers(3, 30);
    fake.own(add).own(drop, group(GROUP_A));
    const result = await executor().run([
      { kind: 'associate', target: group(GROUP_A), numbers: add, force: false },
      { kind: 'disassociate', groupId: GROUP_A, numbers: drop },
    ]);
    expect(result.failures).toEqual([]);
    expect(fake.writes.map((w) => [w.op, w.numbers.length])).toEqual([['associate', 10], ['associate', 10], ['associate', 5], ['disassociate', 3]]);
    expect(fake.boundTo(GROUP_A)).toEqual([...add].sort());
  });

  test('a transient per-number code is retried; a permanent one fails the number and no new batch starts', async () => {
    const add = numbers(30);
    fake.own(add);
    fake.script('associate', add[0], 'Throttled', 'ServiceFailure');
    fake.script('associate', add[11], 'Unprocessable');
    const result = await executor({ concurrency: 1 }).run([{ kind: 'associate', target: group(GROUP_A), numbers: add, force: false }]);
    expect(result.failures.map((f) => [f.number, f.code])).toEqual([[add[11], 'Unprocessable']]);
    // First batch (retried twice), second batch (failed); the third never started.
    expect(fake.boundTo(GROUP_A)).toEqual([...add.slice(0, 11), ...add.slice(12, 20)].sort());
  });

  test('Conflict is transient: the number goes through on a later attempt', async () => {
    const [n] = numbers(1);
    fake.own([n]).script('associate', n, 'Conflict');
    expect((await executor().run([{ kind: 'associate', target: group(GROUP_A), numbers: [n], force: false }])).failures).toEqual([]);
  });

  test('best effort (a rollback) carries on past a failed number', async () => {
    const add = numbers(30);
    fake.own(add).script('associate', add[0], 'Gone');
    const result = await executor({ concurrency: 1 }, true).run([{ kind: 'associate', target: group(GROUP_A), numbers: add, force: false }]);
    expect(result.failures.map((f) => f.number)).toEqual([add[0]]);
    expect(fake.boundTo(GROUP_A)).toHaveLength(29);
  });

  test('a list rejected whole with BadRequest is halved, and the batch size shrinks for the rest', async () => {
    const add = numbers(10);
    fake.own(add);
    fake.maxList = 3;
    const result = await executor().run([{ kind: 'associate', target: group(GROUP_A), numbers: add, force: false }]);
    expect(result.failures).toEqual([]);
    expect(fake.boundTo(GROUP_A)).toEqual([...add].sort());
  });

  test('a disassociation of a number no longer on the group (NotFound) reaches the goal: no failure', async () => {
    const [n] = numbers(1);
    fake.own([n]);
    expect((await executor().run([{ kind: 'disassociate', groupId: GROUP_A, numbers: [n] }])).failures).toEqual([]);
  });

  describe('per-number errors that name no number sent (every field is optional in the model)', () => {
    test('a number the service did bind, read back, counts as done; one it did not is a failure, never a success', async () => {
      const [done, notDone, fine] = numbers(3);
      fake.own([done, notDone, fine]);
      fake.script('associate', done, 'unnamed-done:ServiceFailure');
      fake.script('associate', notDone, 'unnamed:BadRequest');
      const result = await executor().run([{ kind: 'associate', target: group(GROUP_A), numbers: [done, notDone, fine], force: false }]);
      expect(result.failures.map((f) => [f.number, f.code])).toEqual([[notDone, 'Unverified']]);
      expect(result.failures[0].message).toContain('BadRequest)');
      expect(result.journal.map((j) => j.number).sort()).toEqual([done, fine].sort());
    });

    test('a number not done after an unnamed transient error is sent again, like a named one', async () => {
      const [n, m] = numbers(2);
      fake.own([n, m]).script('associate', n, 'unnamed:Throttled', 'unnamed:ServiceFailure');
      const result = await executor().run([{ kind: 'associate', target: group(GROUP_A), numbers: [n, m], force: false }]);
      expect(result.failures).toEqual([]);
      expect(fake.boundTo(GROUP_A)).toEqual([n, m].sort());
    });

    test('an unnamed transient error that never clears fails the number as unverified once the attempts are spent', async () => {
      const [n] = numbers(1);
      fake.own([n]).script('associate', n, ...Array(20).fill('unnamed:Throttled'));
      const result = await executor().run([{ kind: 'associate', target: group(GROUP_A), numbers: [n], force: false }]);
      expect(result.failures.map((f) => [f.number, f.code])).toEqual([[n, 'Unverified']]);
      expect(fake.boundTo(GROUP_A)).toEqual([]);
    });

    test('an error naming a number that was not sent: the batch is read back too', async () => {
      const [n, m] = numbers(2);
      fake.own([n, m]).script('associate', n, 'other:BadRequest');
      const result = await executor().run([{ kind: 'associate', target: group(GROUP_A), numbers: [n, m], force: false }]);
      expect(result.failures.map((f) => [f.number, f.code])).toEqual([[n, 'Unverified']]);
      expect(fake.boundTo(GROUP_A)).toEqual([m]);
    });
  });

  test('a disassociation the service refuses for a number that is on another group reaches the goal: read back, no failure, untouched', async () => {
    const [n] = numbers(1);
    fake.own([n], { kind: 'group', id: GROUP_B }).script('disassociate', n, 'BadRequest');
    const result = await executor().run([{ kind: 'disassociate', groupId: GROUP_A, numbers: [n] }]);
    expect(result.failures).toEqual([]);
    expect(result.journal).toEqual([]);
    expect(fake.snapshot()).toEqual({ [n]: `group:${GROUP_B}` });
  });

  test('a number already off its group in one batch never stops the other batches of a disassociation', async () => {
    const gone = numbers(25);
    fake.own(gone.slice(1), { kind: 'group', id: GROUP_A }).own([gone[0]]);
    fake.script('disassociate', gone[0], 'NotFound');
    const result = await executor({ concurrency: 1 }).run([{ kind: 'disassociate', groupId: GROUP_A, numbers: gone }]);
    expect(result.failures).toEqual([]);
    expect(fake.boundTo(GROUP_A)).toEqual([]);
  });

  test('a contested number\'s failure names its owner', async () => {
    const [n] = numbers(1);
    fake.own([n], { kind: 'voiceConnector', id: 'vc-9' });
    const result = await executor().run([{ kind: 'associate', target: group(GROUP_A), numbers: [n], force: false }]);
    expect(result.failures).toEqual([expect.objectContaining({ number: n, code: 'PhoneNumberAssociationsExist', owner: { kind: 'voiceConnector', id: 'vc-9' } })]);
  });

  test('past the deadline nothing starts: the numbers come back as out of time, for the completion checks', async () => {
    const add = numbers(3);
    fake.own(add);
    const late = executorFor(fake.client, quietSettings, Date.now() - 1, Date.now() + 1000);
    const result = await late.run([{ kind: 'associate', target: group(GROUP_A), numbers: add, force: false }]);
    expect(result.failures.map((f) => f.code)).toEqual(['OutOfTime', 'OutOfTime', 'OutOfTime']);
    expect(fake.writes).toEqual([]);
  });
});
