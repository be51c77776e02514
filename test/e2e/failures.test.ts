/**
 * Failed deployments, end to end: a failed event undoes what it changed, CloudFormation's rollback puts
 * back exactly what the deploy changed (numbers it adopted stay, numbers it took go back to their owner),
 * whichever resource failed, and a rollback never fails because of a binding. Every failure message
 * names the number, the code and the fix, inside CloudFormation's 4,096-byte response.
 */
import { RemovalPolicy } from 'aws-cdk-lib';
import { groupBinding, nums, ownerOf, World } from './support';
import { phone } from '../support/account';

jest.setTimeout(60_000);

let world: World;
beforeAll(async () => {
  world = await World.start({ seed: 5 });
});
afterAll(async () => world.close());

/** A number whose shard differs from every shard of `others`: a Create of it fails alone. */
function inAnotherShard(candidates: readonly string[], others: readonly string[]): string {
  const taken = new Set(others.map(ownerOf));
  const found = candidates.find((n) => !taken.has(ownerOf(n)));
  if (!found) throw new Error('test bug: no candidate in another shard');
  return found;
}

describe('failed Create', () => {
  test('a number bound to another group (no forceAssociate) is refused before any change, with where it is bound', async () => {
    const { groups: { a, other }, pool, onOtherGroup } = await world.reset();
    const numbers = [...pool.slice(0, 3), onOtherGroup];

    const result = await world.deploy([{ id: 'Line', group: a, numbers }]);

    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(result.failure).toContain(`${onOtherGroup}: PhoneNumberAssociationsExist: bound to voice connector group ${other}`);
    expect(result.failure).toContain('set forceAssociate: true to move it');
    world.expectState({});
  });

  test('a number not in the inventory: the shards that succeeded are deleted by the rollback, and a number bound before stays', async () => {
    const { groups: { a, b }, pool, notInInventory } = await world.reset();
    world.emu.control.bind(pool[0], 'VoiceConnectorGroupId', a);
    world.rebaseline();

    const result = await world.deploy([
      { id: 'Good', group: b, numbers: pool.slice(5, 9) },
      { id: 'Bad', group: a, numbers: [pool[0], pool[1], notInInventory, pool[2]] },
    ]);

    expect(result.status).toBe('ROLLBACK_COMPLETE');
    expect(result.failure).toContain(`${notInInventory}: NotFound: not in this account's phone number inventory`);
    // pool[0] was on the group before the stack existed: neither the undo nor the rollback unbinds it.
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

describe('the rollback is exact', () => {
  test('a first deploy adopts numbers bound by hand, then fails elsewhere: the rollback leaves the adopted numbers bound', async () => {
    const { groups: { a }, pool, notInInventory } = await world.reset();
    const adopted = pool.slice(0, 6);
    adopted.forEach((n) => world.emu.control.bind(n, 'VoiceConnectorGroupId', a));
    world.rebaseline();
    const failing = inAnotherShard([notInInventory, phone(998), phone(997), phone(996)], adopted);

    for (const order of ['topological', 'reverse', 'parallel'] as const) {
      const result = await world.deploy([{ id: 'Console', group: a, numbers: [...adopted, ...pool.slice(6, 8), failing] }], { order });
      expect(result.status).toBe('ROLLBACK_COMPLETE');
      world.expectState({ [a]: adopted });
      await world.destroy();
    }
  });

  test('an update adopts numbers bound by hand, then fails elsewhere: the rollback leaves them bound', async () => {
    const { groups: { a }, pool, notInInventory } = await world.reset();
    await world.deploy([{ id: 'Line', group: a, numbers: pool.slice(0, 2) }]);
    const adopted = pool.slice(2, 6);
    adopted.forEach((n) => world.emu.control.bind(n, 'VoiceConnectorGroupId', a));
    world.rebaseline();
    const failing = inAnotherShard([notInInventory, phone(998), phone(997), phone(996)], [...pool.slice(0, 2), ...adopted]);

    const result = await world.deploy([{ id: 'Line', group: a, numbers: [...pool.slice(0, 2), ...adopted, failing] }]);

    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    world.expectState({ [a]: pool.slice(0, 2) });
    for (const n of adopted) expect(world.emu.control.getBinding(n)).toEqual(groupBinding(a));
  });

  test.each(['update', 'delete', 'both'] as const)(
    'numbers taken with forceAssociate go back to their group and voice connector when another shard fails (replaced-id rollback: %s)',
    async (variant) => {
      const { groups: { a, other }, pool, onOtherGroup, onVoiceConnector, voiceConnector, notInInventory } = await world.reset();
      await world.deploy([{ id: 'Main', group: a, numbers: pool.slice(0, 2) }]);
      const failing = inAnotherShard([notInInventory, phone(998), phone(997), phone(996)], [...pool.slice(0, 2), onOtherGroup, onVoiceConnector]);

      const result = await world.deploy([
        { id: 'Main', group: a, numbers: pool.slice(0, 2) },
        { id: 'Taken', group: a, numbers: [onOtherGroup, onVoiceConnector], forceAssociate: true },
        { id: 'Broken', group: a, numbers: [failing] },
      ], { replacedUpdateRollback: variant, order: 'parallel' });

      expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
      // The forward deploy did take them (in parallel with the failing shard), and the rollback gave them back.
      expect(world.calls.some((c) => c.operation === 'AssociatePhoneNumbersWithVoiceConnectorGroup' && c.numbers?.includes(onOtherGroup))).toBe(true);
      world.expectState({ [a]: pool.slice(0, 2) });
      expect(world.emu.control.getBinding(onOtherGroup)).toEqual(groupBinding(other));
      expect(world.emu.control.getBinding(onVoiceConnector)).toEqual({ name: 'VoiceConnectorId', value: voiceConnector });
    },
  );

  test.each(['update', 'delete', 'both'] as const)('a move between groups and a removal are put back when another shard fails (%s)', async (variant) => {
    const { groups: { a, b }, pool, notInInventory } = await world.reset();
    const before = pool.slice(0, 8);
    await world.deploy([{ id: 'Line', group: a, numbers: before }]);
    const failing = inAnotherShard([notInInventory, phone(998), phone(997), phone(996)], before);

    const result = await world.deploy([
      { id: 'Line', group: a, numbers: pool.slice(0, 3) },
      { id: 'Moved', group: b, numbers: pool.slice(3, 6) },
      { id: 'Broken', group: a, numbers: [failing] },
    ], { replacedUpdateRollback: variant, order: 'parallel' });

    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    expect(world.calls.some((c) => c.operation === 'AssociatePhoneNumbersWithVoiceConnectorGroup' && c.groupId === b)).toBe(true);
    world.expectState({ [a]: before });
  });

  test('the resource whose own update failed is put back too, including the number it adopted', async () => {
    const { groups: { a }, pool, notInInventory } = await world.reset();
    const first = pool.slice(0, 2);
    await world.deploy([{ id: 'Line', group: a, numbers: first }]);
    // Two more numbers of the failing number's own shard: one bound by hand (adopted), one new.
    const shard = ownerOf(notInInventory);
    const same = Array.from({ length: 2000 }, (_, i) => phone(4000 + i)).filter((n) => ownerOf(n) === shard).slice(0, 2);
    world.emu.control.seedNumbers(same);
    world.emu.control.bind(same[0], 'VoiceConnectorGroupId', a);
    world.rebaseline();

    const result = await world.deploy([{ id: 'Line', group: a, numbers: [...first, ...same, notInInventory] }]);

    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    world.expectState({ [a]: first });
    expect(world.emu.control.getBinding(same[0])).toEqual(groupBinding(a));
  });
});

describe('the rollback never reuses an older event\'s record', () => {
  test.each(['update', 'delete', 'both'] as const)('options changed back and forth, then a failure: the numbers stay bound (%s)', async (variant) => {
    const { groups: { a }, pool, notInInventory } = await world.reset();
    const numbers = pool.slice(0, 6);
    const taken = new Set(numbers.map(ownerOf));
    const failing = [notInInventory, phone(998), phone(997), phone(996), phone(995)].find((n) => !taken.has(ownerOf(n)))!;
    await world.deploy([{ id: 'Line', group: a, numbers }]);
    // Only an option changes: no write, yet a new physical id (with an empty record) each time.
    await world.deploy([{ id: 'Line', group: a, numbers, forceAssociate: true }]);
    const back = [{ id: 'Line', group: a, numbers }];
    const result = await world.deploy([...back, { id: 'Broken', group: a, numbers: [failing] }], { replacedUpdateRollback: variant, order: 'parallel' });

    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    world.expectState({ [a]: numbers });
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

  test('a failed Update with forceAssociate (its own failure) hands the taken number back', async () => {
    const { groups: { a }, pool, onOtherGroup, notInInventory } = await world.reset();
    await world.deploy([{ id: 'Main', group: a, numbers: pool.slice(0, 2), forceAssociate: true }]);

    const result = await world.deploy([{ id: 'Main', group: a, numbers: [...pool.slice(0, 2), onOtherGroup, notInInventory], forceAssociate: true }]);

    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    world.expectState({ [a]: pool.slice(0, 2) });
  });
});

describe('failure messages fit CloudFormation\'s response', () => {
  test('40 failing numbers in one shard: the FAILED response stays under 4,096 bytes and says how many and where the rest are', async () => {
    const missing = Array.from({ length: 3900 }, (_, i) => phone(2000 + i));
    const shard = ownerOf(missing[0]);
    const inShard = missing.filter((n) => ownerOf(n) === shard).slice(0, 40);
    const { groups: { a } } = await world.reset();

    const result = await world.deploy([{ id: 'Lines', group: a, numbers: inShard }]);

    expect(result.status).toBe('ROLLBACK_COMPLETE');
    // The driver replaces a discarded (over 4,096 bytes) FAILED response with a note; the real message came through.
    expect(result.failure).toContain('NotFound');
    expect(result.failure).toMatch(/and \d+ more \(every number is in the handler's log/);
    expect(result.failure).not.toContain('CloudFormation discarded');
  });
});

describe('RETAIN', () => {
  test('a retained number removed in a failing deploy stays bound; the rollback leaves it as it was', async () => {
    const { groups: { a }, pool, notInInventory } = await world.reset();
    await world.deploy([{ id: 'Kept', group: a, numbers: pool.slice(0, 2), removalPolicy: RemovalPolicy.RETAIN }]);
    const result = await world.deploy([{ id: 'Other', group: a, numbers: [nums(10, 1)[0], notInInventory] }]);
    expect(result.status).toBe('UPDATE_ROLLBACK_COMPLETE');
    world.expectState({ [a]: pool.slice(0, 2) });
  });
});
