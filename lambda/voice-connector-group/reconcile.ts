import {
  ChimeSDKVoiceClient, CreateVoiceConnectorGroupCommand, DeleteVoiceConnectorGroupCommand, GetVoiceConnectorGroupCommand,
  ListVoiceConnectorGroupsCommand, UpdateVoiceConnectorGroupCommand, type CallDistributionType, type UpdateVoiceConnectorGroupRequest,
  type VoiceConnectorGroup,
} from '@aws-sdk/client-chime-sdk-voice';
import type { GroupRequest, GroupSpec } from './request';
import { GroupAttr } from '../../src/voice-connector-group-properties';
import type { Logger } from '../shared/log';

/** The Provider framework's onEvent contract. */
export interface GroupResponse {
  readonly PhysicalResourceId: string;
  readonly Data: Record<string, string>;
}

/**
 * The update that makes `current` what `spec` declares, or `undefined` when it already is. Pure: the
 * decision is made before any write, and an unchanged group gets no write at all. Voice connector items
 * compare as a set (the API does not promise to keep their order); an undeclared call distribution type
 * is left as the service has it.
 */
export function planGroupUpdate(groupId: string, current: VoiceConnectorGroup, spec: GroupSpec): UpdateVoiceConnectorGroupRequest | undefined {
  const key = (items: ReadonlyArray<{ VoiceConnectorId?: string; Priority?: number }>) =>
    items.map((i) => `${i.VoiceConnectorId}\u0000${i.Priority}`).sort().join('\n');
  const sameName = current.Name === spec.name;
  const sameItems = key(current.VoiceConnectorItems ?? []) === key(spec.items);
  const sameDistribution = spec.callDistributionType === undefined || spec.callDistributionType === current.CallDistributionType;
  if (sameName && sameItems && sameDistribution) return undefined;
  return {
    VoiceConnectorGroupId: groupId,
    Name: spec.name,
    VoiceConnectorItems: spec.items.map((i) => ({ ...i })),
    ...(spec.callDistributionType === undefined ? {} : { CallDistributionType: spec.callDistributionType as CallDistributionType }),
  };
}

/** Create -> CreateVoiceConnectorGroup; Update -> Get, then Update only if something differs; Delete -> DeleteVoiceConnectorGroup. */
export async function onGroupEvent(request: GroupRequest, client: ChimeSDKVoiceClient, log: Logger): Promise<GroupResponse> {
  switch (request.type) {
    case 'Create': {
      const { desired } = request;
      // CreateVoiceConnectorGroup takes no idempotency token and groups take no tags: a retried call or a
      // repeated event could make a second group. The group's name is what this resource declares, so a
      // group of that name made in the last hour is this event's own, found again rather than made twice.
      const existing = await call(() => findByName(client, desired.name), (code, message) =>
        `Could not list the voice connector groups to look for ${JSON.stringify(desired.name)}: ${code}: ${message}. ${advice(code, desired)}`);
      if (existing && isRecent(existing)) {
        log.info('found the group this event created before', { groupId: existing.VoiceConnectorGroupId });
        const update = planGroupUpdate(existing.VoiceConnectorGroupId!, existing, desired);
        if (update) await call(() => client.send(new UpdateVoiceConnectorGroupCommand(update)), (code, message) => `Could not update voice connector group ${existing.VoiceConnectorGroupId}: ${code}: ${message}. ${advice(code, desired)}`);
        return response(existing);
      }
      if (existing) {
        throw new Error(
          `A voice connector group named ${JSON.stringify(desired.name)} already exists (${existing.VoiceConnectorGroupId}, created ${existing.CreatedTimestamp ?? 'earlier'}). ` +
          'Nothing was created: this library finds the group it creates by its name, so the name must be unique in the account and region. ' +
          'Choose another name, or bind numbers to the existing group with VoiceConnectorGroup.fromVoiceConnectorGroupId().',
        );
      }
      const created = await call(
        () => client.send(new CreateVoiceConnectorGroupCommand({
          Name: desired.name,
          VoiceConnectorItems: desired.items.map((i) => ({ ...i })),
          ...(desired.callDistributionType === undefined ? {} : { CallDistributionType: desired.callDistributionType as CallDistributionType }),
        })),
        (code, message) => `Could not create voice connector group ${JSON.stringify(desired.name)}: ${code}: ${message}. ${advice(code, desired)}`,
      );
      const group = required(created.VoiceConnectorGroup, 'CreateVoiceConnectorGroup');
      log.info('created', { groupId: group.VoiceConnectorGroupId, items: desired.items.length });
      return response(group);
    }
    case 'Update': {
      const { groupId, desired } = request;
      const got = await call(
        () => client.send(new GetVoiceConnectorGroupCommand({ VoiceConnectorGroupId: groupId })),
        (code, message) => code === 'NotFoundException'
          ? `Voice connector group ${groupId} (${JSON.stringify(desired.name)}) no longer exists: it was deleted outside CloudFormation. ` +
            'Remove the VoiceConnectorGroup (and the numbers bound to it) from the stack and deploy, then add it back to create a new group.'
          : `Could not read voice connector group ${groupId}: ${code}: ${message}. ${advice(code, desired)}`,
      );
      const current = required(got.VoiceConnectorGroup, 'GetVoiceConnectorGroup');
      const update = planGroupUpdate(groupId, current, desired);
      log.info('plan', { groupId, update: update !== undefined });
      if (update === undefined) return response(current, groupId);
      const updated = await call(
        () => client.send(new UpdateVoiceConnectorGroupCommand(update)),
        (code, message) => `Could not update voice connector group ${groupId} (${JSON.stringify(desired.name)}): ${code}: ${message}. ${advice(code, desired)}`,
      );
      return response({ ...current, ...updated.VoiceConnectorGroup }, groupId);
    }
    case 'Delete': {
      const { groupId } = request;
      try {
        // The API reference asks for a group's voice connectors to be removed before the group is deleted.
        const { VoiceConnectorGroup: current } = await client.send(new GetVoiceConnectorGroupCommand({ VoiceConnectorGroupId: groupId }));
        if (current && (current.VoiceConnectorItems ?? []).length > 0) {
          await client.send(new UpdateVoiceConnectorGroupCommand({ VoiceConnectorGroupId: groupId, Name: current.Name, VoiceConnectorItems: [] }));
          log.info('removed the voice connectors before deleting', { groupId, items: current.VoiceConnectorItems?.length });
        }
        await client.send(new DeleteVoiceConnectorGroupCommand({ VoiceConnectorGroupId: groupId }));
        log.info('deleted', { groupId });
      } catch (error) {
        const code = codeOf(error);
        // Already gone (deleted by hand, or a repeated Delete): the desired end state holds.
        if (code === 'NotFoundException') {
          log.warn('already gone', { groupId });
        } else if (code === 'ConflictException') {
          throw new Error(
            `Voice connector group ${groupId} still has phone numbers bound to it, so it can not be deleted (ConflictException). ` +
            'Unbind them first: remove them from the VoiceConnectorGroupPhoneNumbers that declare them (in another stack: deploy or destroy ' +
            'that stack first), or unbind numbers bound by hand with `aws chime-sdk-voice disassociate-phone-numbers-from-voice-connector-group ' +
            `--voice-connector-group-id ${groupId} --e164-phone-numbers <numbers>` +
            '`; then retry the deletion. To keep the group, set removalPolicy: RemovalPolicy.RETAIN on the VoiceConnectorGroup.',
          );
        } else {
          throw new Error(`Could not delete voice connector group ${groupId}: ${code}: ${messageOf(error)}. ${advice(code)}`);
        }
      }
      return { PhysicalResourceId: groupId, Data: {} };
    }
  }
}

/** How long after its creation a group of the declared name counts as this event's own. */
export const OWN_GROUP_WINDOW_MS = 60 * 60_000;

export function isRecent(group: VoiceConnectorGroup): boolean {
  const created = group.CreatedTimestamp ? new Date(group.CreatedTimestamp).getTime() : NaN;
  return Number.isFinite(created) && Date.now() - created < OWN_GROUP_WINDOW_MS;
}

async function findByName(client: ChimeSDKVoiceClient, name: string): Promise<VoiceConnectorGroup | undefined> {
  let nextToken: string | undefined;
  do {
    const page = await client.send(new ListVoiceConnectorGroupsCommand({ MaxResults: 99, NextToken: nextToken }));
    const found = (page.VoiceConnectorGroups ?? []).find((g) => g.Name === name);
    if (found) return found;
    nextToken = page.NextToken;
  } while (nextToken);
  return undefined;
}

function response(group: VoiceConnectorGroup, groupId = group.VoiceConnectorGroupId): GroupResponse {
  const id = required(groupId, 'the response');
  return {
    PhysicalResourceId: id,
    Data: { [GroupAttr.GROUP_ID]: id, [GroupAttr.GROUP_ARN]: group.VoiceConnectorGroupArn ?? '' },
  };
}

async function call<T>(send: () => Promise<T>, describe: (code: string, message: string) => string): Promise<T> {
  try {
    return await send();
  } catch (error) {
    throw new Error(describe(codeOf(error), messageOf(error)));
  }
}

function required<T>(value: T | undefined, source: string): T {
  if (value === undefined) throw new Error(`The Chime SDK Voice answer to ${source} has no voice connector group; retry the deployment.`);
  return value;
}

function codeOf(error: unknown): string {
  return (error as { name?: string })?.name ?? 'Error';
}

function messageOf(error: unknown): string {
  return (error as { message?: string })?.message ?? String(error);
}

function advice(code: string, spec?: GroupSpec): string {
  switch (code) {
    case 'BadRequestException':
    case 'NotFoundException':
      return spec && spec.items.length > 0
        ? `Check that every voice connector (${spec.items.map((i) => i.VoiceConnectorId).join(', ')}) exists in this account and region, then deploy again.`
        : 'Check the group properties against the Chime SDK Voice limits, then deploy again.';
    case 'ForbiddenException':
    case 'AccessDeniedException':
    case 'UnauthorizedClientException':
      return "The handler's role lacks a chime: permission or the account is not enabled for Chime SDK Voice; check the role and any SCP.";
    case 'ResourceLimitExceededException':
      return 'The account has reached its voice connector group quota: delete an unused group or ask AWS Support for a higher quota.';
    case 'ThrottledClientException':
    case 'ServiceFailureException':
    case 'ServiceUnavailableException':
      return 'The service stayed unavailable through every retry; deploy again later.';
    default:
      return 'Deploy again; if it keeps failing, check the Chime SDK Voice service health.';
  }
}
