import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { GROUP_A, GROUP_B, createEvent, deleteEvent, numbers, props, updateEvent } from './fixtures';
import { InvalidPropertiesError, parseRequest, parseSpec, unknownPropertyNames } from '../../lambda/request';
import { Prop } from '../../src/binding-properties';

const [n0, n1, n2] = numbers(3);

function parseError(properties: Record<string, unknown>): Error {
  try {
    parseSpec(properties, 'ResourceProperties');
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected parseSpec to throw');
}

describe('parseSpec', () => {
  test('parses a rendered property set', () => {
    const spec = parseSpec(props({ numbers: [n0, n1], peers: [n2] }), 'ResourceProperties');
    expect(spec).toEqual({ groupId: GROUP_A, numbers: [n0, n1], forceAssociate: false, peerNumbers: new Set([n2]) });
  });

  test.each([
    ['"true"', 'true', true],
    ['"false"', 'false', false],
    ['true', true, true],
    ['false', false, false],
    ['absent', undefined, false],
  ])('ForceAssociate %s', (_, value, expected) => {
    const properties = { ...props({ numbers: [n0] }), [Prop.FORCE_ASSOCIATE]: value };
    if (value === undefined) delete properties[Prop.FORCE_ASSOCIATE];
    expect(parseSpec(properties, 'ResourceProperties').forceAssociate).toBe(expected);
  });

  test.each(['yes', 'TRUE', '1', 1, null, ''])('ForceAssociate %p is rejected with a clear message', (value) => {
    const error = parseError({ ...props({ numbers: [n0] }), [Prop.FORCE_ASSOCIATE]: value });
    expect(error).toBeInstanceOf(InvalidPropertiesError);
    expect(error.message).toBe(`ForceAssociate must be "true" or "false", got ${JSON.stringify(value)}.`);
  });

  test('numbers without the + are normalised, order kept', () => {
    expect(parseSpec(props({ numbers: [n1.slice(1), n0] }), 'ResourceProperties').numbers).toEqual([n1, n0]);
  });

  test.each(['+0206555000', '12065550100x', '+1 206 555 0100', '+1234567890123456', '+1', ''])('invalid E.164 %p is rejected, naming the value and the fix', (bad) => {
    const error = parseError(props({ numbers: [n0, bad] }));
    expect(error).toBeInstanceOf(InvalidPropertiesError);
    expect(error.message).toContain(`E164PhoneNumbers contains ${JSON.stringify(bad)}, which is not an E.164 phone number`);
    expect(error.message).toContain("e.g. '+12065550100'");
  });

  test('a non-string entry is rejected', () => {
    expect(parseError(props({ numbers: [n0, 12065550100 as unknown as string] })).message).toContain('contains 12065550100');
  });

  test('duplicates after normalisation are rejected, naming both spellings', () => {
    const error = parseError(props({ numbers: [n0, n1, n0.slice(1)] }));
    expect(error).toBeInstanceOf(InvalidPropertiesError);
    expect(error.message).toBe(`E164PhoneNumbers lists ${n0} twice (as "${n0}" and "${n0.slice(1)}"). Remove the duplicate.`);
  });

  test('an empty list is rejected', () => {
    expect(parseError(props({ numbers: [] })).message).toMatch(/^E164PhoneNumbers is empty\. Declare at least one/);
  });

  test('a non-list is rejected', () => {
    expect(parseError({ ...props({ numbers: [n0] }), [Prop.PHONE_NUMBERS]: n0 }).message)
      .toBe(`E164PhoneNumbers must be a list of E.164 phone numbers, got "${n0}".`);
  });

  test.each(['', '   ', undefined, 42])('group id %p is rejected', (group) => {
    const error = parseError({ ...props({ numbers: [n0] }), [Prop.GROUP_ID]: group });
    expect(error).toBeInstanceOf(InvalidPropertiesError);
    expect(error.message).toMatch(/^VoiceConnectorGroupId must be a non-blank string/);
  });

  test('an unsupported SchemaVersion is rejected with the upgrade hint', () => {
    const error = parseError(props({ numbers: [n0], schema: '2' }));
    expect(error).toBeInstanceOf(InvalidPropertiesError);
    expect(error.message).toContain('SchemaVersion "2" is not supported by this handler (supported: 1)');
    expect(error.message).toContain('Upgrade cdk-chime-voice-connector-groups');
  });

  test('SchemaVersion may be absent', () => {
    const properties = props({ numbers: [n0] });
    delete properties[Prop.SCHEMA_VERSION];
    expect(parseSpec(properties, 'ResourceProperties').numbers).toEqual([n0]);
  });

  test('PeerPhoneNumbers: absent is empty, empty list allowed, invalid entries rejected', () => {
    expect(parseSpec(props({ numbers: [n0] }), 'x').peerNumbers.size).toBe(0);
    expect(parseSpec(props({ numbers: [n0], peers: [] }), 'x').peerNumbers.size).toBe(0);
    expect(parseSpec(props({ numbers: [n0], peers: [n1.slice(1)] }), 'x').peerNumbers).toEqual(new Set([n1]));
    expect(parseError(props({ numbers: [n0], peers: ['nope'] })).message).toContain('PeerPhoneNumbers contains "nope"');
  });

  test('missing properties', () => {
    expect(() => parseSpec(undefined, 'ResourceProperties')).toThrow('ResourceProperties is missing.');
  });
});

describe('parseRequest', () => {
  test('Create', () => {
    expect(parseRequest(createEvent(props({ numbers: [n0], force: 'true' })))).toEqual({
      type: 'Create',
      logicalId: 'Bindings',
      desired: { groupId: GROUP_A, numbers: [n0], forceAssociate: true, peerNumbers: new Set() },
    });
  });

  test('Create with bad properties throws', () => {
    expect(() => parseRequest(createEvent(props({ numbers: ['bad'] })))).toThrow(InvalidPropertiesError);
  });

  test('Update carries both specs and the physical id', () => {
    const request = parseRequest(updateEvent(props({ group: GROUP_B, numbers: [n1] }), props({ numbers: [n0] }), 'old-id'));
    expect(request).toEqual({
      type: 'Update',
      logicalId: 'Bindings',
      physicalId: 'old-id',
      desired: { groupId: GROUP_B, numbers: [n1], forceAssociate: false, peerNumbers: new Set() },
      previous: { groupId: GROUP_A, numbers: [n0], forceAssociate: false, peerNumbers: new Set() },
    });
  });

  test('Update rejects bad new properties', () => {
    expect(() => parseRequest(updateEvent(props({ numbers: [] }), props({ numbers: [n0] }), 'id'))).toThrow(/is empty/);
  });

  test('Update with unreadable old properties keeps what it can, and never fails on them', () => {
    const old = { ...props({ numbers: [n0, 'garbage', n1.slice(1), n0] }), [Prop.FORCE_ASSOCIATE]: 'maybe' };
    const request = parseRequest(updateEvent(props({ numbers: [n0] }), old, 'id'));
    expect(request.type === 'Update' && request.previous).toEqual({ groupId: GROUP_A, numbers: [n0, n1], forceAssociate: false, peerNumbers: new Set() });
  });

  test('Update with no usable old properties has previous undefined', () => {
    const request = parseRequest(updateEvent(props({ numbers: [n0] }), { [Prop.GROUP_ID]: '' }, 'id'));
    expect(request.type === 'Update' && request.previous).toBeUndefined();
  });

  test('Delete is lenient: garbage properties give no spec instead of an error', () => {
    const garbage = { [Prop.GROUP_ID]: 7, [Prop.PHONE_NUMBERS]: 'not a list', [Prop.SCHEMA_VERSION]: '99' };
    expect(parseRequest(deleteEvent(garbage, 'id'))).toEqual({ type: 'Delete', logicalId: 'Bindings', physicalId: 'id', previous: undefined });
  });

  test('Delete keeps the valid numbers of a partly invalid property set (e.g. an unknown SchemaVersion)', () => {
    const request = parseRequest(deleteEvent(props({ numbers: [n0, '+0', n2], schema: '2' }), 'id'));
    expect(request.type === 'Delete' && request.previous).toEqual({ groupId: GROUP_A, numbers: [n0, n2], forceAssociate: false, peerNumbers: new Set() });
  });

  test('Delete with valid properties parses them fully, peers included', () => {
    const request = parseRequest(deleteEvent(props({ numbers: [n0], force: true, peers: [n1] }), 'id'));
    expect(request.type === 'Delete' && request.previous).toEqual({ groupId: GROUP_A, numbers: [n0], forceAssociate: true, peerNumbers: new Set([n1]) });
  });

  test('an unknown RequestType is rejected', () => {
    const event = { ...createEvent(props({ numbers: [n0] })), RequestType: 'Replace' } as unknown as CloudFormationCustomResourceEvent;
    expect(() => parseRequest(event)).toThrow('Unknown RequestType "Replace".');
  });
});

describe('unknownPropertyNames', () => {
  test('reports extra properties, not the known ones nor CloudFormation\'s ServiceToken/ServiceTimeout', () => {
    expect(unknownPropertyNames({ ...props({ numbers: [n0], peers: [n1] }), Extra: 'x', ServiceTimeout: '300' })).toEqual(['Extra']);
  });

  test('extra properties do not make parsing fail', () => {
    expect(parseSpec({ ...props({ numbers: [n0] }), FutureThing: { a: 1 } }, 'ResourceProperties').numbers).toEqual([n0]);
  });
});
