import type {
  CloudFormationCustomResourceCreateEvent,
  CloudFormationCustomResourceDeleteEvent,
  CloudFormationCustomResourceUpdateEvent,
} from 'aws-lambda';
import type { GroupObservation, Observations } from '../../lambda/plan';
import type { BindingSpec } from '../../lambda/request';
import { Prop } from '../../src/binding-properties';

export const SERVICE_TOKEN = 'arn:aws:lambda:us-east-1:111111111111:function:provider';
export const LOGICAL_ID = 'Bindings';
export const GROUP_A = 'vcg-aaaa';
export const GROUP_B = 'vcg-bbbb';

/** `count` distinct E.164 numbers starting at `+1206555` + `start` (zero padded to 4 digits). */
export function numbers(count: number, start = 0): string[] {
  return Array.from({ length: count }, (_, i) => phone(start + i));
}

export function phone(i: number): string {
  return `+1206555${String(i).padStart(4, '0')}`;
}

export interface PropsInput {
  readonly group?: string;
  readonly numbers: readonly string[];
  readonly force?: boolean | string;
  readonly peers?: readonly string[];
  readonly schema?: string;
}

/** Resource properties as CloudFormation delivers them (booleans as strings). */
export function props(input: PropsInput): Record<string, unknown> {
  return {
    ServiceToken: SERVICE_TOKEN,
    [Prop.SCHEMA_VERSION]: input.schema ?? '1',
    [Prop.GROUP_ID]: input.group ?? GROUP_A,
    [Prop.PHONE_NUMBERS]: [...input.numbers],
    [Prop.FORCE_ASSOCIATE]: input.force === undefined ? 'false' : String(input.force),
    ...(input.peers ? { [Prop.PEER_PHONE_NUMBERS]: [...input.peers] } : {}),
  };
}

const COMMON = {
  ServiceToken: SERVICE_TOKEN,
  ResponseURL: 'https://cloudformation-custom-resource-response.example/presigned',
  StackId: 'arn:aws:cloudformation:us-east-1:111111111111:stack/demo/00000000-0000-0000-0000-000000000000',
  RequestId: 'request-1',
  ResourceType: 'Custom::VoiceConnectorGroupPhoneNumbers',
};

export function createEvent(properties: Record<string, unknown>, logicalId = LOGICAL_ID): CloudFormationCustomResourceCreateEvent {
  return { ...COMMON, RequestType: 'Create', LogicalResourceId: logicalId, ResourceProperties: withToken(properties) };
}

export function updateEvent(
  properties: Record<string, unknown>,
  oldProperties: Record<string, unknown>,
  physicalId: string,
  logicalId = LOGICAL_ID,
): CloudFormationCustomResourceUpdateEvent {
  return {
    ...COMMON,
    RequestType: 'Update',
    LogicalResourceId: logicalId,
    PhysicalResourceId: physicalId,
    ResourceProperties: withToken(properties),
    OldResourceProperties: withToken(oldProperties),
  };
}

export function deleteEvent(
  properties: Record<string, unknown>,
  physicalId: string,
  logicalId = LOGICAL_ID,
): CloudFormationCustomResourceDeleteEvent {
  return { ...COMMON, RequestType: 'Delete', LogicalResourceId: logicalId, PhysicalResourceId: physicalId, ResourceProperties: withToken(properties) };
}

function withToken(properties: Record<string, unknown>): { ServiceToken: string } & Record<string, unknown> {
  return { ServiceToken: SERVICE_TOKEN, ...properties };
}

export function spec(input: { group?: string; numbers: readonly string[]; force?: boolean; peers?: readonly string[] }): BindingSpec {
  return {
    groupId: input.group ?? GROUP_A,
    numbers: [...input.numbers],
    forceAssociate: input.force ?? false,
    peerNumbers: new Set(input.peers ?? []),
  };
}

/** Observations as the reader would report them: group -> which numbers are bound to it. */
export function observations(groups: Record<string, readonly string[] | 'missing'>): Observations {
  const map = new Map<string, GroupObservation>();
  for (const [groupId, bound] of Object.entries(groups)) {
    map.set(groupId, bound === 'missing' ? { exists: false, bound: new Set() } : { exists: true, bound: new Set(bound) });
  }
  return map;
}
