import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import {
  CALL_DISTRIBUTION_TYPES, GroupProp, MAX_PRIORITY, MIN_PRIORITY, SUPPORTED_GROUP_SCHEMA_VERSIONS,
} from '../../src/voice-connector-group-properties';

/** What one group resource declares, parsed. */
export interface GroupSpec {
  readonly name: string;
  readonly items: ReadonlyArray<{ readonly VoiceConnectorId: string; readonly Priority: number }>;
  /** `undefined`: not declared, so the service's setting is left alone. */
  readonly callDistributionType: string | undefined;
}

export type GroupRequest =
  | { readonly type: 'Create'; readonly logicalId: string; readonly desired: GroupSpec }
  | { readonly type: 'Update'; readonly logicalId: string; readonly groupId: string; readonly desired: GroupSpec }
  | { readonly type: 'Delete'; readonly logicalId: string; readonly groupId: string };

/** Bad properties: the deployment cannot proceed until the stack code is fixed. */
export class InvalidGroupPropertiesError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidGroupPropertiesError';
  }
}

/**
 * Parses a CloudFormation custom-resource event into a typed request. The physical id is the group id,
 * so Update and Delete need nothing else from the event to find the group; Delete reads no properties
 * at all, so properties that no longer parse can never block a stack deletion.
 */
export function parseGroupRequest(event: CloudFormationCustomResourceEvent): GroupRequest {
  const logicalId = event.LogicalResourceId;
  switch (event.RequestType) {
    case 'Create':
      return { type: 'Create', logicalId, desired: parseGroupSpec(event.ResourceProperties) };
    case 'Update':
      return { type: 'Update', logicalId, groupId: event.PhysicalResourceId, desired: parseGroupSpec(event.ResourceProperties) };
    case 'Delete':
      return { type: 'Delete', logicalId, groupId: event.PhysicalResourceId };
    default:
      throw new InvalidGroupPropertiesError(`Unknown RequestType ${JSON.stringify((event as { RequestType?: unknown }).RequestType)}`);
  }
}

export function parseGroupSpec(properties: Record<string, unknown> | undefined): GroupSpec {
  const props = properties ?? {};
  const version = props[GroupProp.SCHEMA_VERSION];
  if (typeof version !== 'string' || !SUPPORTED_GROUP_SCHEMA_VERSIONS.includes(version)) {
    throw new InvalidGroupPropertiesError(
      `${GroupProp.SCHEMA_VERSION} ${JSON.stringify(version)} is not one this handler reads (${SUPPORTED_GROUP_SCHEMA_VERSIONS.join(', ')}). ` +
      'The template was rendered by a newer cdk-chime-voice-connector-groups: deploy with that version.',
    );
  }
  const name = props[GroupProp.NAME];
  if (typeof name !== 'string' || name === '') {
    throw new InvalidGroupPropertiesError(`${GroupProp.NAME} must be a non-empty string, got ${JSON.stringify(name)}.`);
  }
  const rawItems = props[GroupProp.VOICE_CONNECTOR_ITEMS] ?? [];
  if (!Array.isArray(rawItems)) {
    throw new InvalidGroupPropertiesError(`${GroupProp.VOICE_CONNECTOR_ITEMS} must be a list, got ${JSON.stringify(rawItems)}.`);
  }
  const items = rawItems.map((raw: unknown, index: number) => {
    const item = (raw ?? {}) as Record<string, unknown>;
    const id = item.VoiceConnectorId;
    // CloudFormation delivers numbers as strings; accept both.
    const priority = typeof item.Priority === 'string' && /^\d+$/.test(item.Priority) ? Number(item.Priority) : item.Priority;
    if (typeof id !== 'string' || id === '') {
      throw new InvalidGroupPropertiesError(`${GroupProp.VOICE_CONNECTOR_ITEMS}[${index}].VoiceConnectorId must be a non-empty string, got ${JSON.stringify(id)}.`);
    }
    if (typeof priority !== 'number' || !Number.isInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
      throw new InvalidGroupPropertiesError(
        `${GroupProp.VOICE_CONNECTOR_ITEMS}[${index}].Priority of voice connector ${id} must be an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY}, ` +
        `got ${JSON.stringify(item.Priority)}.`,
      );
    }
    return { VoiceConnectorId: id, Priority: priority };
  });
  const distribution = props[GroupProp.CALL_DISTRIBUTION_TYPE];
  if (distribution !== undefined && (typeof distribution !== 'string' || !CALL_DISTRIBUTION_TYPES.includes(distribution))) {
    throw new InvalidGroupPropertiesError(
      `${GroupProp.CALL_DISTRIBUTION_TYPE} must be one of ${CALL_DISTRIBUTION_TYPES.join(', ')}, got ${JSON.stringify(distribution)}.`,
    );
  }
  return { name, items, callDistributionType: distribution };
}
