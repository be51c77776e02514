import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { GROUP_A, GROUP_B, createEvent, deleteEvent, numbers, props, updateEvent } from './fixtures';
import { InvalidPropertiesError, parseRequest, parseSpec, unknownPropertyNames } from '../../lambda/request';
import { Prop } from '../../src/binding-properties';

const [n0, n1, n2] = numbers(3);

function errorOf(parse: () => unknown): Error {
  try {
    parse();
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected parsing to throw');
}

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
    // Named as the construct prop first; the construct only renders booleans, so an override is the likely cause.
    expect(error.message).toBe(
      `forceAssociate (ForceAssociate) must be "true" or "false", got ${JSON.stringify(value)}. ` +
      'The construct renders only true or false, so an escape-hatch override (addPropertyOverride) or a hand-edited template set this one. ' +
      'Set forceAssociate: true or false on the construct and remove the override.',
    );
  });

  test('numbers without the + are normalised, order kept', () => {
    expect(parseSpec(props({ numbers: [n1.slice(1), n0] }), 'ResourceProperties').numbers).toEqual([n1, n0]);
  });

  test.each(['+0206555000', '12065550100x', '+1 206 555 0100', '+1234567890123456', '+1', ''])('invalid E.164 %p is rejected, naming the value and the fix', (bad) => {
    const error = parseError(props({ numbers: [n0, bad] }));
    expect(error).toBeInstanceOf(InvalidPropertiesError);
    expect(error.message).toContain(`phoneNumbers (E164PhoneNumbers) contains ${JSON.stringify(bad)}, which is not an E.164 phone number`);
    expect(error.message).toContain("('+', then 2 to 15 digits, the first not 0 (pattern ^\\+?[1-9]\\d{1,14}$; the '+' may be left out))");
    expect(error.message).toContain('this one came from a token that CloudFormation resolved at deploy time');
    expect(error.message).toContain("e.g. '+12065550100'");
  });

  test('a non-string entry is rejected', () => {
    expect(parseError(props({ numbers: [n0, 12065550100 as unknown as string] })).message).toContain('contains 12065550100');
  });

  test('duplicates after normalisation are rejected, naming both spellings', () => {
    const error = parseError(props({ numbers: [n0, n1, n0.slice(1)] }));
    expect(error).toBeInstanceOf(InvalidPropertiesError);
    expect(error.message).toMatch(new RegExp(
      `^phoneNumbers \\(E164PhoneNumbers\\) lists \\${n0} twice \\(as "\\${n0}" and "${n0.slice(1)}"\\); a number may appear once, with or without '\\+'\\. ` +
      '.*resolved at deploy time.* Remove the duplicate\\.$',
    ));
  });

  test('an empty list is rejected', () => {
    expect(parseError(props({ numbers: [] })).message).toMatch(
      /^phoneNumbers \(E164PhoneNumbers\) resolved to an empty list at deploy time; at least one number is required\. .* Make it resolve to at least one number, or remove the construct/,
    );
  });

  test('a non-list is rejected', () => {
    expect(parseError({ ...props({ numbers: [n0] }), [Prop.PHONE_NUMBERS]: n0 }).message).toMatch(new RegExp(
      `^phoneNumbers \\(E164PhoneNumbers\\) must be a list of E\\.164 phone numbers, got "\\${n0}"\\. ` +
      'A token that resolves to a single string instead of a list \\(use a CommaDelimitedList parameter or Fn\\.split\\)',
    ));
  });

  test.each(['', '   '])('blank group id %p names the prop, the token it came from and the fix', (group) => {
    const error = parseError({ ...props({ numbers: [n0] }), [Prop.GROUP_ID]: group });
    expect(error).toBeInstanceOf(InvalidPropertiesError);
    expect(error.message).toBe(
      `voiceConnectorGroupId (VoiceConnectorGroupId) resolved to ${JSON.stringify(group)} at deploy time, which is blank. ` +
      'The construct checks literal values at synth, so this one came from a token that CloudFormation resolved at deploy time ' +
      '(such as a CfnParameter, an SSM parameter or an imported value). Make it resolve to the id of an existing voice connector group ' +
      "in the stack's account and region (aws chime-sdk-voice list-voice-connector-groups shows them).",
    );
  });

  test.each([[undefined, 'nothing (the property is missing)'], [42, '42']])('group id %p (not a string) is blamed on an override', (group, shown) => {
    const error = parseError({ ...props({ numbers: [n0] }), [Prop.GROUP_ID]: group });
    expect(error).toBeInstanceOf(InvalidPropertiesError);
    expect(error.message).toMatch(new RegExp(`^voiceConnectorGroupId \\(VoiceConnectorGroupId\\) must be a non-blank string, got ${shown.replace(/[()]/g, '\\$&')}\\. ` +
      'The construct renders only a string here, so an escape-hatch override'));
  });

  test.each([
    [Prop.EXCLUSIVE, 'exclusive', 'maybe'],
    [Prop.FORCE_ASSOCIATE, 'forceAssociate', 'yes'],
  ])('%s names the construct prop %s', (property, prop, value) => {
    expect(parseError({ ...props({ numbers: [n0] }), [property]: value }).message)
      .toMatch(new RegExp(`^${prop} \\(${property}\\) must be "true" or "false", got "${value}"\\. .* Set ${prop}: true or false on the construct`));
  });

  test('a bad Reconcile names reconcile and the ReconcileMode values', () => {
    expect(parseError({ ...props({ numbers: [n0] }), [Prop.RECONCILE]: 'SOMETIMES' }).message).toBe(
      'reconcile (Reconcile) must be "EVERY_DEPLOY" or "ON_CHANGE", got "SOMETIMES". The construct renders only ReconcileMode values, ' +
      'so an escape-hatch override (addPropertyOverride) or a hand-edited template set this one. ' +
      'Set reconcile: ReconcileMode.EVERY_DEPLOY or ReconcileMode.ON_CHANGE on the construct (or leave it out) and remove the override.',
    );
  });

  test('an empty string in phoneNumbers points at an empty CommaDelimitedList parameter', () => {
    expect(parseError(props({ numbers: [''] })).message)
      .toContain('An empty string is what a CommaDelimitedList parameter deployed with an empty value resolves to.');
  });

  test('a newer SchemaVersion on Create: newer release, what this handler reads, both fixes, nothing changed', () => {
    const error = errorOf(() => parseRequest(createEvent(props({ numbers: [n0], schema: '2' }))));
    expect(error).toBeInstanceOf(InvalidPropertiesError);
    expect(error.message).toBe(
      'SchemaVersion "2" in the properties of Bindings was rendered by a newer release of cdk-chime-voice-connector-groups than the one this handler ' +
      'was deployed from (this handler reads SchemaVersion 1). Nothing was changed. Deploy the template with the handler of the release that rendered it: ' +
      'upgrade cdk-chime-voice-connector-groups in this app to that release, or synthesize again with this release so the template carries SchemaVersion 1. ' +
      'If the app loads two copies of cdk-chime-voice-connector-groups, the template and the handler can come from different releases: ' +
      'npm ls cdk-chime-voice-connector-groups lists them. ' +
      'A Delete carrying this SchemaVersion is not blocked: it unbinds the numbers it can read from the properties.',
    );
  });

  test('an older SchemaVersion on an Update (a rollback after an upgrade) does not tell the user to upgrade, and says how to get past the rollback', () => {
    const error = errorOf(() => parseRequest(updateEvent(props({ numbers: [n0], schema: '0' }), props({ numbers: [n0] }), 'id')));
    expect(error).toBeInstanceOf(InvalidPropertiesError);
    expect(error.message).not.toContain('Upgrade');
    expect(error.message).toContain('SchemaVersion "0" in the properties of Bindings was rendered by an older release of cdk-chime-voice-connector-groups ' +
      'that this handler no longer reads (this handler reads SchemaVersion 1). Nothing was changed. ');
    expect(error.message).toContain('Synthesize again with this release (it renders SchemaVersion 1) and deploy, or deploy with the older release that rendered it');
    expect(error.message).toContain('If CloudFormation is rolling back (the properties are those of the release before an upgrade or downgrade), this handler cannot ' +
      'roll the resource back and retrying the rollback fails the same way: skip it with ' +
      'aws cloudformation continue-update-rollback --stack-name demo --resources-to-skip Bindings. Its numbers stay bound as they are now; deploy again afterwards.');
  });

  test('a newer SchemaVersion on an Update (a rollback after a downgrade) names the newer release and the rollback way out', () => {
    const message = errorOf(() => parseRequest(updateEvent(props({ numbers: [n0], schema: '7' }), props({ numbers: [n0] }), 'id'))).message;
    expect(message).toContain('was rendered by a newer release of cdk-chime-voice-connector-groups than the one this handler was deployed from');
    expect(message).toContain('--resources-to-skip Bindings');
  });

  test('a SchemaVersion no release renders is blamed on an override, without release advice', () => {
    const message = parseError(props({ numbers: [n0], schema: 'latest' })).message;
    expect(message).toMatch(/^SchemaVersion "latest" is not a version any release of cdk-chime-voice-connector-groups renders \(this handler reads SchemaVersion 1\); an escape-hatch override/);
    expect(message).not.toContain('npm ls');
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
    expect(parseError(props({ numbers: [n0], peers: ['nope'] })).message).toContain(
      'PeerPhoneNumbers (the phoneNumbers of this stack\'s other constructs on the same group, which the construct renders) contains "nope"',
    );
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
    expect(() => parseRequest(updateEvent(props({ numbers: [] }), props({ numbers: [n0] }), 'id'))).toThrow(/resolved to an empty list/);
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
