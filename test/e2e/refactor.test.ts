/**
 * A number moved from one construct to another that binds the same group, in one stack, in one deploy:
 * it stays bound whichever order CloudFormation runs the two resources in, in parallel too.
 */
import { Order } from '../local-deploy';
import { groupBinding, summary, World } from './support';

jest.setTimeout(30_000);

let world: World;
beforeAll(async () => {
  world = await World.start({ seed: 9 });
});
afterAll(async () => world.close());

describe.each<Order>(['topological', 'reverse', 'parallel'])('refactor with order %s', (order) => {
  test('the moved numbers stay bound and get no call; the rest of the move is still reconciled', async () => {
    const { groups: { a }, pool } = await world.reset();
    await world.deploy([
      { id: 'Support', group: a, numbers: pool.slice(0, 4) },
      { id: 'Sales', group: a, numbers: pool.slice(4, 6) },
    ], { order });

    // pool[2] and pool[3] move from Support to Sales; Sales also gains pool[6]; Support drops pool[0].
    const support = [pool[1]];
    const sales = [...pool.slice(2, 6), pool[6]];
    const result = await world.deploy([
      { id: 'Support', group: a, numbers: support },
      { id: 'Sales', group: a, numbers: sales },
    ], { order });

    expect(result.failure).toBeUndefined();
    expect(result.status).toBe('UPDATE_COMPLETE');
    expect(summary(result, result.logicalIds).sort()).toEqual(['deploy Update Sales ok', 'deploy Update Support ok']);
    expect([pool[2], pool[3]].filter((n) => world.writtenNumbers().has(n))).toEqual([]);
    world.expectState({ [a]: [...support, ...sales] }, { released: [pool[0]] });

    // And back again, in the same order.
    const back = await world.deploy([
      { id: 'Support', group: a, numbers: [pool[1], pool[2], pool[3]] },
      { id: 'Sales', group: a, numbers: [pool[4], pool[5], pool[6]] },
    ], { order });
    expect(back.failure).toBeUndefined();
    world.expectState({ [a]: pool.slice(1, 7) }, { released: [pool[0]] });
    expect(world.emu.control.getBinding(pool[2])).toEqual(groupBinding(a));
  });
});

describe('renaming a construct changes its logical id', () => {
  test('left as it is, CloudFormation creates the new resource and then deletes the old one, which unbinds every number (a documented limit)', async () => {
    const { groups: { a }, pool } = await world.reset();
    const numbers = pool.slice(0, 3);
    const first = await world.deploy([{ id: 'Support', group: a, numbers }]);

    const result = await world.deploy([{ id: 'Helpdesk', group: a, numbers }]);

    expect(summary(result, { ...first.logicalIds, ...result.logicalIds })).toEqual(['deploy Create Helpdesk ok', 'cleanup Delete Support ok']);
    world.expectState({}, { released: numbers });
  });

  test('with the old logical id kept (overrideLogicalId, as the README shows), nothing is replaced and no call is made', async () => {
    const { groups: { a }, pool } = await world.reset();
    const numbers = pool.slice(0, 3);
    const first = await world.deploy([{ id: 'Support', group: a, numbers }]);

    const result = await world.deploy([{ id: 'Helpdesk', group: a, numbers, logicalId: first.logicalIds.Support }]);

    expect(result.logicalIds.Helpdesk).toBe(first.logicalIds.Support);
    // Same logical id, same properties: CloudFormation has nothing to do, and the stack stays as it was.
    expect(result.events).toEqual([]);
    expect(result.status).toBe('CREATE_COMPLETE');
    expect(world.calls).toEqual([]);
    world.expectState({ [a]: numbers });
  });
});
