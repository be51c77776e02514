import { CfnParameter, CfnResource, Fn, Stack, Token } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { VoiceConnectorGroupPhoneNumbers, VoiceConnectorGroupPhoneNumbersProps } from '../src';
import { BATCH_SIZE_CONTEXT, HANDLER_ACTIONS, PhoneNumbersProvider } from '../src/phone-numbers-provider';
import { RenderedResource, newStack, resourcesOfType, errorOf } from './fixtures/construct-fixtures';

const RESOURCE_TYPE = 'Custom::VoiceConnectorGroupPhoneNumbers';
const E164_RULE = '^\\+?[1-9]\\d{1,14}$';

/** Logical ids of the provider's resources. They are part of every binding's service token: a change replaces the provider. */
const HANDLER_ID = 'VoiceConnectorGroupPhoneNumbersProviderHandlerB5ADC578';
const HANDLER_ROLE_ID = 'VoiceConnectorGroupPhoneNumbersProviderHandlerRoleBFFF4FAE';
const HANDLER_LOGS_ID = 'VoiceConnectorGroupPhoneNumbersProviderHandlerLogsD056806B';
const FRAMEWORK_ID = 'VoiceConnectorGroupPhoneNumbersProviderframeworkonEvent55F1C9F8';
const FRAMEWORK_ROLE_ID = 'VoiceConnectorGroupPhoneNumbersProviderFrameworkRole6E3F8237';
const FRAMEWORK_LOGS_ID = 'VoiceConnectorGroupPhoneNumbersProviderFrameworkLogs62D6C91E';
const COMPLETION_ROLE_ID = 'VoiceConnectorGroupPhoneNumbersProviderCompletionRoleDB61A857';
const WAITER_ROLE_ID = 'VoiceConnectorGroupPhoneNumbersProviderwaiterstatemachineRoleCBDA1EC9';
const WAITER_LOGS_ID = 'VoiceConnectorGroupPhoneNumbersProviderWaiterLogs7203DF77';
const IS_COMPLETE_ID = 'VoiceConnectorGroupPhoneNumbersProviderframeworkisComplete1D2F4049';
const WAITER_ID = 'VoiceConnectorGroupPhoneNumbersProviderwaiterstatemachine167C8A74';
const ON_TIMEOUT_ID = 'VoiceConnectorGroupPhoneNumbersProviderframeworkonTimeout7D5E2A03';
const SERVICE_TOKEN = { 'Fn::GetAtt': [FRAMEWORK_ID, 'Arn'] };

/** Every action the handler calls, written out so that a change to HANDLER_ACTIONS has to change this test too. */
const EXPECTED_ACTIONS = [
  'chime:AssociatePhoneNumbersWithVoiceConnectorGroup',
  'chime:DisassociatePhoneNumbersFromVoiceConnectorGroup',
  'chime:AssociatePhoneNumbersWithVoiceConnector',
  'chime:GetPhoneNumber',
  'chime:ListPhoneNumbers',
];

function bind(scope: Construct, id: string, props: VoiceConnectorGroupPhoneNumbersProps): VoiceConnectorGroupPhoneNumbers {
  return new VoiceConnectorGroupPhoneNumbers(scope, id, props);
}

function functions(template: Template): Record<string, RenderedResource> {
  return resourcesOfType(template, 'AWS::Lambda::Function');
}

function handlerFunctions(template: Template): Array<[string, RenderedResource]> {
  return Object.entries(functions(template)).filter(([, r]) => r.Properties.Handler === 'index.handler');
}

function frameworkFunctions(template: Template): Array<[string, RenderedResource]> {
  return Object.entries(functions(template)).filter(([, r]) => r.Properties.Handler === 'framework.onEvent');
}

/** Statements of every AWS::IAM::Policy attached to the role with logical id `roleId`. */
function statementsOfRole(template: Template, roleId: string): any[] {
  return Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
    .filter((p) => (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })))
    .flatMap((p) => p.Properties.PolicyDocument.Statement);
}

/** Every entry of every binding resource. */
function entries(template: Template): any[] {
  return Object.values(resourcesOfType(template, RESOURCE_TYPE)).flatMap((r) => r.Properties.Bindings);
}

/** The entry that renders a literal number. */
function entryOf(template: Template, number: string): any {
  return entries(template).find((e) => Array.isArray(e.E164PhoneNumbers) && e.E164PhoneNumbers.includes(number));
}

function actionsOf(statement: any): string[] {
  return ([] as string[]).concat(statement.Action);
}

describe('handler, roles and logs', () => {
  let template: Template;
  beforeAll(() => {
    const { stack } = newStack();
    bind(stack, 'Bindings', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] });
    template = Template.fromStack(stack);
  });

  test('HANDLER_ACTIONS is exactly the expected list of chime actions', () => {
    expect([...HANDLER_ACTIONS]).toStrictEqual(EXPECTED_ACTIONS);
  });

  test('the handler role grants exactly HANDLER_ACTIONS on "*", log writes on its own log group, and reads of its own stack and waiter', () => {
    const statements = statementsOfRole(template, HANDLER_ROLE_ID);
    expect(statements).toHaveLength(5);

    const chime = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('chime:')));
    expect(chime).toHaveLength(1);
    expect(chime[0]).toStrictEqual({ Effect: 'Allow', Action: [...HANDLER_ACTIONS], Resource: '*' });
    expect(actionsOf(chime[0])).toStrictEqual(EXPECTED_ACTIONS);

    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: { 'Fn::GetAtt': [HANDLER_LOGS_ID, 'Arn'] },
    });
    // To tell a rollback from a deploy, and a replaced physical id from a removed resource: its own stack only.
    expect(statements).toContainEqual({
      Effect: 'Allow',
      Action: ['cloudformation:DescribeStacks', 'cloudformation:DescribeStackResource'],
      Resource: { Ref: 'AWS::StackId' },
    });
    // To answer a repeated delivery as the first one, and to wait for a completion check still running: its own waiter only.
    expect(statements).toContainEqual({ Effect: 'Allow', Action: 'states:ListExecutions', Resource: { Ref: WAITER_ID } });
    const describe = statements.find((s) => s.Action === 'states:DescribeExecution');
    expect(JSON.stringify(describe.Resource)).toContain(WAITER_ID);
    expect(JSON.stringify(describe.Resource)).toContain(':execution:');
  });

  test('the handler learns its waiter\'s logical id from its environment, a plain string (its ARN would be a dependency cycle)', () => {
    expect(functions(template)[HANDLER_ID].Properties.Environment).toStrictEqual({ Variables: { WAITER_LOGICAL_ID: WAITER_ID } });
  });

  test('no statement anywhere grants a wildcard action or a chime action outside HANDLER_ACTIONS', () => {
    const all = Object.values(resourcesOfType(template, 'AWS::IAM::Policy')).flatMap((p) => p.Properties.PolicyDocument.Statement);
    const actions = all.flatMap(actionsOf);
    expect(actions.filter((a) => a.includes('*'))).toStrictEqual([]);
    expect(actions.filter((a) => a.startsWith('chime:')).sort()).toStrictEqual([...EXPECTED_ACTIONS].sort());
  });

  test('no role (handler, framework, completion, waiter) carries managed policies or inline Policies', () => {
    const roles = resourcesOfType(template, 'AWS::IAM::Role');
    expect(Object.keys(roles).sort()).toStrictEqual([FRAMEWORK_ROLE_ID, HANDLER_ROLE_ID, COMPLETION_ROLE_ID, WAITER_ROLE_ID].sort());
    for (const [id, role] of Object.entries(roles)) {
      expect(role.Properties).not.toHaveProperty('ManagedPolicyArns');
      expect(role.Properties).not.toHaveProperty('Policies');
      expect(role.Properties.AssumeRolePolicyDocument.Statement).toStrictEqual([
        { Action: 'sts:AssumeRole', Effect: 'Allow', Principal: { Service: id === WAITER_ROLE_ID ? 'states.amazonaws.com' : 'lambda.amazonaws.com' } },
      ]);
    }
    expect(functions(template)[IS_COMPLETE_ID].Properties.Role).toStrictEqual({ 'Fn::GetAtt': [COMPLETION_ROLE_ID, 'Arn'] });
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    expect(functions(template)[HANDLER_ID].Properties.Role).toStrictEqual({ 'Fn::GetAtt': [HANDLER_ROLE_ID, 'Arn'] });
    expect(functions(template)[FRAMEWORK_ID].Properties.Role).toStrictEqual({ 'Fn::GetAtt': [FRAMEWORK_ROLE_ID, 'Arn'] });
  });

  test('the framework role may invoke the handler, start the completion waiter and write its own logs, nothing else', () => {
    const statements = statementsOfRole(template, FRAMEWORK_ROLE_ID);
    expect(statements.flatMap(actionsOf).sort()).toStrictEqual([
      'lambda:GetFunction', 'lambda:InvokeFunction', 'logs:CreateLogStream', 'logs:PutLogEvents', 'states:StartExecution',
    ]);
    const logs = statements.find((s) => actionsOf(s).includes('logs:PutLogEvents'));
    expect(logs.Resource).toStrictEqual({ 'Fn::GetAtt': [FRAMEWORK_LOGS_ID, 'Arn'] });
  });

  test('three log groups with one-year retention: handler, framework functions, completion waiter', () => {
    const logGroups = resourcesOfType(template, 'AWS::Logs::LogGroup');
    expect(Object.keys(logGroups).sort()).toStrictEqual([FRAMEWORK_LOGS_ID, HANDLER_LOGS_ID, WAITER_LOGS_ID].sort());
    for (const logGroup of Object.values(logGroups)) {
      expect(logGroup.Properties.RetentionInDays).toBe(365);
    }
    expect(functions(template)[HANDLER_ID].Properties.LoggingConfig).toStrictEqual({ LogGroup: { Ref: HANDLER_LOGS_ID } });
    // Pinned, so that every aws-cdk-lib release renders the same (the default moved from text at every level to FATAL).
    expect(functions(template)[FRAMEWORK_ID].Properties.LoggingConfig)
      .toStrictEqual({ LogGroup: { Ref: FRAMEWORK_LOGS_ID }, LogFormat: 'JSON', ApplicationLogLevel: 'ERROR' });
  });

  test('handler function: nodejs24.x, arm64, 256 MB, 10 minutes, index.handler', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 600,
    });
    const handler = functions(template)[HANDLER_ID];
    expect(handler.Properties.Handler).toBe('index.handler');
    expect(handler.Properties.Runtime).toBe('nodejs24.x');
    expect(handler.Properties.Timeout).toBeLessThanOrEqual(900);
  });

  test('the framework function calls the handler', () => {
    expect(functions(template)[FRAMEWORK_ID].Properties.Environment.Variables.USER_ON_EVENT_FUNCTION_ARN)
      .toStrictEqual({ 'Fn::GetAtt': [HANDLER_ID, 'Arn'] });
  });
});

describe('one provider per stack', () => {
  test('bindings in one stack share one handler, one framework function and one service token', () => {
    const { stack } = newStack();
    bind(stack, 'One', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] });
    bind(new Construct(stack, 'Deep'), 'Two', { voiceConnectorGroupId: 'vcg-2', phoneNumbers: ['+12065550101'] });
    bind(stack, 'Three', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550102'], forceAssociate: true });
    const template = Template.fromStack(stack);

    template.resourceCountIs('AWS::Lambda::Function', 4);
    expect(handlerFunctions(template).map(([id]) => id)).toStrictEqual([HANDLER_ID]);
    expect(frameworkFunctions(template).map(([id]) => id)).toStrictEqual([FRAMEWORK_ID]);
    const shards = Object.values(resourcesOfType(template, RESOURCE_TYPE));
    expect(shards.length).toBeGreaterThan(0);
    for (const shard of shards) expect(shard.Properties.ServiceToken).toStrictEqual(SERVICE_TOKEN);
  });

  test('the provider lives at <Stack>/VoiceConnectorGroupPhoneNumbersProvider, whatever scope the first binding is in', () => {
    const { stack } = newStack(undefined, 'PathStack');
    bind(new Construct(new Construct(stack, 'Outer'), 'Inner'), 'Bindings', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] });

    expect(PhoneNumbersProvider.ID).toBe('VoiceConnectorGroupPhoneNumbersProvider');
    const provider = stack.node.tryFindChild('VoiceConnectorGroupPhoneNumbersProvider');
    expect(provider).toBeInstanceOf(PhoneNumbersProvider);
    expect(provider!.node.path).toBe('PathStack/VoiceConnectorGroupPhoneNumbersProvider');
    expect(stack.node.findAll().filter((c) => c instanceof PhoneNumbersProvider)).toHaveLength(1);

    const template = Template.fromStack(stack);
    expect(Object.keys(functions(template)).sort()).toStrictEqual([FRAMEWORK_ID, HANDLER_ID, IS_COMPLETE_ID, ON_TIMEOUT_ID].sort());
  });

  test('two stacks each get their own handler and framework function, referenced only within the stack', () => {
    const { app, stack } = newStack(undefined, 'StackA');
    const stackB = new Stack(app, 'StackB');
    bind(stack, 'One', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] });
    bind(stack, 'Two', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550101'] });
    bind(stackB, 'One', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550102'] });

    for (const s of [stack, stackB]) {
      const template = Template.fromStack(s);
      expect(handlerFunctions(template).map(([id]) => id)).toStrictEqual([HANDLER_ID]);
      expect(frameworkFunctions(template).map(([id]) => id)).toStrictEqual([FRAMEWORK_ID]);
      for (const shard of Object.values(resourcesOfType(template, RESOURCE_TYPE))) expect(shard.Properties.ServiceToken).toStrictEqual(SERVICE_TOKEN);
      expect(JSON.stringify(template.toJSON())).not.toMatch(/Fn::ImportValue/);
    }
    expect(stack.node.tryFindChild(PhoneNumbersProvider.ID)).not.toBe(stackB.node.tryFindChild(PhoneNumbersProvider.ID));
  });
});

describe('synth-time validation', () => {
  test('an empty phoneNumbers list is an error naming the construct path and the rule', () => {
    const { stack } = newStack();
    const message = errorOf(() => bind(new Construct(stack, 'Team'), 'Bindings', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: [] }));
    expect(message).toContain('TestStack/Team/Bindings');
    expect(message).toContain('phoneNumbers is empty');
    expect(message).toContain('at least one number is required');
  });

  test.each(['', ' ', '   ', '\t\n'])('voiceConnectorGroupId %p is an error naming the path, the value and the rule', (groupId) => {
    const { stack } = newStack();
    const message = errorOf(() => bind(stack, 'Bindings', { voiceConnectorGroupId: groupId, phoneNumbers: ['+12065550100'] }));
    expect(message).toContain('TestStack/Bindings');
    expect(message).toContain(`voiceConnectorGroupId ${JSON.stringify(groupId)} is blank`);
  });

  test.each([
    ['missing digits', '+1'],
    ['leading zero', '+0123'],
    ['letters', '+1206555O100'],
    ['letters only', 'phone'],
    ['spaces', '+1 206 555 0100'],
    ['surrounding whitespace', ' +12065550100'],
    ['dashes', '+1-206-555-0100'],
    ['parentheses', '+1(206)5550100'],
    ['too long (16 digits)', '+1234567890123456'],
    ['double plus', '++12065550100'],
    ['empty string', ''],
    ['plus only', '+'],
  ])('%s (%p) is an error naming the path, index, value and E.164 rule', (_name, bad) => {
    const { stack } = newStack();
    const message = errorOf(() => bind(stack, 'Bindings', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100', bad] }));
    expect(message).toContain('TestStack/Bindings');
    expect(message).toContain(`phoneNumbers[1] ${JSON.stringify(bad)} is not an E.164 number`);
    expect(message).toContain(E164_RULE);
  });

  test.each([
    ['shortest valid (2 digits)', '+12', '+12'],
    ['longest valid (15 digits)', '+123456789012345', '+123456789012345'],
    ['15 digits without +', '123456789012345', '+123456789012345'],
  ])('%s %p is accepted and rendered as %p', (_name, value, rendered) => {
    const { stack } = newStack();
    bind(stack, 'Bindings', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: [value] });
    expect(entries(Template.fromStack(stack)).flatMap((e) => e.E164PhoneNumbers)).toStrictEqual([rendered]);
  });

  test.each([
    ['with and without +', ['+12065550100', '12065550100']],
    ['without and with +', ['12065550100', '+14155550100', '+12065550100']],
    ['repeated verbatim', ['+12065550100', '+12065550100']],
  ])('duplicates after normalisation (%s) are an error naming the path, the number and both spellings', (_name, numbers) => {
    const { stack } = newStack();
    const message = errorOf(() => bind(stack, 'Bindings', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: numbers }));
    expect(message).toContain('TestStack/Bindings');
    expect(message).toContain('lists +12065550100 twice');
    const spellings = numbers.filter((n) => n.endsWith('2065550100'));
    expect(message).toContain(`(${JSON.stringify(spellings[0])} and ${JSON.stringify(spellings[1])})`);
    expect(message).toContain('Remove the duplicate');
  });

  describe('tokens pass through unvalidated', () => {
    test('a group id from Token.asString and from a CfnResource attribute', () => {
      const { stack } = newStack();
      const group = new CfnResource(stack, 'Group', { type: 'Custom::VoiceConnectorGroup' });
      const fromAttr = bind(stack, 'FromAttr', { voiceConnectorGroupId: group.getAtt('Id').toString(), phoneNumbers: ['+12065550100'] });
      const fromAsString = bind(stack, 'FromAsString', { voiceConnectorGroupId: Token.asString(Fn.importValue('shared-group-id')), phoneNumbers: ['+12065550101'] });
      const template = Template.fromStack(stack);
      expect(entryOf(template, fromAttr.phoneNumbers[0]).VoiceConnectorGroupId).toStrictEqual({ 'Fn::GetAtt': [stack.getLogicalId(group), 'Id'] });
      expect(entryOf(template, fromAsString.phoneNumbers[0]).VoiceConnectorGroupId).toStrictEqual({ 'Fn::ImportValue': 'shared-group-id' });
    });

    test('a token list from Token.asList and from Fn.split', () => {
      const { stack } = newStack();
      const source = new CfnResource(stack, 'Numbers', { type: 'Custom::NumberSource' });
      const param = new CfnParameter(stack, 'NumberCsv', { type: 'String' });
      bind(stack, 'AsList', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: Token.asList(source.getAtt('Numbers')) });
      bind(stack, 'Split', { voiceConnectorGroupId: 'vcg-2', phoneNumbers: Fn.split(',', param.valueAsString) });
      const template = Template.fromStack(stack);
      // Every shard gets each token list whole, and keeps its own part of it at deploy time.
      const lists = entries(template).map((e) => JSON.stringify(e.E164PhoneNumbers));
      expect(lists.filter((l) => l === JSON.stringify({ 'Fn::GetAtt': [stack.getLogicalId(source), 'Numbers'] }))).toHaveLength(64);
      expect(lists.filter((l) => l === JSON.stringify({ 'Fn::Split': [',', { Ref: 'NumberCsv' }] }))).toHaveLength(64);
    });

    test('a token element in a literal list is kept as is while its literal neighbours are still normalised', () => {
      const { stack } = newStack();
      const param = new CfnParameter(stack, 'Extra', { type: 'String' });
      bind(stack, 'Mixed', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['12065550100', param.valueAsString] });
      expect(entries(Template.fromStack(stack))[0].E164PhoneNumbers).toStrictEqual(['+12065550100', { Ref: 'Extra' }]);
    });

    test('literal neighbours of a token element are still validated', () => {
      const { stack } = newStack();
      const param = new CfnParameter(stack, 'Extra', { type: 'String' });
      const message = errorOf(() => bind(stack, 'Mixed', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: [param.valueAsString, '+0123'] }));
      expect(message).toContain('phoneNumbers[1] "+0123" is not an E.164 number');
    });
  });
});

describe('app-wide conflicts', () => {
  test('the same number in two constructs of one stack is an error naming both paths', () => {
    const { stack } = newStack();
    bind(stack, 'First', { voiceConnectorGroupId: 'g1', phoneNumbers: ['+12065550100'] });
    const message = errorOf(() => bind(stack, 'Second', { voiceConnectorGroupId: 'g2', phoneNumbers: ['12065550100'] }));
    expect(message).toContain('TestStack/Second');
    expect(message).toContain('TestStack/First');
    expect(message).toContain('+12065550100');
  });

  test('the same number in two stacks of one app is an error, whatever the group', () => {
    const { app, stack } = newStack();
    const other = new Stack(app, 'OtherStack');
    bind(stack, 'First', { voiceConnectorGroupId: 'g1', phoneNumbers: ['+12065550100', '+12065550101'] });
    const message = errorOf(() => bind(other, 'Second', { voiceConnectorGroupId: 'g1', phoneNumbers: ['+12065550101'] }));
    expect(message).toMatch(/OtherStack\/Second: phone number \+12065550101 is already declared by TestStack\/First/);
  });

  test('the same number in two separate apps is fine', () => {
    const first = newStack();
    const second = newStack();
    bind(first.stack, 'Numbers', { voiceConnectorGroupId: 'g1', phoneNumbers: ['+12065550100'] });
    expect(() => bind(second.stack, 'Numbers', { voiceConnectorGroupId: 'g1', phoneNumbers: ['+12065550100'] })).not.toThrow();
  });
});

describe(`context ${BATCH_SIZE_CONTEXT}`, () => {
  test('the key is cdk-chime-voice-connector-groups:batchSize', () => {
    expect(BATCH_SIZE_CONTEXT).toBe('cdk-chime-voice-connector-groups:batchSize');
  });

  test.each([
    [25, '25'],
    ['25', '25'],
    [1, '1'],
    [100, '100'],
    ['100', '100'],
  ])('%p sets BATCH_SIZE=%p on the handler only', (value, expected) => {
    const { stack } = newStack({ 'cdk-chime-voice-connector-groups:batchSize': value });
    bind(stack, 'Bindings', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] });
    const template = Template.fromStack(stack);
    expect(functions(template)[HANDLER_ID].Properties.Environment.Variables).toStrictEqual({ BATCH_SIZE: expected, WAITER_LOGICAL_ID: WAITER_ID });
    expect(functions(template)[FRAMEWORK_ID].Properties.Environment.Variables).not.toHaveProperty('BATCH_SIZE');
  });

  test('context set on the stack instead of the app also applies', () => {
    const { stack } = newStack();
    stack.node.setContext(BATCH_SIZE_CONTEXT, 7);
    bind(stack, 'Bindings', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] });
    expect(functions(Template.fromStack(stack))[HANDLER_ID].Properties.Environment.Variables).toMatchObject({ BATCH_SIZE: '7' });
  });

  test.each([0, 101, -5, 2.5, 'abc', '', '2.5', '0x10', '1e1', true, false, null, [5]])('%p is a synth error naming the key, the value and the rule', (value) => {
    const { stack } = newStack({ [BATCH_SIZE_CONTEXT]: value });
    const message = errorOf(() => bind(stack, 'Bindings', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] }));
    expect(message).toContain(`${BATCH_SIZE_CONTEXT}=${JSON.stringify(value)}`);
    expect(message).toContain('must be an integer from 1 to 100');
  });
});

describe('public attributes', () => {
  test('voiceConnectorGroupId is the given id and phoneNumbers the normalised numbers in declared order', () => {
    const { stack } = newStack();
    const input = ['14155550100', '+12065550100'];
    const binding = bind(stack, 'Bindings', { voiceConnectorGroupId: 'vcg-abc123', phoneNumbers: input });
    expect(binding.voiceConnectorGroupId).toBe('vcg-abc123');
    expect(binding.phoneNumbers).toStrictEqual(['+14155550100', '+12065550100']);
    // The caller's array is neither normalised in place nor shared.
    expect(input).toStrictEqual(['14155550100', '+12065550100']);
    input.push('+13125550100');
    expect(binding.phoneNumbers).toHaveLength(2);
    const rendered = Object.values(resourcesOfType(Template.fromStack(stack), RESOURCE_TYPE))
      .flatMap((r) => r.Properties.Bindings.flatMap((e: any) => e.E164PhoneNumbers)).sort();
    expect(rendered).toStrictEqual(['+12065550100', '+14155550100']);
  });

  test('token props are exposed unchanged and resolve to the rendered values', () => {
    const { stack } = newStack();
    const group = new CfnResource(stack, 'Group', { type: 'Custom::VoiceConnectorGroup' });
    const groupId = group.getAtt('Id').toString();
    const numbers = Token.asList(group.getAtt('Numbers'));
    const binding = bind(stack, 'Bindings', { voiceConnectorGroupId: groupId, phoneNumbers: numbers });
    expect(binding.voiceConnectorGroupId).toBe(groupId);
    expect(binding.phoneNumbers).toBe(numbers);
    expect(stack.resolve(binding.voiceConnectorGroupId)).toStrictEqual({ 'Fn::GetAtt': [stack.getLogicalId(group), 'Id'] });
  });
});
