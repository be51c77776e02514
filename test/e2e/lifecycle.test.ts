/**
 * DESIGN.md's lifecycle, row by row: the real construct, synthesized; the real bundled handler; the local
 * CloudFormation driver; the Chime SDK Voice emulator. Every step checks the emulator's full binding
 * state (`expectState`) and, where the contract says "no calls", the emulator's call log.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { groupBinding, ownerOf, summary, World } from './support';
import { BINDING_RESOURCE_TYPE } from '../../src/binding-properties';

jest.setTimeout(30_000);

let world: World;
beforeAll(async () => {
  world = await World.start({ seed: 3 });
});
afterAll(async () => world.close());

function bindingEvents(result: { events: ReadonlyArray<{ resourceType: string }> }) {
  return result.events.filter((e) => e.resourceType === BINDING_RESOURCE_TYPE) as Array<(typeof result.events)[number] & Record<string, any>>;
}

test('Create binds every declared number, one Create per shard that holds numbers; one already bound counts as done', async () => {
  const { groups: { a }, pool } = await world.reset();
  world.emu.control.bind(pool[0], 'VoiceConnectorGroupId', a);
  world.rebaseline();
  const numbers = pool.slice(0, 4);

  const result = await world.deploy([{ id: 'Line', group: a, numbers }]);

  expect(result.failure).toBeUndefined();
  expect(result.status).toBe('CREATE_COMPLETE');
  const shards = new Set(numbers.map(ownerOf));
  expect(summary(result).sort()).toEqual([...shards].map((s) => `deploy Create ${s} ok`).sort());
  const data = bindingEvents(result).map((e) => e.data);
  expect(data.reduce((sum, d) => sum + d.DeclaredCount, 0)).toBe(4);
  expect(data.reduce((sum, d) => sum + d.AssociatedCount, 0)).toBe(3);
  expect(data.reduce((sum, d) => sum + d.UnchangedCount, 0)).toBe(1);
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
  const touched = world.touchedNumbers();
  expect(pool.slice(2, 6).filter((n) => touched.has(n))).toEqual([]);
  expect(world.calls.filter((c) => c.operation === 'AssociatePhoneNumbersWithVoiceConnectorGroup').flatMap((c) => c.numbers).sort()).toEqual([pool[6], pool[7]]);
  expect(world.calls.filter((c) => c.operation === 'DisassociatePhoneNumbersFromVoiceConnectorGroup').flatMap((c) => c.numbers).sort()).toEqual([pool[0], pool[1]]);
  world.expectState({ [a]: next }, { released: [pool[0], pool[1]] });

  // Redeploying the same app changes nothing and calls nothing.
  const again = await world.deploy([{ id: 'Line', group: a, numbers: next }]);
  expect(again.events).toEqual([]);
  expect(world.calls).toEqual([]);
});

test('a group change moves the numbers without forceAssociate; each shard\'s old physical id then gets a Delete that changes nothing', async () => {
  const { groups: { a, b }, pool, foreignOnA } = await world.reset();
  await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 4) }]);

  const declared = [...pool.slice(1, 4), pool[4]];
  const result = await world.deploy([{ id: 'Line', group: b, numbers: declared }]);

  expect(result.failure).toBeUndefined();
  for (const update of bindingEvents(result).filter((e) => e.phase === 'deploy')) {
    expect(update.returnedPhysicalResourceId).not.toBe(update.physicalResourceId);
  }
  // A shard that still exists had its old physical id replaced: that Delete changes nothing. A shard
  // left empty (pool[0]'s) is removed: its Delete unbinds what it held.
  const cleanups = bindingEvents(result).filter((e) => e.phase === 'cleanup');
  const replaced = cleanups.filter((e) => e.logicalResourceId in result.resources);
  expect(replaced.length).toBeGreaterThan(0);
  for (const cleanup of replaced) expect(cleanup.data).toEqual({});
  const removed = cleanups.filter((e) => !(e.logicalResourceId in result.resources));
  const stillHeld = new Set(declared.map(ownerOf));
  expect(removed.map((e) => e.logicalResourceId)).toEqual([ownerOf(pool[0])].filter((shard) => !stillHeld.has(shard)));
  // pool[0] was dropped: unbound from the old group; the foreign number on the old group is untouched.
  world.expectState({ [b]: declared }, { released: [pool[0]] });
  expect(world.writtenNumbers().has(foreignOnA)).toBe(false);
});

test('Delete unbinds the declared numbers still bound to the group, and nothing else', async () => {
  const { groups: { a }, pool, foreignOnA } = await world.reset();
  await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 3) }]);

  const result = await world.destroy();

  expect(result.status).toBe('DELETE_COMPLETE');
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
  // The Delete unbinds from its own group without reading first: a number off that group is not touched.
  expect(world.calls.filter((c) => c.operation.startsWith('Disassociate')).every((c) => c.groupId === a)).toBe(true);
  // pool[1] now belongs to someone else's group and keeps that binding.
  world.expectState({}, { released: pool.slice(2, 4) });
});

test('Delete, drifted: the groups were deleted by hand; the Delete succeeds', async () => {
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
  // The Delete tried to unbind them (it does not read first), and every call answered that the group is gone.
  expect(world.calls.filter((c) => c.operation.startsWith('Disassociate')).every((c) => c.status === 404)).toBe(true);
  expect(Object.entries(world.emu.control.getBindings()).filter(([n, binding]) => pool.includes(n) && binding !== null)).toEqual([]);
});

test('the same event twice: same end state, same answer, success both times, for Create, Update, group change and Delete', async () => {
  const { groups: { a, b }, pool } = await world.reset();
  const twice = { duplicateDelivery: true };

  const created = await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 3) }], twice);
  expect(created.failure).toBeUndefined();
  const creates = bindingEvents(created);
  expect(creates.length).toBe(2 * new Set(pool.slice(0, 3).map(ownerOf)).size);
  for (const repeat of creates.filter((e) => e.delivery === 2)) {
    const first = creates.find((e) => e.delivery === 1 && e.logicalResourceId === repeat.logicalResourceId)!;
    expect(repeat.event.RequestId).toBe(first.event.RequestId);
    expect(repeat.returnedPhysicalResourceId).toBe(first.returnedPhysicalResourceId);
  }
  world.expectState({ [a]: pool.slice(0, 3) });

  const updated = await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(1, 4) }], twice);
  expect(updated.failure).toBeUndefined();
  world.expectState({ [a]: pool.slice(1, 4) }, { released: [pool[0]] });

  const moved = await world.deploy([{ id: 'Line', group: b, numbers: pool.slice(1, 4) }], twice);
  expect(moved.failure).toBeUndefined();
  world.expectState({ [b]: pool.slice(1, 4) }, { released: [pool[0]] });

  const destroyed = await world.destroy(twice);
  expect(destroyed.status).toBe('DELETE_COMPLETE');
  expect(destroyed.events.every((e) => e.ok)).toBe(true);
  world.expectState({}, { released: pool.slice(0, 4) });
});

test('RETAIN: destroying the stack leaves the retained bindings in place and unbinds the rest', async () => {
  const { groups: { a }, pool } = await world.reset();
  await world.deploy([
    { id: 'Kept', group: a, numbers: pool.slice(0, 2), removalPolicy: RemovalPolicy.RETAIN },
    { id: 'Gone', group: a, numbers: pool.slice(2, 4) },
  ]);

  const result = await world.destroy();

  expect(result.status).toBe('DELETE_COMPLETE');
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
  expect(world.writtenNumbers()).toEqual(new Set());
  world.expectState({ [a]: pool.slice(0, 4) });
});
