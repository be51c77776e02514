/**
 * cdk-nag 3 reads acknowledgements from aws-cdk-lib's Validations API, which the floor aws-cdk-lib lacks, so
 * this suite runs only in the newest-aws-cdk-lib job (`npx projen test:newest-cdk`), where cdk-nag 3 is
 * installed under the name `cdk-nag-v3` beside cdk-nag 2.
 */
import { createRequire } from 'node:module';
import { App, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as kms from 'aws-cdk-lib/aws-kms';
import type { IConstruct } from 'constructs';
import { VoiceConnectorGroup, VoiceConnectorGroupPhoneNumbers } from '../../src';

interface Violation { readonly ruleName: string; readonly violatingResources: ReadonlyArray<{ readonly constructPath: string }> }
interface NagPack { validateScope(scope: IConstruct): { readonly success: boolean; readonly violations: readonly Violation[] } }
interface CdkNag3 { AwsSolutionsChecks: new (scope?: IConstruct, props?: { verbose?: boolean }) => NagPack }

const cdkNag3 = createRequire(__filename)('cdk-nag-v3') as CdkNag3;
const cdk = createRequire(__filename)('aws-cdk-lib') as { Validations: { of(scope: IConstruct): { addPlugins(...p: unknown[]): void } } };

/** The stack the issue names: a group with numbers, numbers on another group, drift detection with repair. */
function telephonyStack(app = new App(), withKey = false): Stack {
  const stack = new Stack(app, 'Telephony', { env: { account: '123456789012', region: 'us-east-1' } });
  if (withKey) {
    VoiceConnectorGroupPhoneNumbers.configureHandler(stack, { encryptionKey: new kms.Key(stack, 'LogKey', { enableKeyRotation: true }) });
  }
  const group = new VoiceConnectorGroup(stack, 'Group', { name: 'contact-center' });
  group.addPhoneNumbers('Lines', ['+12065550100']);
  new VoiceConnectorGroupPhoneNumbers(stack, 'Support', {
    voiceConnectorGroupId: 'vcg-1', phoneNumbers: ['+12065550101'], driftDetection: { repair: true },
  });
  return stack;
}

function findings(scope: IConstruct): string[] {
  return new cdkNag3.AwsSolutionsChecks(scope).validateScope(scope).violations
    .flatMap((v) => v.violatingResources.map((r) => `${r.constructPath}: ${v.ruleName}`));
}

describe('cdk-nag 3 (Validations plugin) on the newest aws-cdk-lib', () => {
  test('reports no unacknowledged AwsSolutions finding', () => {
    expect(findings(telephonyStack())).toEqual([]);
  });

  test('with KMS-encrypted logs, too', () => {
    expect(findings(telephonyStack(new App(), true))).toEqual([]);
  });

  test('as a plugin registered on the app, synth passes', () => {
    const app = new App();
    telephonyStack(app);
    cdk.Validations.of(app).addPlugins(new cdkNag3.AwsSolutionsChecks(app));
    expect(() => app.synth()).not.toThrow();
  });

  test('the acknowledgements are per finding: a new wildcard on the handler role still surfaces', () => {
    const stack = telephonyStack();
    const role = stack.node.findChild('VoiceConnectorGroupPhoneNumbersProvider').node.findChild('HandlerRole') as iam.Role;
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::bucket/*'] }));
    expect(findings(stack)).toEqual([
      'Telephony/VoiceConnectorGroupPhoneNumbersProvider/HandlerRole/DefaultPolicy/Resource: AwsSolutions-IAM5[Resource::arn:aws:s3:::bucket/*]',
    ]);
  });

  test('every acknowledgement carries its reason', () => {
    const stack = telephonyStack();
    const acknowledged = stack.node.findAll()
      .flatMap((c) => c.node.metadata.filter((m) => m.type === 'aws:cdk:acknowledged-rules'))
      .flatMap((m) => Object.entries(m.data as Record<string, string>));
    expect(acknowledged.length).toBeGreaterThan(0);
    for (const [id, reason] of acknowledged) {
      expect(id).toMatch(/AwsSolutions-(IAM5\[Resource::(\*|<[A-Za-z0-9]+\.Arn>:\*|arn:<AWS::Partition>:states:us-east-1:123456789012:execution:<[A-Za-z0-9]+\.Name>:\*)\]|SF2)$/);
      expect(reason.length).toBeGreaterThan(40);
    }
  });
});
