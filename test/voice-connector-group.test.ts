import { App, Aspects, CfnParameter, Fn, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import {
  CallDistributionType, IVoiceConnectorGroup, VoiceConnectorGroup, VoiceConnectorGroupPhoneNumbers, VoiceConnectorGroupProps,
} from '../src';
import { GROUP_HANDLER_ACTIONS, VoiceConnectorGroupProvider } from '../src/voice-connector-group-provider';
import { bindingOf, newStack, RenderedResource, resourcesOfType, errorOf } from './fixtures/construct-fixtures';

const GROUP_TYPE = 'Custom::VoiceConnectorGroup';
const VC1 = 'abcdef1ghij2klmno3pqr4';
const VC2 = 'bcdefg2hijk3lmnop4qrs5';

/** Written out so that a change to GROUP_HANDLER_ACTIONS has to change this test too. */
const EXPECTED_ACTIONS = [
  'chime:ListVoiceConnectorGroups',
  'chime:CreateVoiceConnectorGroup',
  'chime:GetVoiceConnectorGroup',
  'chime:UpdateVoiceConnectorGroup',
  'chime:DeleteVoiceConnectorGroup',
];

/** The provider's construct id is part of every group's service token: it may never change. */
const FRAMEWORK_ID = 'VoiceConnectorGroupProviderframeworkonEvent2DCE5F10';

function groupLogicalId(group: VoiceConnectorGroup): string {
  return Stack.of(group).getLogicalId(group.node.findChild('Resource').node.defaultChild as any);
}

function groups(template: Template): Record<string, RenderedResource> {
  return resourcesOfType(template, GROUP_TYPE);
}

function newGroup(props: Partial<VoiceConnectorGroupProps> = {}, id = 'Group') {
  const { app, stack } = newStack();
  const group = new VoiceConnectorGroup(stack, id, { name: 'support-lines', ...props });
  return { app, stack, group };
}

describe('group resource', () => {
  test('renders Custom::VoiceConnectorGroup with exactly the contract properties, DESTROY by default', () => {
    const { stack } = newGroup({
      voiceConnectors: [{ voiceConnectorId: VC1, priority: 1 }, { voiceConnectorId: VC2, priority: 2 }],
      callDistributionType: CallDistributionType.PRIORITY_WEIGHTED,
    });
    const rendered = Object.values(groups(Template.fromStack(stack)));
    expect(rendered).toHaveLength(1);
    expect(rendered[0]).toMatchObject({ DeletionPolicy: 'Delete', UpdateReplacePolicy: 'Delete' });
    expect(rendered[0].Properties).toEqual({
      ServiceToken: { 'Fn::GetAtt': [FRAMEWORK_ID, 'Arn'] },
      SchemaVersion: '1',
      Name: 'support-lines',
      VoiceConnectorItems: [{ VoiceConnectorId: VC1, Priority: 1 }, { VoiceConnectorId: VC2, Priority: 2 }],
      CallDistributionType: 'PriorityWeightedDistribution',
    });
  });

  test('without voice connectors or a distribution type: an empty item list and no CallDistributionType', () => {
    const { stack } = newGroup();
    const [rendered] = Object.values(groups(Template.fromStack(stack)));
    expect(rendered.Properties.VoiceConnectorItems).toEqual([]);
    expect(rendered.Properties).not.toHaveProperty('CallDistributionType');
  });

  test('call distribution types are the API values', () => {
    expect(CallDistributionType.LOAD_BALANCED).toBe('LoadBalancedDistribution');
    expect(CallDistributionType.PRIORITY_WEIGHTED).toBe('PriorityWeightedDistribution');
  });

  test('removalPolicy RETAIN retains the group', () => {
    const { stack } = newGroup({ removalPolicy: RemovalPolicy.RETAIN });
    expect(Object.values(groups(Template.fromStack(stack)))[0]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
  });

  test('voiceConnectorGroupId and voiceConnectorGroupArn are Fn::GetAtt of the group resource', () => {
    const { stack, group } = newGroup();
    const id = groupLogicalId(group);
    expect(Token.isUnresolved(group.voiceConnectorGroupId)).toBe(true);
    expect(stack.resolve(group.voiceConnectorGroupId)).toEqual({ 'Fn::GetAtt': [id, 'VoiceConnectorGroupId'] });
    expect(stack.resolve(group.voiceConnectorGroupArn)).toEqual({ 'Fn::GetAtt': [id, 'VoiceConnectorGroupArn'] });
    expect(group.name).toBe('support-lines');
  });

  test('token props pass through validation and render as given', () => {
    const { stack } = newStack();
    const name = new CfnParameter(stack, 'Name').valueAsString;
    const vc = new CfnParameter(stack, 'Vc').valueAsString;
    const priority = new CfnParameter(stack, 'Priority', { type: 'Number' }).valueAsNumber;
    new VoiceConnectorGroup(stack, 'Group', { name, voiceConnectors: [{ voiceConnectorId: vc, priority }, { voiceConnectorId: Fn.join('', [vc, 'x']), priority: 2 }] });
    const [rendered] = Object.values(groups(Template.fromStack(stack)));
    expect(rendered.Properties.Name).toEqual({ Ref: 'Name' });
    expect(rendered.Properties.VoiceConnectorItems[0]).toEqual({ VoiceConnectorId: { Ref: 'Vc' }, Priority: { Ref: 'Priority' } });
  });
});

describe('handler, role and logs', () => {
  const { stack } = newGroup();
  const template = Template.fromStack(stack);
  const handlers = Object.entries(resourcesOfType(template, 'AWS::Lambda::Function')).filter(([, r]) => r.Properties.Handler === 'index.handler');

  test('GROUP_HANDLER_ACTIONS is exactly the expected list', () => {
    expect([...GROUP_HANDLER_ACTIONS]).toEqual(EXPECTED_ACTIONS);
  });

  test('the handler role grants exactly the five group actions on "*" and log writes on its own log group, nothing else', () => {
    expect(handlers).toHaveLength(1);
    const roleId = handlers[0][1].Properties.Role['Fn::GetAtt'][0];
    const statements = Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
      .filter((p) => (p.Properties.Roles as unknown[]).some((r) => JSON.stringify(r) === JSON.stringify({ Ref: roleId })))
      .flatMap((p) => p.Properties.PolicyDocument.Statement);
    expect(statements).toEqual([
      { Action: EXPECTED_ACTIONS, Effect: 'Allow', Resource: '*' },
      { Action: ['logs:CreateLogStream', 'logs:PutLogEvents'], Effect: 'Allow', Resource: { 'Fn::GetAtt': [expect.stringMatching(/^VoiceConnectorGroupProviderHandlerLogs/), 'Arn'] } },
    ]);
  });

  test('no managed policies anywhere, and no chime action outside the group actions', () => {
    for (const role of Object.values(resourcesOfType(template, 'AWS::IAM::Role'))) {
      expect(role.Properties).not.toHaveProperty('ManagedPolicyArns');
    }
    template.resourceCountIs('AWS::IAM::ManagedPolicy', 0);
    const actions = Object.values(resourcesOfType(template, 'AWS::IAM::Policy'))
      .flatMap((p) => p.Properties.PolicyDocument.Statement).flatMap((s: any) => [].concat(s.Action));
    expect(actions.filter((a: string) => a.startsWith('chime:')).sort()).toEqual([...EXPECTED_ACTIONS].sort());
  });

  test('handler: nodejs24.x, arm64, index.handler from the bundled asset, its own log group with one-year retention', () => {
    const [, fn] = handlers[0];
    expect(fn.Properties).toMatchObject({ Runtime: 'nodejs24.x', Architectures: ['arm64'], Handler: 'index.handler', Timeout: 300, MemorySize: 256 });
    expect(fn.Properties.LoggingConfig.LogGroup.Ref).toMatch(/^VoiceConnectorGroupProviderHandlerLogs/);
    template.resourcePropertiesCountIs('AWS::Logs::LogGroup', { RetentionInDays: 365 }, 2);
    template.resourceCountIs('AWS::Logs::LogGroup', 2);
  });

  test('passes the cdk-nag AwsSolutions checks: the library acknowledges the unavoidable findings itself', () => {
    const app = new App();
    const nagged = new Stack(app, 'Nagged');
    new VoiceConnectorGroup(nagged, 'Group', { name: 'g' });
    Aspects.of(app).add(new AwsSolutionsChecks());
    app.synth();
    const annotations = Annotations.fromStack(nagged);
    const findings = [...annotations.findError('*', Match.anyValue()), ...annotations.findWarning('*', Match.anyValue())];
    expect(findings.map((f) => f.entry.data)).toEqual([]);
  });
});

describe('one provider per stack', () => {
  test('two groups in one stack share one handler and one service token; the provider lives at <Stack>/VoiceConnectorGroupProvider', () => {
    const { stack } = newStack();
    new VoiceConnectorGroup(stack, 'A', { name: 'a' });
    new VoiceConnectorGroup(new VoiceConnectorGroup(stack, 'B', { name: 'b' }), 'Nested', { name: 'nested' });
    const template = Template.fromStack(stack);
    const tokens = Object.values(groups(template)).map((g) => JSON.stringify(g.Properties.ServiceToken));
    expect(tokens).toHaveLength(3);
    expect(new Set(tokens).size).toBe(1);
    expect(stack.node.tryFindChild(VoiceConnectorGroupProvider.ID)).toBeInstanceOf(VoiceConnectorGroupProvider);
    expect(VoiceConnectorGroupProvider.ID).toBe('VoiceConnectorGroupProvider');
  });

  test('the group provider and the numbers provider are separate singletons with separate roles', () => {
    const { stack, group } = newGroup();
    group.addPhoneNumbers('Numbers', ['+12065550100']);
    const template = Template.fromStack(stack);
    expect(Object.values(resourcesOfType(template, 'AWS::Lambda::Function')).filter((f) => f.Properties.Handler === 'index.handler')).toHaveLength(2);
    const groupRoles = Object.keys(resourcesOfType(template, 'AWS::IAM::Role')).filter((id) => id.startsWith(VoiceConnectorGroupProvider.ID));
    expect(groupRoles).toEqual([expect.stringMatching(/^VoiceConnectorGroupProviderHandlerRole/), expect.stringMatching(/^VoiceConnectorGroupProviderFrameworkRole/)]);
  });

  test('two stacks each get their own provider', () => {
    const app = new App();
    const one = new Stack(app, 'One');
    const two = new Stack(app, 'Two');
    new VoiceConnectorGroup(one, 'G', { name: 'g' });
    new VoiceConnectorGroup(two, 'G', { name: 'g' });
    for (const stack of [one, two]) {
      expect(Object.values(groups(Template.fromStack(stack)))[0].Properties.ServiceToken).toEqual({ 'Fn::GetAtt': [FRAMEWORK_ID, 'Arn'] });
    }
  });
});

describe('synth-time validation', () => {
  test.each([
    ['', /name "" is 0 characters long; a voice connector group name has 1 to 256/],
    ['x'.repeat(257), /is 257 characters long; a voice connector group name has 1 to 256\. Choose a name of that length/],
    ['support/lines', /contains "\/", which a voice connector group name can not \(pattern \^\[a-zA-Z0-9 _\.-\]\+\$\)\. Use only letters, digits, spaces/],
    ['émile', /contains "é"/],
  ])('name %p is an error naming the path, the value, the rule and the fix', (name, message) => {
    const { stack } = newStack();
    const error = errorOf(() => new VoiceConnectorGroup(stack, 'Group', { name }));
    expect(error).toMatch(/^TestStack\/Group: name /);
    expect(error).toMatch(message);
  });

  test('a name of 256 allowed characters is fine', () => {
    const { stack } = newStack();
    expect(() => new VoiceConnectorGroup(stack, 'Group', { name: 'a-Z_0. '.repeat(36) + 'abcd' })).not.toThrow();
  });

  test('more than 3 voice connectors is an error naming the count and the limit', () => {
    const { stack } = newStack();
    const voiceConnectors = ['a', 'b', 'c', 'd'].map((voiceConnectorId, i) => ({ voiceConnectorId, priority: i + 1 }));
    expect(errorOf(() => new VoiceConnectorGroup(stack, 'Group', { name: 'g', voiceConnectors }))).toBe(
      'TestStack/Group: voiceConnectors lists 4 voice connectors; a group holds at most 3. Remove some, or spread them over more than one group.',
    );
  });

  test.each([0, 100, -1, 1.5, NaN])('priority %p is an error naming the voice connector, the value and the range', (priority) => {
    const { stack } = newStack();
    const error = errorOf(() => new VoiceConnectorGroup(stack, 'Group', { name: 'g', voiceConnectors: [{ voiceConnectorId: VC1, priority }] }));
    expect(error).toBe(
      `TestStack/Group: voiceConnectors[0].priority ${priority} is not an integer from 1 to 99. ` +
      `Give voice connector "${VC1}" a priority in that range (1 is the highest).`,
    );
  });

  test('a duplicate voice connector id is an error naming both positions', () => {
    const { stack } = newStack();
    const error = errorOf(() => new VoiceConnectorGroup(stack, 'Group', {
      name: 'g', voiceConnectors: [{ voiceConnectorId: VC1, priority: 1 }, { voiceConnectorId: VC2, priority: 2 }, { voiceConnectorId: VC1, priority: 3 }],
    }));
    expect(error).toBe(`TestStack/Group: voiceConnectors[2] repeats voice connector "${VC1}" (already voiceConnectors[0]); a group lists each voice connector once. Remove the duplicate.`);
  });

  test('a blank voice connector id is an error', () => {
    const { stack } = newStack();
    expect(errorOf(() => new VoiceConnectorGroup(stack, 'Group', { name: 'g', voiceConnectors: [{ voiceConnectorId: ' ', priority: 1 }] })))
      .toMatch(/^TestStack\/Group: voiceConnectors\[0\]\.voiceConnectorId " " is blank\. Pass the id of an existing voice connector/);
  });

  test('priorities 1 and 99, and equal priorities, are fine', () => {
    const { stack } = newStack();
    expect(() => new VoiceConnectorGroup(stack, 'Group', {
      name: 'g', voiceConnectors: [{ voiceConnectorId: VC1, priority: 1 }, { voiceConnectorId: VC2, priority: 99 }, { voiceConnectorId: 'c', priority: 99 }],
    })).not.toThrow();
  });
});

describe('addPhoneNumbers', () => {
  test('creates the numbers as a child of the group, bound to its id through its attribute (so CloudFormation binds after creating the group and unbinds before deleting it)', () => {
    const { stack, group } = newGroup();
    const numbers = group.addPhoneNumbers('Main', ['+12065550100', '12065550101']);
    expect(numbers).toBeInstanceOf(VoiceConnectorGroupPhoneNumbers);
    expect(numbers.node.path).toBe('TestStack/Group/Main');
    const template = Template.fromStack(stack);
    for (const number of ['+12065550100', '+12065550101']) {
      const { entry, resource } = bindingOf(template, number);
      expect(entry).toEqual({ VoiceConnectorGroupId: { 'Fn::GetAtt': [groupLogicalId(group), 'VoiceConnectorGroupId'] }, E164PhoneNumbers: expect.arrayContaining([number]) });
      expect(resource.DeletionPolicy).toBe('Delete');
    }
  });

  test('passes forceAssociate and removalPolicy through; a retained binding on a destroyed group is a warning', () => {
    const { stack, group } = newGroup();
    group.addPhoneNumbers('Prod', ['+12065550100'], { forceAssociate: true, removalPolicy: RemovalPolicy.RETAIN });
    expect(bindingOf(Template.fromStack(stack), '+12065550100').entry).toMatchObject({ ForceAssociate: 'true', Retain: 'true' });
    const warnings = Annotations.fromStack(stack).findWarning('/TestStack/Group/Prod', Match.stringLikeRegexp('deleting the group will fail'));
    expect(warnings).toHaveLength(1);
  });

  test('no warning when the group is retained too', () => {
    const { stack, group } = newGroup({ removalPolicy: RemovalPolicy.RETAIN });
    group.addPhoneNumbers('Prod', ['+12065550100'], { removalPolicy: RemovalPolicy.RETAIN });
    expect(Annotations.fromStack(stack).findWarning('*', Match.anyValue())).toEqual([]);
  });

  test('numbers of the group are validated like any VoiceConnectorGroupPhoneNumbers', () => {
    const { group } = newGroup();
    expect(errorOf(() => group.addPhoneNumbers('Bad', ['555-0100']))).toMatch(/^TestStack\/Group\/Bad: phoneNumbers\[0\] "555-0100" is not an E\.164 number/);
  });
});

describe('fromVoiceConnectorGroupId', () => {
  test('binds numbers to an existing group by id, in the scope of the import, with no group resource or provider', () => {
    const { stack } = newStack();
    const imported: IVoiceConnectorGroup = VoiceConnectorGroup.fromVoiceConnectorGroupId(stack, 'Existing', 'vcg-1234');
    expect(imported.voiceConnectorGroupId).toBe('vcg-1234');
    const numbers = imported.addPhoneNumbers('Lines', ['+12065550100']);
    expect(numbers.node.path).toBe('TestStack/Existing/Lines');
    const template = Template.fromStack(stack);
    template.resourceCountIs(GROUP_TYPE, 0);
    expect(stack.node.tryFindChild(VoiceConnectorGroupProvider.ID)).toBeUndefined();
    const { entry, resource } = bindingOf(template, '+12065550100');
    expect(entry.VoiceConnectorGroupId).toBe('vcg-1234');
    expect(resource.DependsOn).toBeUndefined();
  });

  test('a blank id is an error; a token id passes through', () => {
    const { stack } = newStack();
    expect(errorOf(() => VoiceConnectorGroup.fromVoiceConnectorGroupId(stack, 'Blank', ' '))).toMatch(/^TestStack\/Blank: voiceConnectorGroupId " " is blank/);
    const param = new CfnParameter(stack, 'GroupId').valueAsString;
    VoiceConnectorGroup.fromVoiceConnectorGroupId(stack, 'Param', param).addPhoneNumbers('N', ['+12065550100']);
    expect(bindingOf(Template.fromStack(stack), '+12065550100').entry.VoiceConnectorGroupId).toEqual({ Ref: 'GroupId' });
  });

  test('a group from another stack: importing its id binds numbers there through a cross-stack reference', () => {
    const app = new App();
    const shared = new Stack(app, 'Shared');
    const group = new VoiceConnectorGroup(shared, 'Group', { name: 'g' });
    const team = new Stack(app, 'Team');
    VoiceConnectorGroup.fromVoiceConnectorGroupId(team, 'Group', group.voiceConnectorGroupId).addPhoneNumbers('N', ['+12065550100']);
    const { entry } = bindingOf(Template.fromStack(team), '+12065550100');
    expect(entry.VoiceConnectorGroupId).toEqual({ 'Fn::ImportValue': expect.stringMatching(/^Shared:ExportsOutputFnGetAttGroup/) });
    expect(team.dependencies).toEqual([shared]);
  });
});
