/**
 * The stack's binding resources: a number's owner is the resource of its shard, whose logical id depends
 * on the stack and the number only.
 */
import { App, CfnParameter, CfnResource, Fn, NestedStack, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { ReconcileMode, VoiceConnectorGroupPhoneNumbers, VoiceConnectorGroupPhoneNumbersProps } from '../src';
import { errorOf, newStack } from './fixtures/construct-fixtures';
import { BINDING_RESOURCE_TYPE, SHARD_COUNT, shardLogicalId, shardOf } from '../src/binding-properties';
import { MAX_NUMBERS_PER_STACK } from '../src/phone-number-bindings';

function bind(scope: Construct, id: string, props: VoiceConnectorGroupPhoneNumbersProps): VoiceConnectorGroupPhoneNumbers {
  return new VoiceConnectorGroupPhoneNumbers(scope, id, props);
}

function shards(stack: Stack): Record<string, any> {
  return Template.fromStack(stack).findResources(BINDING_RESOURCE_TYPE);
}

/** Number -> [logical id of its resource, its entry], over the whole template. */
function owners(stack: Stack): Map<string, { logicalId: string; entry: Record<string, unknown> }> {
  const found = new Map<string, { logicalId: string; entry: Record<string, unknown> }>();
  for (const [logicalId, resource] of Object.entries(shards(stack))) {
    for (const entry of resource.Properties.Bindings) {
      for (const number of entry.E164PhoneNumbers) {
        if (found.has(number)) throw new Error(`${number} has two owners`);
        found.set(number, { logicalId, entry });
      }
    }
  }
  return found;
}

const NUMBERS = Array.from({ length: 40 }, (_, i) => `+1206555${String(2000 + i)}`);

describe('ownership', () => {
  test('each number is owned by exactly one resource, the one of its shard, under a fixed logical id', () => {
    const { stack } = newStack();
    bind(stack, 'Support', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: NUMBERS.slice(0, 20) });
    bind(new Construct(stack, 'Team'), 'Sales', { voiceConnectorGroupId: 'vcg-2', phoneNumbers: NUMBERS.slice(20) });
    const found = owners(stack);
    expect(found.size).toBe(40);
    for (const n of NUMBERS) expect(found.get(n)!.logicalId).toBe(shardLogicalId(shardOf(n)));
    // Only shards that hold numbers are rendered.
    expect(Object.keys(shards(stack)).sort()).toEqual([...new Set(NUMBERS.map((n) => shardLogicalId(shardOf(n))))].sort());
  });

  test('the shard of a number is fixed: SHA-256 of its + form, modulo 64 (changing either moves numbers between owners)', () => {
    expect(SHARD_COUNT).toBe(64);
    expect(shardOf('+12065550100')).toBe(shardOf('12065550100'));
    // Pinned values: a change to the hash or the count fails here before it reaches a user's stack.
    expect(['+12065550100', '+442071838750', '+13125550100', '+819012345678'].map(shardOf)).toEqual([14, 19, 21, 29]);
    expect(shardLogicalId(7)).toBe('VoiceConnectorGroupPhoneNumberBindings07');
  });

  test('renaming a construct, moving it under another parent, splitting or merging constructs changes no logical id and no property', () => {
    const render = (declare: (stack: Stack) => void) => {
      const { stack } = newStack();
      declare(stack);
      return JSON.stringify(Template.fromStack(stack).findResources(BINDING_RESOURCE_TYPE));
    };
    const original = render((s) => bind(s, 'Support', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: NUMBERS }));
    expect(render((s) => bind(s, 'Helpdesk', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: NUMBERS }))).toBe(original);
    expect(render((s) => bind(new Construct(s, 'Platform'), 'Support', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: NUMBERS }))).toBe(original);
    expect(render((s) => {
      bind(s, 'A', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: NUMBERS.slice(0, 13) });
      bind(s, 'B', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: NUMBERS.slice(13) });
    })).toBe(original);
  });

  test('a move between groups changes one property of one resource per number', () => {
    const { stack } = newStack();
    bind(stack, 'Support', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: NUMBERS.slice(0, 20) });
    bind(stack, 'Sales', { voiceConnectorGroupId: 'vcg-2', phoneNumbers: NUMBERS.slice(20) });
    const before = owners(stack);
    const { stack: after } = newStack();
    bind(after, 'Support', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: NUMBERS.slice(0, 19) });
    bind(after, 'Sales', { voiceConnectorGroupId: 'vcg-2', phoneNumbers: [NUMBERS[19], ...NUMBERS.slice(20)] });
    const moved = owners(after);
    expect(moved.get(NUMBERS[19])!.logicalId).toBe(before.get(NUMBERS[19])!.logicalId);
    expect(moved.get(NUMBERS[19])!.entry.VoiceConnectorGroupId).toBe('vcg-2');
  });
});

describe('properties', () => {
  test('entries group numbers by group and options, sorted; options appear only when set', () => {
    const { stack } = newStack();
    const pick = NUMBERS.filter((n) => shardOf(n) === shardOf(NUMBERS[0]));
    bind(stack, 'Plain', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: [NUMBERS[0]] });
    const resource = shards(stack)[shardLogicalId(shardOf(NUMBERS[0]))];
    expect(resource.Properties).toEqual({
      ServiceToken: expect.anything(),
      ServiceTimeout: '3600',
      SchemaVersion: '2',
      Shard: String(shardOf(NUMBERS[0])),
      Bindings: [{ VoiceConnectorGroupId: 'vcg-1', E164PhoneNumbers: [NUMBERS[0]] }],
    });
    expect(resource.DeletionPolicy).toBe('Delete');
    expect(pick.length).toBeGreaterThanOrEqual(1);
  });

  test('forceAssociate, RETAIN and EVERY_DEPLOY travel with each number; a nonce only in shards with an every-deploy number', () => {
    const { stack } = newStack();
    bind(stack, 'Forced', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: NUMBERS.slice(0, 3), forceAssociate: true });
    bind(stack, 'Kept', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: NUMBERS.slice(3, 6), removalPolicy: RemovalPolicy.RETAIN });
    bind(stack, 'Repaired', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: NUMBERS.slice(6, 9), reconcile: ReconcileMode.EVERY_DEPLOY });
    const found = owners(stack);
    for (const n of NUMBERS.slice(0, 3)) expect(found.get(n)!.entry).toMatchObject({ ForceAssociate: 'true' });
    for (const n of NUMBERS.slice(3, 6)) expect(found.get(n)!.entry).toMatchObject({ Retain: 'true' });
    for (const n of NUMBERS.slice(6, 9)) expect(found.get(n)!.entry).toMatchObject({ Reconcile: 'EVERY_DEPLOY' });
    const withNonce = Object.entries(shards(stack)).filter(([, r]) => r.Properties.DeployNonce).map(([id]) => id).sort();
    expect(withNonce).toEqual([...new Set(NUMBERS.slice(6, 9).map((n) => shardLogicalId(shardOf(n))))].sort());
  });

  test('a token list of numbers goes whole into every one of the 64 shards, marked to be filtered by shard at deploy time', () => {
    const { stack } = newStack();
    const list = new CfnParameter(stack, 'Numbers', { type: 'CommaDelimitedList' });
    bind(stack, 'FromParameter', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: list.valueAsList });
    const all = shards(stack);
    expect(Object.keys(all)).toHaveLength(64);
    for (const resource of Object.values(all)) {
      expect(resource.Properties.Bindings).toEqual([{ VoiceConnectorGroupId: 'vcg-1', E164PhoneNumbers: { Ref: 'Numbers' }, ShardFiltered: 'true' }]);
    }
  });

  test('an exclusive group: every shard renders, and each names the group in ExclusiveGroups', () => {
    const { stack } = newStack();
    bind(stack, 'Only', { voiceConnectorGroupId: 'vcg-x', phoneNumbers: NUMBERS.slice(0, 2), exclusive: true });
    const all = shards(stack);
    expect(Object.keys(all)).toHaveLength(64);
    for (const resource of Object.values(all)) expect(resource.Properties.ExclusiveGroups).toEqual(['vcg-x']);
  });

  test('group ids as tokens render as intrinsics; no token string leaks into the template', () => {
    const { stack } = newStack();
    const group = new CfnResource(stack, 'Group', { type: 'Custom::VoiceConnectorGroup' });
    bind(stack, 'A', { voiceConnectorGroupId: group.getAtt('VoiceConnectorGroupId').toString(), phoneNumbers: [NUMBERS[0]] });
    bind(stack, 'B', { voiceConnectorGroupId: Fn.getAtt(group.logicalId, 'VoiceConnectorGroupId').toString(), phoneNumbers: [NUMBERS[1]] });
    const text = JSON.stringify(Template.fromStack(stack).toJSON());
    expect(text).not.toMatch(/\$\{Token\[/);
    expect(owners(stack).get(NUMBERS[0])!.entry.VoiceConnectorGroupId).toEqual({ 'Fn::GetAtt': [stack.getLogicalId(group), 'VoiceConnectorGroupId'] });
  });

  test('a stack of 20,000 numbers renders 64 shards of about 310 numbers, under 1 MB', () => {
    const { stack } = newStack();
    const many = Array.from({ length: 20_000 }, (_, i) => `+1312${String(5_000_000 + i)}`);
    for (let i = 0; i < 40; i++) {
      bind(stack, `C${i}`, { voiceConnectorGroupId: `vcg-${i % 4}`, phoneNumbers: many.slice(i * 500, (i + 1) * 500) });
    }
    const template = Template.fromStack(stack).toJSON();
    const all = Object.values<any>(template.Resources).filter((r) => r.Type === BINDING_RESOURCE_TYPE);
    expect(all).toHaveLength(64);
    const sizes = all.map((r) => r.Properties.Bindings.reduce((sum: number, e: any) => sum + e.E164PhoneNumbers.length, 0));
    expect(Math.max(...sizes)).toBeLessThan(400);
    expect(Buffer.byteLength(JSON.stringify(template))).toBeLessThan(1_048_576);
  });
});

describe('limits', () => {
  test(`more than ${MAX_NUMBERS_PER_STACK} numbers in a stack is a synth error naming the limit and the fix`, () => {
    const { app, stack } = newStack();
    const many = Array.from({ length: MAX_NUMBERS_PER_STACK + 1 }, (_, i) => `+1312${String(5_000_000 + i)}`);
    bind(stack, 'All', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: many });
    expect(errorOf(() => app.synth())).toMatch(/declares 20001 phone numbers; this library is proven up to 20000 per stack .* Split the numbers over more stacks/);
  });

  test('removalPolicy SNAPSHOT is an error naming the two policies that apply', () => {
    const { stack } = newStack();
    expect(errorOf(() => bind(stack, 'X', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: [NUMBERS[0]], removalPolicy: RemovalPolicy.SNAPSHOT })))
      .toMatch(/removalPolicy snapshot does not apply to phone-number bindings\. Use RemovalPolicy\.DESTROY .* or RemovalPolicy\.RETAIN/);
  });

  test('nested stacks are separate stacks: each gets its own shards and provider', () => {
    const app = new App();
    const parent = new Stack(app, 'Parent');
    bind(parent, 'A', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: [NUMBERS[0]] });
    const nested = new NestedStack(parent, 'Nested');
    bind(nested, 'B', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: [NUMBERS[1]] });
    expect(Object.keys(Template.fromStack(nested).findResources(BINDING_RESOURCE_TYPE))).toEqual([shardLogicalId(shardOf(NUMBERS[1]))]);
    expect(Object.keys(Template.fromStack(parent).findResources(BINDING_RESOURCE_TYPE))).toEqual([shardLogicalId(shardOf(NUMBERS[0]))]);
    // The nested stack's handler reads its root's status (a nested stack rolls back with its root).
    const statements = Object.values(Template.fromStack(nested).findResources('AWS::IAM::Policy'))
      .flatMap((p: any) => p.Properties.PolicyDocument.Statement as any[]);
    const describeRoot = statements.filter((st) => st.Action === 'cloudformation:DescribeStacks');
    expect(describeRoot.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(describeRoot)).toMatch(/referencetoParent.*AWSStackId|AWS::StackId/i);
  });
});
