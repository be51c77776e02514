import { ChimeSDKVoiceClient, type ChimeSDKVoiceClientConfig, GetVoiceConnectorGroupCommand, ListVoiceConnectorGroupsCommand, NotFoundException } from '@aws-sdk/client-chime-sdk-voice';
import { UsageError } from './args';
import { isRecent } from '../../lambda/voice-connector-group/reconcile';

/**
 * The CLI's Chime SDK Voice client: the user's default credentials and region (environment, profile, SSO,
 * container or instance role), and `AWS_ENDPOINT_URL_CHIME_SDK_VOICE` when it is set, like the AWS CLI.
 */
export function chimeClient(config: ChimeSDKVoiceClientConfig = {}): ChimeSDKVoiceClient {
  return new ChimeSDKVoiceClient({ maxAttempts: 5, ...config });
}

/** The region the client resolved, or a one-line error saying how to set one. */
export async function regionOf(client: ChimeSDKVoiceClient): Promise<string> {
  try {
    const region = await client.config.region();
    if (region) return region;
  } catch {
    // fall through to the message below
  }
  throw new UsageError('no AWS region is configured: set AWS_REGION (or a region in your AWS profile)');
}

/** Turns the SDK's errors for missing credentials and unreachable endpoints into one line each. */
export function describeAwsError(error: unknown): string | undefined {
  const e = error as { name?: string; message?: string; code?: string; $metadata?: { httpStatusCode?: number } };
  const message = e?.message ?? String(error);
  if (e?.name === 'CredentialsProviderError' || /Could not load credentials|credential/i.test(message) && !e?.$metadata?.httpStatusCode) {
    return 'no AWS credentials found: set AWS_PROFILE or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or run `aws sso login`), then try again';
  }
  if (e?.code === 'ECONNREFUSED' || /ECONNREFUSED/.test(message)) {
    return `cannot reach the Chime SDK Voice endpoint (${message}); is AWS_ENDPOINT_URL_CHIME_SDK_VOICE right, and is the emulator running?`;
  }
  if (e?.name === 'UnrecognizedClientException' || e?.name === 'InvalidSignatureException' || e?.$metadata?.httpStatusCode === 403) {
    return `AWS refused the credentials (${e.name}: ${message}); check AWS_PROFILE and that the principal may call chime:ListVoiceConnectorGroups, chime:GetVoiceConnectorGroup, chime:ListPhoneNumbers and chime:GetPhoneNumber`;
  }
  return undefined;
}

export interface GroupInfo {
  readonly id: string;
  readonly name: string;
  /** Made within the last hour: the group handler takes such a group of its declared name as its own. */
  readonly recent: boolean;
}

/** Every Voice Connector group of the account and region. */
export async function listGroups(client: ChimeSDKVoiceClient): Promise<GroupInfo[]> {
  const groups: GroupInfo[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListVoiceConnectorGroupsCommand({ MaxResults: 99, NextToken: nextToken }));
    for (const g of page.VoiceConnectorGroups ?? []) {
      if (g.VoiceConnectorGroupId) groups.push({ id: g.VoiceConnectorGroupId, name: g.Name ?? '', recent: isRecent(g) });
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return groups;
}

/** One group, or a one-line error when it does not exist. */
export async function getGroup(client: ChimeSDKVoiceClient, id: string, region: string): Promise<GroupInfo> {
  try {
    const { VoiceConnectorGroup: g } = await client.send(new GetVoiceConnectorGroupCommand({ VoiceConnectorGroupId: id }));
    return { id, name: g?.Name ?? '', recent: g ? isRecent(g) : false };
  } catch (error) {
    if (error instanceof NotFoundException || (error as { name?: string }).name === 'NotFoundException') {
      throw new UsageError(`Voice Connector group '${id}' does not exist in ${region} (GetVoiceConnectorGroup answered NotFound); list the groups with \`aws chime-sdk-voice list-voice-connector-groups\``);
    }
    throw error;
  }
}
