/**
 * Integration test for a real AWS account: creates a voice connector group, binds a phone number to it,
 * and asks Chime SDK Voice whether the number is associated with the group.
 *
 * The account must own a voice connector and a phone number with the VoiceConnector product type; pass
 * them as context when deploying (`npx integ-runner --update-on-failed` with
 * `CDK_CONTEXT_JSON='{"integ:voiceConnectorId":"...","integ:phoneNumber":"+1..."}'` or a cdk.json). The
 * committed snapshot uses the placeholders below, and `npx projen integ:snapshot` checks it offline.
 */
import { ExpectedResult, IntegTest } from '@aws-cdk/integ-tests-alpha';
import { App, Aspects, CfnResource, IAspect, Stack } from 'aws-cdk-lib';
import { IConstruct } from 'constructs';
import { CallDistributionType, VoiceConnectorGroup } from '../src';

/**
 * The assertion stack's functions (integ-tests-alpha's) take aws-cdk-lib's per-region runtime, nodejs20.x
 * at the floor release, which Lambda no longer creates. The library's own functions need no help.
 */
class NodeRuntime implements IAspect {
  public visit(node: IConstruct): void {
    // The assertion provider renders its function as a plain CfnResource, not a CfnFunction.
    if (node instanceof CfnResource && node.cfnResourceType === 'AWS::Lambda::Function') node.addPropertyOverride('Runtime', 'nodejs24.x');
  }
}

const app = new App();
const voiceConnectorId: string = app.node.tryGetContext('integ:voiceConnectorId') ?? 'abcdef1ghij2klmno3pqr4';
const phoneNumber: string = app.node.tryGetContext('integ:phoneNumber') ?? '+12065550100';

const stack = new Stack(app, 'VoiceConnectorGroupInteg');
const group = new VoiceConnectorGroup(stack, 'Group', {
  name: 'cdk-chime-voice-connector-groups-integ',
  voiceConnectors: [{ voiceConnectorId, priority: 1 }],
  callDistributionType: CallDistributionType.PRIORITY_WEIGHTED,
});
group.addPhoneNumbers('Numbers', [phoneNumber]);

const integ = new IntegTest(app, 'VoiceConnectorGroupIntegTest', {
  testCases: [stack],
  // The handler bundles' hashes change with every handler change; the snapshot check compares templates.
  diffAssets: false,
});

Aspects.of(app).add(new NodeRuntime());

const association = integ.assertions.awsApiCall('ChimeSDKVoice', 'getPhoneNumber', { PhoneNumberId: phoneNumber });
association.expect(ExpectedResult.objectLike({
  PhoneNumber: {
    E164PhoneNumber: phoneNumber,
    Associations: [{ Name: 'VoiceConnectorGroupId', Value: group.voiceConnectorGroupId }],
  },
}));
