import { App, Aspects, Duration, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as events from 'aws-cdk-lib/aws-events';
import { AwsSolutionsChecks } from 'cdk-nag';
import { planRepair } from '../lambda/plan';
import { ReconcileMode, VoiceConnectorGroupPhoneNumbers } from '../src';

function newStack(app = new App(), id = 'Telephony'): Stack {
  return new Stack(app, id, { env: { account: '123456789012', region: 'us-east-1' } });
}

function bindingProperties(stack: Stack): any[] {
  return Object.values(Template.fromStack(stack).findResources('Custom::VoiceConnectorGroupPhoneNumbers')).map((r: any) => r.Properties);
}

describe('reconcile and exclusive', () => {
  test('defaults render no new property (on-change templates unchanged)', () => {
    const stack = newStack();
    new VoiceConnectorGroupPhoneNumbers(stack, 'Line', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] });
    const [props] = bindingProperties(stack);
    expect(Object.keys(props).sort()).toEqual(['E164PhoneNumbers', 'ForceAssociate', 'SchemaVersion', 'ServiceToken', 'VoiceConnectorGroupId']);
    expect(Template.fromStack(stack).toJSON().Mappings).toBeUndefined();
  });

  test('EVERY_DEPLOY renders Reconcile and a nonce that changes on every synth', () => {
    const synth = () => {
      const stack = newStack();
      new VoiceConnectorGroupPhoneNumbers(stack, 'Line', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'], reconcile: ReconcileMode.EVERY_DEPLOY });
      return bindingProperties(stack)[0];
    };
    const [one, two] = [synth(), synth()];
    expect(one.Reconcile).toBe('EVERY_DEPLOY');
    expect(typeof one.DeployNonce).toBe('string');
    expect(one.DeployNonce).not.toBe(two.DeployNonce);
  });

  test('an exclusive construct alone on its group gets the group\'s numbers through the mapping', () => {
    const stack = newStack();
    new VoiceConnectorGroupPhoneNumbers(stack, 'Line', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'], exclusive: true });
    const [props] = bindingProperties(stack);
    expect(props.Exclusive).toBe(true);
    expect(props.PeerPhoneNumbers).toEqual({ 'Fn::FindInMap': ['VoiceConnectorGroupPhoneNumbers0', 'Group', 'PhoneNumbers'] });
    expect(Template.fromStack(stack).toJSON().Mappings.VoiceConnectorGroupPhoneNumbers0.Group.PhoneNumbers).toEqual(['+12065550100']);
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

  test('a rule on the default hourly schedule invokes the checker with ids only', () => {
    const template = Template.fromStack(driftStack(false));
    template.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(1 hour)',
      Targets: [Match.objectLike({
        Input: { 'Fn::Join': ['', Match.arrayWith([Match.stringLikeRegexp('"DriftCheck":\\{"StackId":"')])] },
      })],
    });
    template.resourceCountIs('AWS::Lambda::Function', 5);
    template.hasResourceProperties('AWS::Lambda::Function', { Handler: 'index.handler', Description: Match.stringLikeRegexp('drift check') });
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

  test('checker role: read-only without repair, association calls with it, GetTemplate on its own stack only', () => {
    const actions = (stack: Stack) => Object.entries(Template.fromStack(stack).findResources('AWS::IAM::Policy'))
      .filter(([id]) => id.startsWith('VoiceConnectorGroupDriftCheckerRole'))
      .flatMap(([, p]: any) => p.Properties.PolicyDocument.Statement)
      .filter((s: any) => !JSON.stringify(s.Action).includes('logs:'));
    expect(actions(driftStack(false))).toEqual([
      expect.objectContaining({ Action: ['chime:ListPhoneNumbers', 'chime:GetPhoneNumber'], Resource: '*' }),
      expect.objectContaining({ Action: 'cloudformation:GetTemplate', Resource: { Ref: 'AWS::StackId' } }),
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

describe('planRepair (pure)', () => {
  const spec = { groupId: 'g', numbers: ['+1', '+2', '+3'].map((n) => `${n}2065550100`), forceAssociate: false, peerNumbers: new Set(['+52065550100']) };
  const [n1, n2, n3] = spec.numbers;
  const group = { exists: true, bound: new Set([n3, '+42065550100', '+52065550100']) };
  const owners = new Map([[n1, { kind: 'group' as const, id: 'other' }]]);

  test('non-exclusive: rebinds unbound, reports bound elsewhere, ignores foreign', () => {
    const { repair, steps } = planRepair(spec, group, owners);
    expect(repair).toEqual({ missing: [n1, n2], foreign: [], rebind: [n2], take: [], notRepaired: [{ number: n1, owner: { kind: 'group', id: 'other' } }] });
    expect(steps).toEqual([{ kind: 'associate', groupId: 'g', numbers: [n2], force: 'never' }]);
  });

  test('exclusive with forceAssociate: takes, rebinds, unbinds only what no construct declares', () => {
    const { repair, steps } = planRepair({ ...spec, forceAssociate: true, exclusive: true }, group, owners);
    expect(repair.foreign).toEqual(['+42065550100']);
    expect(steps).toEqual([
      { kind: 'associate', groupId: 'g', numbers: [n2], force: 'never' },
      { kind: 'associate', groupId: 'g', numbers: [n1], force: 'take', owners: { [n1]: { kind: 'group', id: 'other' } } },
      { kind: 'disassociate', groupId: 'g', numbers: ['+42065550100'] },
    ]);
  });
});
