import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { bundledHandlerCode } from './handler-assets';
import { logLevelEnvironment, ProviderLogGroups } from './handler-settings';
import { acknowledgeNagFindings, FRAMEWORK_RUNTIME, INVOKE_VERSIONS } from './nag';

/**
 * Chime SDK Voice actions the group handler calls. None of them has a resource type, so `Resource: "*"`
 * is the narrowest grant IAM allows.
 */
export const GROUP_HANDLER_ACTIONS: readonly string[] = [
  'chime:CreateVoiceConnectorGroup',
  'chime:GetVoiceConnectorGroup',
  'chime:UpdateVoiceConnectorGroup',
  'chime:DeleteVoiceConnectorGroup',
];

/**
 * The stack-wide singleton behind every `VoiceConnectorGroup`: one handler function, one Provider
 * framework. Its id is part of every group resource's service token, so it never changes.
 */
export class VoiceConnectorGroupProvider extends Construct {
  public static readonly ID = 'VoiceConnectorGroupProvider';

  public static getOrCreate(stack: Stack): VoiceConnectorGroupProvider {
    const existing = stack.node.tryFindChild(VoiceConnectorGroupProvider.ID) as VoiceConnectorGroupProvider | undefined;
    return existing ?? new VoiceConnectorGroupProvider(stack, VoiceConnectorGroupProvider.ID);
  }

  public readonly serviceToken: string;
  public readonly handler: lambda.Function;

  private constructor(scope: Stack, id: string) {
    super(scope, id);
    const logGroups = new ProviderLogGroups(this);
    const handlerLogs = logGroups.logGroup('HandlerLogs');
    const role = new iam.Role(this, 'HandlerRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Creates, updates and deletes Chime SDK Voice Connector groups for cdk-chime-voice-connector-groups',
    });
    role.addToPrincipalPolicy(new iam.PolicyStatement({ actions: [...GROUP_HANDLER_ACTIONS], resources: ['*'] }));
    handlerLogs.grantWrite(role);

    this.handler = new lambda.Function(this, 'Handler', {
      description: 'cdk-chime-voice-connector-groups: manages voice connector groups',
      runtime: lambda.Runtime.NODEJS_22_X,
      architecture: lambda.Architecture.ARM_64,
      code: bundledHandlerCode('voice-connector-group-handler'),
      handler: 'index.handler',
      role,
      logGroup: handlerLogs,
      memorySize: 256,
      // One or two API calls per event; the rest of the budget is for riding out throttling.
      timeout: Duration.minutes(5),
      environment: logLevelEnvironment(scope),
    });

    const frameworkLogs = logGroups.logGroup('FrameworkLogs');
    const frameworkRole = new iam.Role(this, 'FrameworkRole', {
      assumedBy: new iam.ServicePrincipal('lambda.amazonaws.com'),
      description: 'Provider framework for cdk-chime-voice-connector-groups groups: invokes the group handler',
    });
    frameworkLogs.grantWrite(frameworkRole);

    const provider = new cr.Provider(this, 'Provider', {
      onEventHandler: this.handler,
      logGroup: frameworkLogs,
      frameworkOnEventRole: frameworkRole,
    });
    this.serviceToken = provider.serviceToken;

    acknowledgeNagFindings(role.node.findChild('DefaultPolicy'), [{
      id: 'AwsSolutions-IAM5',
      reason: 'Chime SDK Voice voice-connector-group actions (create, get, update, delete) have no resource type: "*" is the narrowest grant IAM allows.',
      appliesTo: ['Resource::*'],
    }]);
    acknowledgeNagFindings(frameworkRole.node.findChild('DefaultPolicy'), [INVOKE_VERSIONS]);
    acknowledgeNagFindings(provider.node.findChild('framework-onEvent'), FRAMEWORK_RUNTIME);
  }
}
