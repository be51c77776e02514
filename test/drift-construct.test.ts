import { App, Aspects, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ReconcileMode, VoiceConnectorGroupPhoneNumbers } from '../src';

function newStack(app = new App(), id = 'Telephony'): Stack {
  return new Stack(app, id, { env: { account: '123456789012', region: 'us-east-1' } });
}

function bindingProperties(stack: Stack): any[] {
  return Object.values(Template.fromStack(stack).findResources('Custom::VoiceConnectorGroupPhoneNumbers')).map((r: any) => r.Properties);
}

describe('reconcile and exclusive', () => {
  test('defaults render no option on the entry and no nonce (on-change deploys touch only what changed)', () => {
    const stack = newStack();
    new VoiceConnectorGroupPhoneNumbers(stack, 'Line', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] });
    const [props] = bindingProperties(stack);
    expect(Object.keys(props).sort()).toEqual(['Bindings', 'SchemaVersion', 'ServiceTimeout', 'ServiceToken', 'Shard']);
    expect(props.Bindings).toEqual([{ VoiceConnectorGroupId: 'vcg-1', E164PhoneNumbers: ['+12065550100'] }]);
  });

  test('EVERY_DEPLOY renders Reconcile on the entry and a nonce that changes on every synth', () => {
    const synth = () => {
      const stack = newStack();
      new VoiceConnectorGroupPhoneNumbers(stack, 'Line', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'], reconcile: ReconcileMode.EVERY_DEPLOY });
      return bindingProperties(stack)[0];
    };
    const [one, two] = [synth(), synth()];
    expect(one.Bindings[0].Reconcile).toBe('EVERY_DEPLOY');
    expect(typeof one.DeployNonce).toBe('string');
    expect(one.DeployNonce).not.toBe(two.DeployNonce);
  });

  test('exclusive constructs on a group must agree', () => {
    const stack = newStack();
    new VoiceConnectorGroupPhoneNumbers(stack, 'A', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'], exclusive: true });
    expect(() => new VoiceConnectorGroupPhoneNumbers(stack, 'B', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550101'] }))
      .toThrow(/exclusive is false but Telephony\/A binds the same voice connector group with exclusive true/);
  });

  test('an exclusive group declared in two stacks is a synth error', () => {
    const app = new App();
    new VoiceConnectorGroupPhoneNumbers(newStack(app, 'One'), 'A', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'], exclusive: true });
    expect(() => new VoiceConnectorGroupPhoneNumbers(newStack(app, 'Two'), 'B', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550101'] }))
      .toThrow(/is exclusive and is declared in stacks One and Two/);
  });

  test('one number declared in two stacks is a synth error (conflict across stacks)', () => {
    const app = new App();
    new VoiceConnectorGroupPhoneNumbers(newStack(app, 'One'), 'A', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] });
    expect(() => new VoiceConnectorGroupPhoneNumbers(newStack(app, 'Two'), 'B', { voiceConnectorGroupId: 'vcg-2', phoneNumbers: ['+12065550100'] }))
      .toThrow(/already declared by One\/A/);
  });
});

describe('driftDetection', () => {
  function driftStack(repair: boolean, schedule?: events.Schedule): Stack {
    const stack = newStack();
    new VoiceConnectorGroupPhoneNumbers(stack, 'Line', {
      voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'], driftDetection: { repair, schedule },
    });
    return stack;
  }

  test('a rule on the default hourly schedule invokes the checker with ids only: the stack, the group and every group key', () => {
    const template = Template.fromStack(driftStack(false));
    const [rule] = Object.values<any>(template.findResources('AWS::Events::Rule'));
    expect(rule.Properties.ScheduleExpression).toBe('rate(1 hour)');
    const input = JSON.parse(JSON.stringify(rule.Properties.Targets[0].Input).replace(/\{"Ref":"AWS::StackId"\}/g, '"stack-arn"'));
    const text = typeof input === 'string' ? input : input['Fn::Join'][1].join('');
    expect(JSON.parse(text)).toEqual({ DriftCheck: { StackId: 'stack-arn', VoiceConnectorGroupId: 'vcg-1', GroupKeys: [{ Key: '"vcg-1"', Id: 'vcg-1' }], Repair: false } });
    template.resourceCountIs('AWS::Lambda::Function', 5);
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler', Description: Match.stringLikeRegexp('drift check') });
  });

  test('one check, one rule and one alarm per group and stack: constructs on the group share them; differing options are an error', () => {
    const stack = newStack();
    const a = new VoiceConnectorGroupPhoneNumbers(stack, 'A', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'], driftDetection: { repair: true } });
    const b = new VoiceConnectorGroupPhoneNumbers(stack, 'B', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550101'], driftDetection: { repair: true } });
    new VoiceConnectorGroupPhoneNumbers(stack, 'C', { voiceConnectorGroupId: 'vcg-2', phoneNumbers: ['+12065550102'], driftDetection: {} });
    expect(a.alarm).toBe(b.alarm);
    const template = Template.fromStack(stack);
    template.resourceCountIs('AWS::Events::Rule', 2);
    template.resourceCountIs('AWS::CloudWatch::Alarm', 2);
    expect(() => new VoiceConnectorGroupPhoneNumbers(stack, 'D', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550103'], driftDetection: { repair: false } }))
      .toThrow(/driftDetection differs from the one Telephony\/A sets for the same voice connector group .* give every construct on it the same driftDetection/);
  });

  test('renaming the construct that asks for the check keeps the rule and the alarm (their ids follow the group, not the construct)', () => {
    const ids = (id: string) => {
      const stack = newStack();
      new VoiceConnectorGroupPhoneNumbers(stack, id, { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'], driftDetection: {} });
      const template = Template.fromStack(stack);
      return [...Object.keys(template.findResources('AWS::Events::Rule')), ...Object.keys(template.findResources('AWS::CloudWatch::Alarm'))];
    };
    expect(ids('Helpdesk')).toEqual(ids('Support'));
  });

  test('a custom schedule is used', () => {
    Template.fromStack(driftStack(false, events.Schedule.rate(Duration.minutes(15))))
      .hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(15 minutes)' });
  });

  test('the alarm fires on one drifted number', () => {
    Template.fromStack(driftStack(false)).hasResourceProperties('AWS::CloudWatch::Alarm', {
      Namespace: 'ChimeVoiceConnectorGroups',
      MetricName: 'DriftedPhoneNumbers',
      Dimensions: [{ Name: 'VoiceConnectorGroupId', Value: 'vcg-1' }],
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Statistic: 'Maximum',
    });
  });

  test('checker role: read-only without repair, association calls with it, GetTemplate and DescribeStacks on its own stack only', () => {
    const actions = (stack: Stack) => Object.entries(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('VoiceConnectorGroupDriftCheckerRole'))
      .flatMap(([, p]: any) => p.Properties.PolicyDocument.Statement)
      .filter((s: any) => !JSON.stringify(s.Action).includes('logs:'));
    expect(actions(driftStack(false))).toEqual([
      expect.objectContaining({ Action: ['chime:ListPhoneNumbers', 'chime:GetPhoneNumber'], Resource: '*' }),
      expect.objectContaining({ Action: ['cloudformation:GetTemplate', 'cloudformation:DescribeStacks'], Resource: { Ref: 'AWS::StackId' } }),
    ]);
    expect(actions(driftStack(true))).toContainEqual(expect.objectContaining({
      Action: ['chime:AssociatePhoneNumbersWithVoiceConnectorGroup', 'chime:DisassociatePhoneNumbersFromVoiceConnectorGroup'],
    }));
  });

  test('metricDriftedPhoneNumbers is available, and the alarm only with driftDetection', () => {
    const stack = newStack();
    const line = new VoiceConnectorGroupPhoneNumbers(stack, 'Line', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] });
    expect(line.alarm).toBeUndefined();
    expect(line.metricDriftedPhoneNumbers().metricName).toBe('DriftedPhoneNumbers');
  });

  test('cdk-nag AwsSolutions stays clean', () => {
    const stack = driftStack(true);
    Aspects.of(stack).add(new AwsSolutionsChecks({ verbose: true }));
    const annotations = Annotations.fromStack(stack);
    const findings = [...annotations.findError('*', Match.anyValue()), ...annotations.findWarning('*', Match.anyValue())]
      .map((m) => `${m.id}: ${String(m.entry.data).split(':')[0]}`);
    expect(findings).toEqual([]);
  });
});

