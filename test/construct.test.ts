import { CfnParameter, CfnResource, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Construct } from 'constructs';
import { VoiceConnectorGroupPhoneNumbers, VoiceConnectorGroupPhoneNumbersProps } from '../src';
import { BATCH_SIZE_CONTEXT, HANDLER_ACTIONS, PhoneNumbersProvider } from '../src/phone-numbers-provider';
import { RenderedResource, bindingLogicalId, bindingResource, newStack, resourcesOfType, errorOf } from './fixtures/construct-fixtures';

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

function actionsOf(statement: any): string[] {
  return ([] as string[]).concat(statement.Action);
}

describe('binding resource', () => {
  test('renders Custom::VoiceConnectorGroupPhoneNumbers with exactly the contract properties, numbers normalised to +E.164', () => {
    const { stack } = newStack();
    const binding = bind(stack, 'Bindings', {
      voiceConnectorGroupId: 'vcg-abc123',
      phoneNumbers: ['+12065550100', '12065550101', '442071838750'],
    });
    const template = Template.fromStack(stack);

    template.resourceCountIs(RESOURCE_TYPE, 1);
    const resource = bindingResource(template, binding);
    expect(resource.Type).toBe(RESOURCE_TYPE);
    expect(resource.Properties).toStrictEqual({
      ServiceToken: SERVICE_TOKEN,
      SchemaVersion: '1',
      VoiceConnectorGroupId: 'vcg-abc123',
      E164PhoneNumbers: ['+12065550100', '+12065550101', '+442071838750'],
      ForceAssociate: false,
    });
  });

  test.each([
    [undefined, false],
    [false, false],
    [true, true],
  ])('forceAssociate %p renders ForceAssociate %p', (forceAssociate, expected) => {
    const { stack } = newStack();
    const binding = bind(stack, 'Bindings', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'], forceAssociate });
    expect(bindingResource(Template.fromStack(stack), binding).Properties.ForceAssociate).toBe(expected);
  });

  describe('PeerPhoneNumbers', () => {
    /** The list a binding's PeerPhoneNumbers resolves to at deploy time (CloudFormation resolves the Fn::FindInMap). */
    function peersOf(template: Template, binding: VoiceConnectorGroupPhoneNumbers): string[] | undefined {
      const ref = bindingResource(template, binding).Properties.PeerPhoneNumbers;
      if (ref === undefined) return undefined;
      const [mapping, key1, key2] = ref['Fn::FindInMap'];
      return (template.toJSON().Mappings[mapping][key1][key2] as string[]);
    }

    test('a lone binding has no PeerPhoneNumbers', () => {
      const { stack } = newStack();
      const binding = bind(stack, 'Only', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] });
      expect(bindingResource(Template.fromStack(stack), binding).Properties).not.toHaveProperty('PeerPhoneNumbers');
    });

    test('lists every number the stack declares for the group, normalised and sorted, once in a mapping; absent for a lone group', () => {
      const { stack } = newStack();
      const first = bind(stack, 'First', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+14155550100', '+12065550100'] });
      // Declared after `first`: the list is rendered at synth time, so order of declaration does not matter.
      const second = bind(stack, 'Second', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['13125550100'] });
      const nested = bind(new Construct(stack, 'Team'), 'Third', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+442071838750'] });
      const other = bind(stack, 'OtherGroup', { voiceConnectorGroupId: 'vcg-2', phoneNumbers: ['+17185550100'] });
      const template = Template.fromStack(stack);

      const all = ['+12065550100', '+13125550100', '+14155550100', '+442071838750'];
      for (const binding of [first, second, nested]) {
        expect(peersOf(template, binding)).toStrictEqual(all);
      }
      const [firstRef, secondRef] = [first, second].map((b) => bindingResource(template, b).Properties.PeerPhoneNumbers);
      expect(firstRef).toStrictEqual(secondRef);
      expect(Object.keys(template.toJSON().Mappings).filter((m) => m.startsWith('VoiceConnectorGroupPhoneNumbers'))).toHaveLength(1);
      expect(bindingResource(template, other).Properties).not.toHaveProperty('PeerPhoneNumbers');
    });

    test('the template grows with the numbers, not with constructs x numbers', () => {
      const { stack } = newStack();
      const bindings = Array.from({ length: 50 }, (_, i) => bind(stack, `B${i}`, {
        voiceConnectorGroupId: 'vcg-1',
        phoneNumbers: Array.from({ length: 20 }, (_unused, j) => `+1206${String(i * 20 + j).padStart(7, '0')}`),
      }));
      const template = Template.fromStack(stack);
      expect(peersOf(template, bindings[0])).toHaveLength(1000);
      const peerBytes = bindings.reduce((sum, b) => sum + JSON.stringify(bindingResource(template, b).Properties.PeerPhoneNumbers).length, 0);
      expect(peerBytes).toBeLessThan(100 * bindings.length);
      expect(JSON.stringify(template.toJSON()).length).toBeLessThan(120_000);
    });

    test('bindings of the same group id in different stacks are not peers', () => {
      const { app, stack } = newStack(undefined, 'StackA');
      const stackB = new Stack(app, 'StackB');
      const a = bind(stack, 'Bindings', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] });
      const b = bind(stackB, 'Bindings', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550101'] });
      expect(bindingResource(Template.fromStack(stack), a).Properties).not.toHaveProperty('PeerPhoneNumbers');
      expect(bindingResource(Template.fromStack(stackB), b).Properties).not.toHaveProperty('PeerPhoneNumbers');
    });

    test('a token group id from the same CfnResource attribute is the same group; another resource\'s attribute is not', () => {
      const { stack } = newStack();
      const group = new CfnResource(stack, 'Group', { type: 'Custom::VoiceConnectorGroup' });
      const otherGroup = new CfnResource(stack, 'OtherGroup', { type: 'Custom::VoiceConnectorGroup' });
      // Two separate getAtt() calls: different token strings that resolve to the same GetAtt.
      const a = bind(stack, 'A', { voiceConnectorGroupId: group.getAtt('VoiceConnectorGroupId').toString(), phoneNumbers: ['+12065550100'] });
      const b = bind(stack, 'B', { voiceConnectorGroupId: group.getAtt('VoiceConnectorGroupId').toString(), phoneNumbers: ['+12065550101'] });
      const c = bind(stack, 'C', { voiceConnectorGroupId: otherGroup.getAtt('VoiceConnectorGroupId').toString(), phoneNumbers: ['+12065550102'] });
      const literal = bind(stack, 'Literal', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550103'] });
      // A distinct token object (a different token string) that resolves to the same attribute of the same resource.
      const viaFn = Fn.getAtt(group.logicalId, 'VoiceConnectorGroupId').toString();
      expect(viaFn).not.toBe(a.voiceConnectorGroupId);
      const d = bind(stack, 'D', { voiceConnectorGroupId: viaFn, phoneNumbers: ['+12065550104'] });
      const template = Template.fromStack(stack);

      const groupLogicalId = stack.getLogicalId(group);
      expect(bindingResource(template, a).Properties.VoiceConnectorGroupId).toStrictEqual({ 'Fn::GetAtt': [groupLogicalId, 'VoiceConnectorGroupId'] });
      expect(bindingResource(template, d).Properties.VoiceConnectorGroupId).toStrictEqual({ 'Fn::GetAtt': [groupLogicalId, 'VoiceConnectorGroupId'] });
      for (const binding of [a, b, d]) {
        expect(peersOf(template, binding)).toStrictEqual(['+12065550100', '+12065550101', '+12065550104']);
      }
      expect(bindingResource(template, c).Properties).not.toHaveProperty('PeerPhoneNumbers');
      expect(bindingResource(template, literal).Properties).not.toHaveProperty('PeerPhoneNumbers');
    });

    test('a sibling with a token number list does not leak unresolved tokens into PeerPhoneNumbers', () => {
      const { stack } = newStack();
      const numbers = new CfnParameter(stack, 'Numbers', { type: 'CommaDelimitedList' });
      const literal = bind(stack, 'Literal', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] });
      const tokens = bind(stack, 'Tokens', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: numbers.valueAsList });
      const template = Template.fromStack(stack);

      expect(peersOf(template, tokens)).toStrictEqual(['+12065550100']);
      expect(bindingResource(template, tokens).Properties.E164PhoneNumbers).toStrictEqual({ Ref: 'Numbers' });
      expect(JSON.stringify(bindingResource(template, literal))).not.toMatch(/Token\[/);
    });
  });

  describe('removal policy', () => {
    test.each([
      ['default', 'Delete', undefined],
      ['DESTROY', 'Delete', RemovalPolicy.DESTROY],
      ['RETAIN', 'Retain', RemovalPolicy.RETAIN],
    ])('%s renders DeletionPolicy and UpdateReplacePolicy %s', (_name, expected, removalPolicy) => {
      const { stack } = newStack();
      const binding = bind(stack, 'Bindings', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'], removalPolicy });
      const resource = bindingResource(Template.fromStack(stack), binding);
      expect(resource.DeletionPolicy).toBe(expected);
      expect(resource.UpdateReplacePolicy).toBe(expected);
    });

    test('policies are per binding: RETAIN on one leaves its sibling at Delete', () => {
      const { stack } = newStack();
      const kept = bind(stack, 'Kept', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'], removalPolicy: RemovalPolicy.RETAIN });
      const dropped = bind(stack, 'Dropped', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550101'] });
      const template = Template.fromStack(stack);
      expect(bindingResource(template, kept).DeletionPolicy).toBe('Retain');
      expect(bindingResource(template, dropped).DeletionPolicy).toBe('Delete');
    });
  });
});

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

  test('the handler role grants exactly HANDLER_ACTIONS on "*" and only log writes on its own log group besides', () => {
    const statements = statementsOfRole(template, HANDLER_ROLE_ID);
    expect(statements).toHaveLength(2);

    const chime = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('chime:')));
    expect(chime).toHaveLength(1);
    expect(chime[0]).toStrictEqual({ Effect: 'Allow', Action: [...HANDLER_ACTIONS], Resource: '*' });
    expect(actionsOf(chime[0])).toStrictEqual(EXPECTED_ACTIONS);

    const others = statements.filter((s) => s !== chime[0]);
    expect(others).toStrictEqual([{
      Effect: 'Allow',
      Action: ['logs:CreateLogStream', 'logs:PutLogEvents'],
      Resource: { 'Fn::GetAtt': [HANDLER_LOGS_ID, 'Arn'] },
    }]);
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

  test('handler function: nodejs24.x, arm64, 256 MB, 10 minutes, index.handler, no environment by default', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Handler: 'index.handler',
      Runtime: 'nodejs24.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 600,
      Environment: Match.absent(),
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
  test('three bindings in one stack share one handler, one framework function and one service token', () => {
    const { stack } = newStack();
    const bindings = [
      bind(stack, 'One', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] }),
      bind(new Construct(stack, 'Deep'), 'Two', { voiceConnectorGroupId: 'vcg-2', phoneNumbers: ['+12065550101'] }),
      bind(stack, 'Three', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550102'], forceAssociate: true }),
    ];
    const template = Template.fromStack(stack);

    template.resourceCountIs(RESOURCE_TYPE, 3);
    template.resourceCountIs('AWS::Lambda::Function', 4);
    expect(handlerFunctions(template).map(([id]) => id)).toStrictEqual([HANDLER_ID]);
    expect(frameworkFunctions(template).map(([id]) => id)).toStrictEqual([FRAMEWORK_ID]);
    for (const binding of bindings) {
      expect(bindingResource(template, binding).Properties.ServiceToken).toStrictEqual(SERVICE_TOKEN);
    }
    expect(new Set(bindings.map(bindingLogicalId)).size).toBe(3);
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
    const a1 = bind(stack, 'One', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] });
    const a2 = bind(stack, 'Two', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550101'] });
    const b1 = bind(stackB, 'One', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550102'] });

    for (const [s, bindings] of [[stack, [a1, a2]], [stackB, [b1]]] as const) {
      const template = Template.fromStack(s);
      expect(handlerFunctions(template).map(([id]) => id)).toStrictEqual([HANDLER_ID]);
      expect(frameworkFunctions(template).map(([id]) => id)).toStrictEqual([FRAMEWORK_ID]);
      for (const binding of bindings) {
        expect(bindingResource(template, binding).Properties.ServiceToken).toStrictEqual(SERVICE_TOKEN);
      }
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
    const binding = bind(stack, 'Bindings', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: [value] });
    expect(bindingResource(Template.fromStack(stack), binding).Properties.E164PhoneNumbers).toStrictEqual([rendered]);
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
      expect(bindingResource(template, fromAttr).Properties.VoiceConnectorGroupId).toStrictEqual({ 'Fn::GetAtt': [stack.getLogicalId(group), 'Id'] });
      expect(bindingResource(template, fromAsString).Properties.VoiceConnectorGroupId).toStrictEqual({ 'Fn::ImportValue': 'shared-group-id' });
    });

    test('a token list from Token.asList and from Fn.split', () => {
      const { stack } = newStack();
      const source = new CfnResource(stack, 'Numbers', { type: 'Custom::NumberSource' });
      const param = new CfnParameter(stack, 'NumberCsv', { type: 'String' });
      const asList = bind(stack, 'AsList', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: Token.asList(source.getAtt('Numbers')) });
      const split = bind(stack, 'Split', { voiceConnectorGroupId: 'vcg-2', phoneNumbers: Fn.split(',', param.valueAsString) });
      const template = Template.fromStack(stack);
      expect(bindingResource(template, asList).Properties.E164PhoneNumbers).toStrictEqual({ 'Fn::GetAtt': [stack.getLogicalId(source), 'Numbers'] });
      expect(bindingResource(template, split).Properties.E164PhoneNumbers).toStrictEqual({ 'Fn::Split': [',', { Ref: 'NumberCsv' }] });
    });

    test('a token element in a literal list is kept as is while its literal neighbours are still normalised', () => {
      const { stack } = newStack();
      const param = new CfnParameter(stack, 'Extra', { type: 'String' });
      const binding = bind(stack, 'Mixed', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['12065550100', param.valueAsString] });
      expect(bindingResource(Template.fromStack(stack), binding).Properties.E164PhoneNumbers)
        .toStrictEqual(['+12065550100', { Ref: 'Extra' }]);
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
    expect(functions(template)[HANDLER_ID].Properties.Environment).toStrictEqual({ Variables: { BATCH_SIZE: expected } });
    expect(functions(template)[FRAMEWORK_ID].Properties.Environment.Variables).not.toHaveProperty('BATCH_SIZE');
  });

  test('context set on the stack instead of the app also applies', () => {
    const { stack } = newStack();
    stack.node.setContext(BATCH_SIZE_CONTEXT, 7);
    bind(stack, 'Bindings', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] });
    expect(functions(Template.fromStack(stack))[HANDLER_ID].Properties.Environment).toStrictEqual({ Variables: { BATCH_SIZE: '7' } });
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
    expect(bindingResource(Template.fromStack(stack), binding).Properties.E164PhoneNumbers).toStrictEqual(['+14155550100', '+12065550100']);
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
