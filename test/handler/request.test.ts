import { createEvent, deleteEvent, GROUP_A, GROUP_B, numbers, phone, props, SHARD, updateEvent } from './fixtures';
import { InvalidPropertiesError, lenientSpec, parseRequest, parseSpec, unknownPropertyNames } from '../../lambda/phone-numbers/request';
import { shardOf } from '../../src/binding-properties';

const context = { requestType: 'Create', logicalId: 'VoiceConnectorGroupPhoneNumberBindings05' };
const errorOf = (fn: () => unknown): string => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(InvalidPropertiesError);
    return (e as Error).message;
  }
  throw new Error('expected an error');
};

describe('parseSpec', () => {
  test('reads every entry into one binding per number, with its options; numbers normalised', () => {
    const [n1, n2] = numbers(2);
    const spec = parseSpec(props(
      [{ numbers: [n1.slice(1)] }, { numbers: [n2], group: GROUP_B, force: true, retain: true, everyDeploy: true }],
      { exclusive: [GROUP_A] },
    ), context);
    expect(spec.shard).toBe(SHARD);
    expect([...spec.bindings.values()]).toEqual([
      { number: n1, groupId: GROUP_A, force: false, retain: false, everyDeploy: false },
      { number: n2, groupId: GROUP_B, force: true, retain: true, everyDeploy: true },
    ]);
    expect(spec.exclusiveGroups).toEqual(new Set([GROUP_A]));
  });

  test('a token list keeps only its numbers of this shard; a literal list with another shard\'s number is an error', () => {
    const all = Array.from({ length: 40 }, (_, i) => phone(i));
    const spec = parseSpec(props([{ numbers: all, filtered: true }]), context);
    expect([...spec.bindings.keys()]).toEqual(all.filter((n) => shardOf(n) === SHARD));
    const stranger = all.find((n) => shardOf(n) !== SHARD)!;
    expect(errorOf(() => parseSpec(props([{ numbers: [stranger] }]), context))).toMatch(/belongs to binding resource shard \d+: two resources would own it/);
  });

  test('one number declared twice in the stack (a token list and a literal one) is an error naming it and the fix', () => {
    const [n1] = numbers(1);
    expect(errorOf(() => parseSpec(props([{ numbers: [n1] }, { numbers: [n1], filtered: true, group: GROUP_B }]), context)))
      .toMatch(new RegExp(`Phone number \\${n1} is declared twice in the stack .* Declare every number once`));
  });

  test.each([
    ['a bad number from a token', [{ numbers: ['+0123'], filtered: true }], /contains "\+0123", which is not an E\.164 phone number .* resolved at deploy time/],
    ['an empty string from a CommaDelimitedList', [{ numbers: [''], filtered: true }], /An empty string is what a CommaDelimitedList parameter deployed with an empty value resolves to/],
    ['a blank group id from a token', [{ numbers: numbers(1), group: ' ' }], /voiceConnectorGroupId \(VoiceConnectorGroupId\) resolved to " " at deploy time, which is blank/],
  ])('%s is an error naming the prop, the value, where it came from and the fix', (_name, entries, message) => {
    expect(errorOf(() => parseSpec(props(entries as never), context))).toMatch(message);
  });

  test.each([['1', /an older release .* gave each construct a resource of its own/], ['3', /a newer release/], ['x', /not a version any release/], [undefined, /have no SchemaVersion: a release .* from before it existed/]])(
    'SchemaVersion %p is an error that says which release rendered it and that nothing changed', (schema, message) => {
      const properties = props([{ numbers: numbers(1) }], { schema: schema ?? '2' });
      if (schema === undefined) delete properties.SchemaVersion;
      const text = errorOf(() => parseSpec(properties, context));
      expect(text).toMatch(message);
      expect(text).toContain('Nothing was changed.');
    });

  test('lenient (old properties, Deletes): what does not parse is dropped, never fatal', () => {
    const [n1] = numbers(1);
    const spec = lenientSpec(props([{ numbers: [n1, 'garbage'] }, { numbers: [numbers(1, 1)[0]], group: ' ' }]))!;
    expect([...spec.bindings.keys()]).toEqual([n1]);
    expect(lenientSpec(props([{ numbers: [n1] }], { schema: '1' }))).toBeUndefined();
  });
});

describe('parseRequest', () => {
  test('Create, Update (new strict, old lenient) and Delete', () => {
    const good = props([{ numbers: numbers(2) }]);
    expect(parseRequest(createEvent(good)).type).toBe('Create');
    const update = parseRequest(updateEvent(good, { garbage: true }, 'pid'));
    expect(update).toMatchObject({ type: 'Update', physicalId: 'pid', previous: undefined });
    expect(parseRequest(deleteEvent({ garbage: true }, 'pid'))).toMatchObject({ type: 'Delete', previous: undefined });
  });

  test('unknown properties are named for the log, never fatal', () => {
    expect(unknownPropertyNames({ ...props([{ numbers: numbers(1) }]), ServiceTimeout: '3600', Surprise: 1 })).toEqual(['Surprise']);
  });
});
