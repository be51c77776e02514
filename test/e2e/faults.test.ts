/**
 * The whole lifecycle (see `runLifecycle`) under each kind of fault the emulator injects. The same end
 * states must hold as without faults: each group holds exactly what is declared plus what was there
 * before, no foreign number is touched, and a failed step leaves nothing behind.
 */
import { CallLog, nums, ownerOf, runLifecycle, World } from './support';

const all = (log: CallLog) => log.flatMap((s) => s.calls);

jest.setTimeout(60_000);

let world: World;
beforeAll(async () => {
  world = await World.start({ seed: 11 });
});
afterAll(async () => world.close());

test('no faults (the baseline the fault runs are compared with)', async () => {
  await world.reset();
  const log = await runLifecycle(world);
  // Without faults, every call is answered 200 but the read of the number that is not in the inventory,
  // and the only per-number error is the designed failure (the contested number is refused after its read).
  const { notInInventory } = world.account;
  expect(new Set(all(log).filter((c) => c.status !== 200).map((c) => `${c.operation} ${c.numbers?.join(',')} ${c.status}`)))
    .toEqual(new Set([`GetPhoneNumber ${notInInventory} 404`]));
  expect(log.filter((s) => s.calls.some((c) => c.perNumberErrors > 0)).map((s) => s.step)).toEqual(['failed create']);
});

test('429 storm: 3 requests per second', async () => {
  await world.reset({ tpsLimit: 3 });
  const log = await runLifecycle(world, { size: 3 });
  expect(all(log).some((c) => c.status === 429)).toBe(true);
});

test('5xx: 30% of requests fail with ServiceFailure or ServiceUnavailable', async () => {
  await world.reset({ serverErrorRate: 0.3 });
  const log = await runLifecycle(world);
  expect(all(log).filter((c) => c.status >= 500).length).toBeGreaterThan(3);
});

test('per-number Throttled inside HTTP 200 answers for 30% of numbers', async () => {
  await world.reset({ perNumberThrottleRate: 0.3 });
  const log = await runLifecycle(world);
  expect(all(log).reduce((sum, c) => sum + c.perNumberErrors, 0)).toBeGreaterThan(5);
});

test('strict service: re-associating and disassociating what is not there are errors', async () => {
  await world.reset({ strictReassociate: true, strictDisassociate: true });
  const log = await runLifecycle(world);
  // A redundant call would have shown up as a per-number error: only the designed failure has any, and the
  // destroy, which unbinds without reading first (the number unbound by hand answers NotFound, and is done).
  expect(log.filter((s) => s.calls.some((c) => c.perNumberErrors > 0)).map((s) => s.step)).toEqual(['failed create', 'destroy']);
});

test('strict service with every event delivered twice', async () => {
  await world.reset({ strictReassociate: true, strictDisassociate: true });
  const log = await runLifecycle(world, { duplicateDelivery: true });
  expect(log.filter((s) => s.calls.some((c) => c.perNumberErrors > 0)).map((s) => s.step)).toEqual(['failed create', 'destroy']);
});

test('the service accepts at most 3 numbers per call, fewer than the handler batch size: the handler splits', async () => {
  await world.reset({ maxListLength: 3 });
  const log = await runLifecycle(world, { size: 12 });
  const writes = all(log).filter((c) => c.operation.includes('Associate') || c.operation.includes('Disassociate'));
  // Every call the service accepted fit its limit (the next test shows the split itself, in one shard).
  expect(writes.filter((c) => c.status === 200).every((c) => c.numbers!.length <= 3)).toBe(true);
  expect(writes.filter((c) => c.status === 400).every((c) => c.numbers!.length > 3)).toBe(true);
});

test('a batch size from context larger than the service accepts is split as well', async () => {
  await world.reset();
  world.emu.control.setFaults({ maxListLength: 4 });
  const { groups: { a } } = world.account;
  // 14 numbers of one shard: one binding resource, so one association list of 14.
  const numbers = nums(5000, 3000).filter((n) => ownerOf(n) === ownerOf(nums(5000, 1)[0])).slice(0, 14);
  world.emu.control.seedNumbers(numbers);
  world.rebaseline();
  const result = await world.deploy([{ id: 'Big', group: a, numbers }], { batchSize: 25 });
  expect(result.failure).toBeUndefined();
  world.expectState({ [a]: numbers });
  const associates = world.calls.filter((c) => c.operation === 'AssociatePhoneNumbersWithVoiceConnectorGroup');
  // The first call carried the whole list (the context batch size reached the handler) and was refused...
  expect(associates[0]).toMatchObject({ status: 400, errorType: 'BadRequestException' });
  expect(associates[0].numbers).toHaveLength(14);
  // ...and everything accepted afterwards fit the limit, covering every number exactly once.
  const accepted = associates.filter((c) => c.status === 200);
  expect(accepted.every((c) => c.numbers!.length <= 4)).toBe(true);
  expect(accepted.flatMap((c) => c.numbers!).sort()).toEqual([...numbers].sort());
  expect((await world.destroy()).status).toBe('DELETE_COMPLETE');
  world.expectState({}, { released: numbers });
});

test('latency: 40 ms before every answer', async () => {
  await world.reset({ latencyMs: 40 });
  await runLifecycle(world, { order: 'parallel' });
});

test('everything at once, modestly', async () => {
  const faults = { tpsLimit: 8, serverErrorRate: 0.15, perNumberThrottleRate: 0.15, maxListLength: 4, latencyMs: 5 };
  await world.reset({ ...faults, strictReassociate: true, strictDisassociate: true });
  await runLifecycle(world, { size: 6, order: 'reverse' });
});

test('next-tokens that are offsets: a Delete that unbinds while it lists still unbinds every number, and only those', async () => {
  await world.reset({ latencyMs: 5 });
  const { groups: { a } } = world.account;
  // More than two pages of declared numbers, after the foreign number already on the group.
  const numbers = nums(3000, 250);
  world.emu.control.seedNumbers(numbers);
  world.rebaseline();
  const created = await world.deploy([{ id: 'Big', group: a, numbers }]);
  expect(created.status).toBe('CREATE_COMPLETE');

  world.emu.control.setFaults({ offsetPaging: true });
  const result = await world.destroy();

  expect(result.status).toBe('DELETE_COMPLETE');
  world.expectState({}, { released: numbers });
  const disassociated = world.calls.filter((c) => c.operation === 'DisassociatePhoneNumbersFromVoiceConnectorGroup' && c.status === 200);
  expect(disassociated.flatMap((c) => c.numbers!).sort()).toEqual([...numbers].sort());
});
