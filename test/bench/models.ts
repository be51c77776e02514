/**
 * Faithful models of the two ways users bind phone numbers today, for the side-by-side benchmark.
 * Both use the unmodified SDK client with its default configuration (standard retry, 3 attempts), as
 * the real handlers do; neither reads state nor diffs.
 *
 * - per-number: the pattern of cdk-amazon-chime-resources (`PhoneAssociation`): one custom resource,
 *   hence one Lambda invocation, per number. Create and Update associate the resource's one number with
 *   ForceAssociate true; Delete disassociates it. The physical id never changes, so an Update that
 *   changes the number leaves the old one bound.
 * - list: an `AwsCustomResource` whose onCreate/onUpdate call Associate with the whole list
 *   (ForceAssociate true) and whose onDelete calls Disassociate with the whole list. No diff: numbers
 *   removed from the list by an Update stay bound.
 */
import {
  AssociatePhoneNumbersWithVoiceConnectorGroupCommand,
  ChimeSDKVoiceClient,
  DisassociatePhoneNumbersFromVoiceConnectorGroupCommand,
} from '@aws-sdk/client-chime-sdk-voice';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import type { CfnTemplate, CustomResourceHandler } from '../../tools/local-deploy';

export const PER_NUMBER_TYPE = 'Custom::BenchPerNumberAssociation';
export const LIST_TYPE = 'Custom::BenchAwsCustomResource';

const SERVICE_TOKEN = 'arn:aws:lambda:us-east-1:123456789012:function:bench-model-handler';

function clientFor(endpoint: string): ChimeSDKVoiceClient {
  return new ChimeSDKVoiceClient({
    region: 'us-east-1',
    endpoint,
    credentials: { accessKeyId: 'bench', secretAccessKey: 'bench' },
  });
}

/** Throws like the real handlers do when the service reports per-number errors inside a 200. */
function failOnErrors(errors: readonly { PhoneNumberId?: string; ErrorCode?: string }[] | undefined): void {
  if (errors && errors.length > 0) {
    throw new Error(`per-number errors: ${errors.map((e) => `${e.PhoneNumberId} ${e.ErrorCode}`).join(', ')}`);
  }
}

/** One Lambda container serving every per-number resource (warm: one client, reused). */
export function perNumberHandler(endpoint: string): CustomResourceHandler {
  const client = clientFor(endpoint);
  return async (event: CloudFormationCustomResourceEvent) => {
    const groupId = String(event.ResourceProperties.VoiceConnectorGroupId);
    const number = String(event.ResourceProperties.E164PhoneNumber);
    const physicalId = event.RequestType === 'Create' ? `phone-association-${event.LogicalResourceId}` : event.PhysicalResourceId;
    if (event.RequestType === 'Delete') {
      const out = await client.send(new DisassociatePhoneNumbersFromVoiceConnectorGroupCommand({
        VoiceConnectorGroupId: groupId, E164PhoneNumbers: [number],
      }));
      failOnErrors(out.PhoneNumberErrors);
    } else {
      const out = await client.send(new AssociatePhoneNumbersWithVoiceConnectorGroupCommand({
        VoiceConnectorGroupId: groupId, E164PhoneNumbers: [number], ForceAssociate: true,
      }));
      failOnErrors(out.PhoneNumberErrors);
    }
    return { PhysicalResourceId: physicalId };
  };
}

/** The AwsCustomResource pattern: the whole list in one call, no read, no diff. */
export function listHandler(endpoint: string): CustomResourceHandler {
  const client = clientFor(endpoint);
  return async (event: CloudFormationCustomResourceEvent) => {
    const groupId = String(event.ResourceProperties.VoiceConnectorGroupId);
    const numbers = event.ResourceProperties.E164PhoneNumbers as string[];
    const physicalId = event.RequestType === 'Create' ? `aws-custom-resource-${event.LogicalResourceId}` : event.PhysicalResourceId;
    if (event.RequestType === 'Delete') {
      const out = await client.send(new DisassociatePhoneNumbersFromVoiceConnectorGroupCommand({
        VoiceConnectorGroupId: groupId, E164PhoneNumbers: numbers,
      }));
      failOnErrors(out.PhoneNumberErrors);
    } else {
      const out = await client.send(new AssociatePhoneNumbersWithVoiceConnectorGroupCommand({
        VoiceConnectorGroupId: groupId, E164PhoneNumbers: numbers, ForceAssociate: true,
      }));
      failOnErrors(out.PhoneNumberErrors);
    }
    return { PhysicalResourceId: physicalId };
  };
}

/**
 * Template of the per-number pattern. Resources are keyed by position (`numbers.forEach((n, i) =>
 * new PhoneAssociation(this, `Number${i}`, ...))`), so a slot whose number changes gets an Update.
 */
export function perNumberTemplate(groupId: string, slots: readonly (string | undefined)[]): CfnTemplate {
  const resources: Record<string, { Type: string; Properties: Record<string, unknown> }> = {};
  slots.forEach((number, i) => {
    if (number === undefined) return;
    resources[`Number${i}`] = { Type: PER_NUMBER_TYPE, Properties: { ServiceToken: SERVICE_TOKEN, VoiceConnectorGroupId: groupId, E164PhoneNumber: number } };
  });
  return { Resources: resources };
}

export function listTemplate(groupId: string, numbers: readonly string[]): CfnTemplate {
  return {
    Resources: {
      Associate: { Type: LIST_TYPE, Properties: { ServiceToken: SERVICE_TOKEN, VoiceConnectorGroupId: groupId, E164PhoneNumbers: [...numbers] } },
    },
  };
}
