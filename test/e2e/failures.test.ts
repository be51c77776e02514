/**
 * Failed deployments, end to end: a failed Create undoes what it bound, a failed Update is rolled back
 * to exactly the old set, forceAssociate takes numbers from other groups and voice connectors and a
 * failed deployment hands them back. Every failure message names the number, the code and the fix.
 */
import { groupBinding, summary, World } from './support';

jest.setTimeout(30_000);

let world: World;
beforeAll(async () => {
  world = await World.start({ seed: 5 });
});
afterAll(async () => world.close());

describe('failed Create', () => {
  test('a number bound to another group (no forceAssociate): everything this Create bound is unbound again', async () => {
    const { groups: { a, other }, pool, onOtherGroup } = await world.reset();
    const numbers = [...pool.slice(0, 3), onOtherGroup];

    const result = await world.deploy([{ id: 'Line', group: a, numbers }]);

    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(summary(result, result.logicalIds)).toEqual(['deploy Create Line FAILED']);
    expect(result.failure).toContain(`${onOtherGroup}: PhoneNumberAssociationsExist: bound to voice connector group ${other}`);
    expect(result.failure).toContain('set forceAssociate: true to move it, or remove it from phoneNumbers');
    expect(result.failure).toContain('were undone');
    expect(result.failure).not.toContain(pool[0]);
    // The other three were bound by this Create, then unbound; the contested number kept its owner.
    expect([...world.writtenNumbers()].sort()).toEqual([...pool.slice(0, 3), onOtherGroup].sort());
    world.expectState({});
  });

  test('a number not in the inventory, a number already on the group, and a sibling that succeeded: all rolled back, the pre-bound number kept', async () => {
    const { groups: { a, b }, pool, notInInventory } = await world.reset();
    world.emu.control.bind(pool[0], 'VoiceConnectorGroupId', a);
    world.rebaseline();

    const result = await world.deploy([
      { id: 'Good', group: b, numbers: pool.slice(5, 7) },
      { id: 'Bad', group: a, numbers: [pool[0], pool[1], notInInventory, pool[2]], dependsOn: ['Good'] },
    ]);

    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(summary(result, result.logicalIds)).toEqual(['deploy Create Good ok', 'deploy Create Bad FAILED', 'rollback Delete Good ok']);
    expect(result.failure).toContain(`${notInInventory}: NotFound: not in this account's phone number inventory`);
    expect(result.failure).toContain('order or port it');
    // pool[0] was on the group before this Create and counted as done: the undo must not unbind it.
    world.expectState({});
    expect(world.emu.control.getBinding(pool[0])).toEqual(groupBinding(a));
  });

  test('a group that does not exist: the message names the group and what to check', async () => {
    const { pool } = await world.reset();
    const result = await world.deploy([{ id: 'Line', group: 'no-such-group', numbers: pool.slice(0, 3) }]);
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(result.failure).toContain('no-such-group');
    expect(result.failure).toMatch(/voiceConnectorGroupId/);
    world.expectState({});
  });
});

describe('failed Update and rollback', () => {
  test('a second resource fails: CloudFormation rolls back the first one\'s successful update to exactly the old set', async () => {
    const { groups: { a, b, other }, pool, onOtherGroup } = await world.reset();
    const before = [
      { id: 'First', group: a, numbers: pool.slice(0, 4) },
      { id: 'Second', group: b, numbers: pool.slice(8, 10), dependsOn: ['First'] },
    ];
    await world.deploy(before);

    const result = await world.deploy([
      { id: 'First', group: a, numbers: [...pool.slice(2, 4), pool[4], pool[5]] },
      { id: 'Second', group: b, numbers: [...pool.slice(8, 10), pool[10], onOtherGroup], dependsOn: ['First'] },
    ]);

    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(summary(result, result.logicalIds)).toEqual([
      'deploy Update First ok', 'deploy Update Second FAILED', 'rollback Update First ok', 'rollback Update Second ok',
    ]);
    expect(result.failure).toContain(`${onOtherGroup}: PhoneNumberAssociationsExist: bound to voice connector group ${other}`);
    expect(result.failure).toContain(`Update of ${result.logicalIds.Second}`);
    world.expectState({ [a]: pool.slice(0, 4), [b]: pool.slice(8, 10) });
    // The stack is usable again: the same change without the contested number goes through.
    const retry = await world.deploy([
      { id: 'First', group: a, numbers: [...pool.slice(2, 4), pool[4], pool[5]] },
      { id: 'Second', group: b, numbers: [...pool.slice(8, 10), pool[10]], dependsOn: ['First'] },
    ]);
    expect(retry.failure).toBeUndefined();
    world.expectState({ [a]: [...pool.slice(2, 4), pool[4], pool[5]], [b]: pool.slice(8, 11) }, { released: pool.slice(0, 2) });
  });

  test('a failed group change is rolled back: numbers back on the old group, nothing left on the new one', async () => {
    const { groups: { a, b }, pool, notInInventory } = await world.reset();
    await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 3) }]);

    const result = await world.deploy([{ id: 'Line', group: b, numbers: [...pool.slice(0, 3), notInInventory] }]);

    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(result.failure).toContain(`${notInInventory}: NotFound`);
    world.expectState({ [a]: pool.slice(0, 3) });
    expect(result.resources[result.logicalIds.Line].physicalResourceId).toBe(`${a}/${result.logicalIds.Line}`);
  });
});

describe('forceAssociate', () => {
  test('takes a number from another group and from a single voice connector', async () => {
    const { groups: { a }, pool, onOtherGroup, onVoiceConnector } = await world.reset();
    const numbers = [pool[0], onOtherGroup, onVoiceConnector];

    const result = await world.deploy([{ id: 'Main', group: a, numbers, forceAssociate: true }]);

    expect(result.failure).toBeUndefined();
    world.expectState({ [a]: numbers });
  });

  test('without forceAssociate, a number on a voice connector is not taken, and the message says where it is', async () => {
    const { groups: { a }, pool, onVoiceConnector, voiceConnector } = await world.reset();
    const result = await world.deploy([{ id: 'Main', group: a, numbers: [pool[0], onVoiceConnector] }]);
    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(result.failure).toContain(`${onVoiceConnector}: PhoneNumberAssociationsExist: bound to voice connector ${voiceConnector}`);
    world.expectState({});
  });

  test('a Create with forceAssociate that has already failed takes nothing from the group and voice connector', async () => {
    const { groups: { a }, pool, onOtherGroup, onVoiceConnector, notInInventory } = await world.reset();

    const result = await world.deploy([
      { id: 'Main', group: a, numbers: [pool[0], onOtherGroup, onVoiceConnector, notInInventory], forceAssociate: true },
    ]);

    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(result.failure).toContain(`${notInInventory}: NotFound`);
    // The polite call already failed for good: forcing the contested numbers over would only mean
    // handing them back (their owners would lose them meanwhile), so they are never forced.
    const forced = world.calls.filter((c) => c.operation === 'AssociatePhoneNumbersWithVoiceConnectorGroup' && c.numbers?.includes(onOtherGroup));
    expect(forced).toHaveLength(1);
    expect(result.failure).toContain(`${onOtherGroup}: PhoneNumberAssociationsExist`);
    world.expectState({});
  });

  test('a failed Update with forceAssociate (its own failure) hands the taken number back', async () => {
    const { groups: { a }, pool, onOtherGroup, notInInventory } = await world.reset();
    await world.deploy([{ id: 'Main', group: a, numbers: pool.slice(0, 2), forceAssociate: true }]);

    const result = await world.deploy([{ id: 'Main', group: a, numbers: [...pool.slice(0, 2), onOtherGroup, notInInventory], forceAssociate: true }]);

    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    world.expectState({ [a]: pool.slice(0, 2) });
  });
});
