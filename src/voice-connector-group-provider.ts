import { Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import * as cr from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { bundledFunction } from './handler-assets';
import { ProviderLogGroups } from './handler-settings';
import { acknowledgeNagFindings, invokeVersionsOf } from './nag';
import { pinFrameworkFunctions } from './runtime';

/**
 * Chime SDK Voice actions the group handler calls. None of them has a resource type, so `Resource: "*"`
 * is the narrowest grant IAM allows.
 */
export const GROUP_HANDLER_ACTIONS: readonly string[] = [
  'chime:ListVoiceConnectorGroups',
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
    const logs = new ProviderLogGroups(this);
    const { fn } = bundledFunction(this, {
      asset: 'voice-connector-group-handler',
      ids: { role: 'HandlerRole', function: 'Handler', logGroup: 'HandlerLogs' },
      description: 'cdk-chime-voice-connector-groups: manages voice connector groups',
      roleDescription: 'Creates, updates and deletes Chime SDK Voice Connector groups for cdk-chime-voice-connector-groups',
      chimeActions: GROUP_HANDLER_ACTIONS,
      wildcardReason: 'Chime SDK Voice voice-connector-group actions (list, create, get, update, delete) have no resource type: "*" is the narrowest grant IAM allows.',
      // One or two API calls per event; the rest of the budget is for riding out throttling.
      timeout: Duration.minutes(5),
      logs,
    });
    this.handler = fn;

    const frameworkLogs = logs.logGroup('FrameworkLogs');
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
    pinFrameworkFunctions(provider);
    this.serviceToken = provider.serviceToken;
    acknowledgeNagFindings(frameworkRole.node.findChild('DefaultPolicy'), [invokeVersionsOf(this.handler)]);
  }
}
