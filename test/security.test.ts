import { App, Aspects, Stack } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import * as logs from 'aws-cdk-lib/aws-logs';
import { AwsSolutionsChecks } from 'cdk-nag';
import { HandlerLogLevel, VoiceConnectorGroup, VoiceConnectorGroupPhoneNumbers } from '../src';

function stackWithNumbers(configure?: (stack: Stack) => void): Stack {
  const app = new App();
  const stack = new Stack(app, 'Telephony', { env: { account: '123456789012', region: 'us-east-1' } });
  configure?.(stack);
  new VoiceConnectorGroupPhoneNumbers(stack, 'Support', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550100'] });
  new VoiceConnectorGroupPhoneNumbers(stack, 'Sales', { voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550101'] });
  new VoiceConnectorGroup(stack, 'Group', { name: 'contact-center' }).addPhoneNumbers('Lines', ['+12065550102']);
  return stack;
}

function nagFindings(stack: Stack): string[] {
  Aspects.of(stack).add(new AwsSolutionsChecks({ verbose: true }));
  const annotations = Annotations.fromStack(stack);
  return [...annotations.findError('*', Match.anyValue()), ...annotations.findWarning('*', Match.anyValue())]
    .map((m) => `${m.id}: ${String(m.entry.data).split(':')[0]}`);
}

describe('cdk-nag AwsSolutions', () => {
  test('no unacknowledged findings with the default handler', () => {
    expect(nagFindings(stackWithNumbers())).toEqual([]);
  });

  test('no unacknowledged findings with a KMS-encrypted log configuration', () => {
    const stack = stackWithNumbers((s) => VoiceConnectorGroupPhoneNumbers.configureHandler(s, {
      encryptionKey: new kms.Key(s, 'LogKey', { enableKeyRotation: true }),
    }));
    expect(nagFindings(stack)).toEqual([]);
  });

  test('each acknowledgement is narrow and has a reason: IAM5 only for named findings, nothing for the runtime', () => {
    const template = Template.fromStack(stackWithNumbers()).toJSON();
    const acknowledged = Object.values<any>(template.Resources)
      .flatMap((r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? []);
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const rule of acknowledged) {
      expect(rule.reason.length).toBeGreaterThan(40);
      if (rule.id === 'AwsSolutions-IAM5') {
        expect(rule.applies_to.every((f: string) => f === 'Resource::*' || /^Resource::<[A-Za-z0-9]+\.Arn>:\*$/.test(f)
          || /^Resource::arn:<AWS::Partition>:states:us-east-1:123456789012:execution:<[A-Za-z0-9]+\.Name>:\*$/.test(f))).toBe(true);
      }
    }
    // Every function is on the newest Node.js runtime, so AwsSolutions-L1 needs no acknowledgement.
    expect(new Set(acknowledged.map((r: any) => r.id))).toEqual(new Set(['AwsSolutions-IAM5', 'AwsSolutions-SF2']));
  });

  test('the invoke-every-version acknowledgement names the functions the framework calls, and only those', () => {
    const template = Template.fromStack(stackWithNumbers()).toJSON();
    const named = Object.values<any>(template.Resources)
      .flatMap((r) => r.Metadata?.cdk_nag?.rules_to_suppress ?? [])
      .flatMap((r: any) => r.applies_to ?? [])
      .filter((f: string) => f !== 'Resource::*' && f.endsWith('.Arn>:*'))
      .map((f: string) => f.slice('Resource::<'.length, -'.Arn>:*'.length));
    const functions = Object.entries<any>(template.Resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    const called = functions.filter(([, r]) => r.Properties.Handler !== 'framework.onEvent').map(([id]) => id);
    // Both handlers, and the isComplete and onTimeout functions the waiter calls; never the drift check or onEvent.
    expect([...new Set(named)].sort()).toEqual(called.filter((id) => !id.startsWith('VoiceConnectorGroupDriftChecker')).sort());
  });

  test('a new wildcard on the handler role is not hidden by the acknowledgements', () => {
    const stack = stackWithNumbers();
    const role = stack.node.findChild('VoiceConnectorGroupPhoneNumbersProvider').node.findChild('HandlerRole') as iam.Role;
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::bucket/*'] }));
    expect(nagFindings(stack).some((f) => f.startsWith('/Telephony/VoiceConnectorGroupPhoneNumbersProvider/HandlerRole'))).toBe(true);
  });
});

describe('configureHandler', () => {
  test('a log group of the user\'s own is used by every function, and none is created', () => {
    const template = Template.fromStack(stackWithNumbers((s) => VoiceConnectorGroupPhoneNumbers.configureHandler(s, {
      logGroup: new logs.LogGroup(s, 'Mine', { logGroupName: '/platform/telephony', retention: logs.RetentionDays.TEN_YEARS }),
    })));
    template.resourceCountIs('AWS::Logs::LogGroup', 1);
    template.hasResourceProperties('AWS::Logs::LogGroup', { LogGroupName: '/platform/telephony', RetentionInDays: 3653 });
    const functions = Object.values<any>(template.findResources('AWS::Lambda::Function'));
    // Numbers: handler and three framework functions; group: handler and one framework function.
    expect(functions).toHaveLength(6);
    for (const fn of functions) {
      expect(fn.Properties.LoggingConfig.LogGroup).toEqual({ Ref: expect.stringMatching(/^Mine/) });
    }
  });

  test('retention and a KMS key apply to every log group the library creates, and CloudWatch Logs may use the key', () => {
    const template = Template.fromStack(stackWithNumbers((s) => VoiceConnectorGroupPhoneNumbers.configureHandler(s, {
      logRetention: logs.RetentionDays.THREE_MONTHS,
      encryptionKey: new kms.Key(s, 'LogKey'),
    })));
    const groups = Object.values<any>(template.findResources('AWS::Logs::LogGroup'));
    // Numbers: handler, framework, waiter; group: handler, framework.
    expect(groups).toHaveLength(5);
    for (const group of groups) {
      expect(group.Properties.RetentionInDays).toBe(90);
      expect(group.Properties.KmsKeyId).toEqual({ 'Fn::GetAtt': [expect.stringMatching(/^LogKey/), 'Arn'] });
    }
    template.hasResourceProperties('AWS::KMS::Key', {
      KeyPolicy: { Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'logs.us-east-1.amazonaws.com' } })]) },
    });
  });

  test('the log level reaches both handlers as LOG_LEVEL', () => {
    const configured = stackWithNumbers((s) => VoiceConnectorGroupPhoneNumbers.configureHandler(s, { logLevel: HandlerLogLevel.DEBUG }));
    const template = Template.fromStack(configured);
    template.resourcePropertiesCountIs('AWS::Lambda::Function', { Handler: 'index.handler', Environment: { Variables: { LOG_LEVEL: 'DEBUG' } } }, 2);
  });

  test('after the first construct of the stack, or twice, it is an error that says when to call it', () => {
    const stack = stackWithNumbers();
    expect(() => VoiceConnectorGroupPhoneNumbers.configureHandler(stack, { logLevel: HandlerLogLevel.WARN }))
      .toThrow(/Telephony: the handlers of this stack already exist or are already configured\. Call VoiceConnectorGroupPhoneNumbers\.configureHandler\(\) before/);
    const app = new App();
    const fresh = new Stack(app, 'Fresh');
    VoiceConnectorGroupPhoneNumbers.configureHandler(fresh, {});
    expect(() => VoiceConnectorGroupPhoneNumbers.configureHandler(fresh, {})).toThrow(/already configured/);
  });
});
