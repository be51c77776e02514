/**
 * DESIGN.md's lifecycle table, row by row: the real construct, synthesized; the real bundled handler;
 * the local CloudFormation driver; the Chime SDK Voice emulator. Every step checks the emulator's full
 * binding state (`expectState`) and, where the contract says "no calls", the emulator's call log.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { eventsFor, groupBinding, summary, World } from './support';

jest.setTimeout(30_000);

let world: World;
beforeAll(async () => {
  world = await World.start({ seed: 3 });
});
afterAll(async () => world.close());

test('Create binds every declared number; one already bound to the group counts as done (no call for it)', async () => {
  const { groups: { a }, pool } = await world.reset();
  world.emu.control.bind(pool[0], 'VoiceConnectorGroupId', a);
  world.rebaseline();
  const numbers = pool.slice(0, 4);

  const result = await world.deploy([{ id: 'Line', group: a, numbers }]);

  expect(result.failure).toBeUndefined();
  expect(result.status).toBe('CREATE_COMPLETE');
  const [create] = eventsFor(result, result.logicalIds.Line);
  expect(create.returnedPhysicalResourceId).toBe(`${a}/${result.logicalIds.Line}`);
  expect(create.data).toEqual({ VoiceConnectorGroupId: a, DeclaredCount: 4, AssociatedCount: 3, DisassociatedCount: 0, UnchangedCount: 1 });
  expect(world.writtenNumbers()).toEqual(new Set(pool.slice(1, 4)));
  world.expectState({ [a]: numbers });
});

test('Update binds added numbers, unbinds removed ones, and makes no call for unchanged ones', async () => {
  const { groups: { a }, pool } = await world.reset();
  await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 6) }]);

  const next = [...pool.slice(2, 6), pool[6], pool[7]];
  const result = await world.deploy([{ id: 'Line', group: a, numbers: next }]);

  expect(result.failure).toBeUndefined();
  expect(result.status).toBe('UPDATE_COMPLETE');
  const [update] = eventsFor(result, result.logicalIds.Line);
  expect(update.returnedPhysicalResourceId).toBe(update.physicalResourceId);
  expect(update.data).toMatchObject({ AssociatedCount: 2, DisassociatedCount: 2, UnchangedCount: 4 });
  const touched = world.touchedNumbers();
  expect(pool.slice(2, 6).filter((n) => touched.has(n))).toEqual([]);
  expect(world.calls.filter((c) => c.operation === 'AssociatePhoneNumbersWithVoiceConnectorGroup').flatMap((c) => c.numbers)).toEqual([pool[6], pool[7]]);
  expect(world.calls.filter((c) => c.operation === 'DisassociatePhoneNumbersFromVoiceConnectorGroup').flatMap((c) => c.numbers)).toEqual([pool[0], pool[1]]);
  world.expectState({ [a]: next }, { released: [pool[0], pool[1]] });

  // Redeploying the same app changes nothing and calls nothing.
  const again = await world.deploy([{ id: 'Line', group: a, numbers: next }]);
  expect(again.events).toEqual([]);
  expect(world.calls).toEqual([]);
});

test('Update with a group change: new physical id, numbers moved without forceAssociate, the old id\'s Delete finds nothing', async () => {
  const { groups: { a, b }, pool, foreignOnA } = await world.reset();
  await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 4) }]);

  const declared = [...pool.slice(1, 4), pool[4]];
  const result = await world.deploy([{ id: 'Line', group: b, numbers: declared }]);

  expect(result.failure).toBeUndefined();
  expect(summary(result, result.logicalIds)).toEqual(['deploy Update Line ok', 'cleanup Delete Line ok']);
  const [update, cleanup] = eventsFor(result, result.logicalIds.Line);
  expect(update.physicalResourceId).toBe(`${a}/${result.logicalIds.Line}`);
  expect(update.returnedPhysicalResourceId).toBe(`${b}/${result.logicalIds.Line}`);
  expect(cleanup.physicalResourceId).toBe(update.physicalResourceId);
  expect(cleanup.data).toMatchObject({ DisassociatedCount: 0, AssociatedCount: 0 });
  expect(result.resources[result.logicalIds.Line].physicalResourceId).toBe(`${b}/${result.logicalIds.Line}`);
  // pool[0] was dropped: unbound from the old group; the foreign number on the old group is untouched.
  world.expectState({ [b]: declared }, { released: [pool[0]] });
  expect(world.writtenNumbers().has(foreignOnA)).toBe(false);
});

test('Delete unbinds the declared numbers still bound to the group, and nothing else', async () => {
  const { groups: { a }, pool, foreignOnA } = await world.reset();
  await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 3) }]);

  const result = await world.destroy();

  expect(result.status).toBe('DELETE_COMPLETE');
  expect(result.events.map((e) => `${e.phase} ${e.requestType} ${e.ok}`)).toEqual(['destroy Delete true']);
  expect(result.resources).toEqual({});
  expect(world.calls.filter((c) => c.operation.startsWith('Disassociate')).flatMap((c) => c.numbers).sort()).toEqual(pool.slice(0, 3));
  world.expectState({}, { released: pool.slice(0, 3) });
  expect(world.emu.control.getBinding(foreignOnA)).toEqual(groupBinding(a));
});

test('Delete, drifted: numbers unbound or moved by hand are left alone and the Delete succeeds', async () => {
  const { groups: { a, other }, pool } = await world.reset();
  await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 4) }]);
  world.emu.control.unbind(pool[0]);
  world.emu.control.bind(pool[1], 'VoiceConnectorGroupId', other);
  world.rebaseline();

  const result = await world.destroy();

  expect(result.failure).toBeUndefined();
  expect(result.status).toBe('DELETE_COMPLETE');
  expect(world.calls.filter((c) => c.operation.startsWith('Disassociate')).flatMap((c) => c.numbers).sort()).toEqual(pool.slice(2, 4));
  // pool[1] now belongs to someone else's group and keeps that binding.
  world.expectState({}, { released: pool.slice(2, 4) });
});

test('Delete, drifted: the group was deleted by hand; the Delete succeeds (with one number and with several)', async () => {
  const { groups: { a, b }, pool } = await world.reset();
  await world.deploy([
    { id: 'Single', group: a, numbers: [pool[0]] },
    { id: 'Several', group: b, numbers: pool.slice(1, 5) },
  ]);
  world.emu.control.deleteGroup(a);
  world.emu.control.deleteGroup(b);

  const result = await world.destroy({ order: 'parallel' });

  expect(result.failure).toBeUndefined();
  expect(result.status).toBe('DELETE_COMPLETE');
  expect(world.writtenNumbers()).toEqual(new Set());
  expect(Object.entries(world.emu.control.getBindings()).filter(([n, binding]) => pool.includes(n) && binding !== null)).toEqual([]);
});

test('the same event twice: same end state, success both times, for Create, Update, group change and Delete', async () => {
  const { groups: { a, b }, pool } = await world.reset();
  const twice = { duplicateDelivery: true };

  const created = await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 3) }], twice);
  expect(created.failure).toBeUndefined();
  expect(summary(created, created.logicalIds)).toEqual(['deploy Create Line ok', 'deploy Create Line (again) ok']);
  const [first, repeat] = eventsFor(created, created.logicalIds.Line);
  expect(repeat.event.RequestId).toBe(first.event.RequestId);
  expect(repeat.returnedPhysicalResourceId).toBe(first.returnedPhysicalResourceId);
  expect(repeat.data).toMatchObject({ AssociatedCount: 0, UnchangedCount: 3 });
  world.expectState({ [a]: pool.slice(0, 3) });

  const updated = await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(1, 4) }], twice);
  expect(updated.failure).toBeUndefined();
  expect(eventsFor(updated, updated.logicalIds.Line).map((e) => e.ok)).toEqual([true, true]);
  world.expectState({ [a]: pool.slice(1, 4) }, { released: [pool[0]] });

  const moved = await world.deploy([{ id: 'Line', group: b, numbers: pool.slice(1, 4) }], twice);
  expect(moved.failure).toBeUndefined();
  expect(summary(moved, moved.logicalIds)).toEqual([
    'deploy Update Line ok', 'deploy Update Line (again) ok', 'cleanup Delete Line ok', 'cleanup Delete Line (again) ok',
  ]);
  world.expectState({ [b]: pool.slice(1, 4) }, { released: [pool[0]] });

  const destroyed = await world.destroy(twice);
  expect(destroyed.status).toBe('DELETE_COMPLETE');
  expect(destroyed.events.map((e) => e.ok)).toEqual([true, true]);
  world.expectState({}, { released: pool.slice(0, 4) });
});

test('RETAIN: destroying the stack leaves the bindings in place and makes no call', async () => {
  const { groups: { a }, pool } = await world.reset();
  await world.deploy([
    { id: 'Kept', group: a, numbers: pool.slice(0, 2), removalPolicy: RemovalPolicy.RETAIN },
    { id: 'Gone', group: a, numbers: pool.slice(2, 4) },
  ]);

  const result = await world.destroy();

  expect(result.status).toBe('DELETE_COMPLETE');
  expect(result.events.map((e) => e.requestType)).toEqual(['Delete']);
  expect([...world.writtenNumbers()].sort()).toEqual(pool.slice(2, 4));
  world.expectState({ [a]: pool.slice(0, 2) }, { released: pool.slice(2, 4) });
});

test('RETAIN: removing a retained construct from the app leaves its numbers bound', async () => {
  const { groups: { a }, pool } = await world.reset();
  await world.deploy([
    { id: 'Kept', group: a, numbers: pool.slice(0, 2), removalPolicy: RemovalPolicy.RETAIN },
    { id: 'Other', group: a, numbers: pool.slice(2, 4) },
  ]);

  const result = await world.deploy([{ id: 'Other', group: a, numbers: pool.slice(2, 4) }]);

  expect(result.failure).toBeUndefined();
  expect(result.events.filter((e) => e.requestType === 'Delete')).toEqual([]);
  world.expectState({ [a]: pool.slice(0, 4) });
});
