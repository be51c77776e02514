import type {
  CloudFormationCustomResourceCreateEvent,
  CloudFormationCustomResourceDeleteEvent,
  CloudFormationCustomResourceUpdateEvent,
} from 'aws-lambda';
import type { Dependencies } from '../../lambda/phone-numbers/index';
import type { HandlerSettings } from '../../lambda/phone-numbers/settings';
import type { StackReader, WaiterExecution, WaiterReader } from '../../lambda/shared/control-plane';
import { createLogger } from '../../lambda/shared/log';
import { EntryProp, Prop, shardLogicalId, shardOf } from '../../src/binding-properties';

export const SERVICE_TOKEN = 'arn:aws:lambda:us-east-1:111111111111:function:provider';
export const STACK_ID = 'arn:aws:cloudformation:us-east-1:111111111111:stack/demo/00000000-0000-0000-0000-000000000000';
export const GROUP_A = 'vcg-aaaa';
export const GROUP_B = 'vcg-bbbb';
/** The shard the unit tests use; `numbers` gives numbers that hash to it. */
export const SHARD = 5;
export const LOGICAL_ID = shardLogicalId(SHARD);

export function phone(i: number): string {
  return `+1206555${String(i).padStart(4, '0')}`;
}

/** `count` distinct E.164 numbers of `shard`, the n-th call giving the same numbers. */
export function numbers(count: number, start = 0, shard = SHARD): string[] {
  const found: string[] = [];
  for (let i = 0; found.length < start + count; i++) {
    if (shardOf(phone(i)) === shard) found.push(phone(i));
  }
  return found.slice(start);
}

export interface EntryInput {
  readonly group?: string;
  readonly numbers: readonly string[];
  readonly force?: boolean;
  readonly retain?: boolean;
  readonly everyDeploy?: boolean;
  readonly filtered?: boolean;
}

/** A shard's resource properties as CloudFormation delivers them. */
export function props(
  entries: readonly EntryInput[], options: { shard?: number; exclusive?: readonly string[]; schema?: string } = {},
): Record<string, unknown> {
  return {
    ServiceToken: SERVICE_TOKEN,
    [Prop.SCHEMA_VERSION]: options.schema ?? '2',
    [Prop.SHARD]: String(options.shard ?? SHARD),
    [Prop.BINDINGS]: entries.map((e) => ({
      [EntryProp.GROUP_ID]: e.group ?? GROUP_A,
      [EntryProp.PHONE_NUMBERS]: [...e.numbers],
      ...(e.force ? { [EntryProp.FORCE_ASSOCIATE]: 'true' } : {}),
      ...(e.retain ? { [EntryProp.RETAIN]: 'true' } : {}),
      ...(e.everyDeploy ? { [EntryProp.RECONCILE]: 'EVERY_DEPLOY' } : {}),
      ...(e.filtered ? { [EntryProp.SHARD_FILTERED]: 'true' } : {}),
    })),
    ...(options.exclusive ? { [Prop.EXCLUSIVE_GROUPS]: [...options.exclusive] } : {}),
  };
}

const COMMON = {
  ServiceToken: SERVICE_TOKEN,
  ResponseURL: 'https://cloudformation-custom-resource-response.example/presigned',
  StackId: STACK_ID,
  ResourceType: 'Custom::VoiceConnectorGroupPhoneNumbers',
};

let requests = 0;
function requestId(): string {
  return `request-${++requests}`;
}

export function createEvent(properties: Record<string, unknown>, logicalId = LOGICAL_ID): CloudFormationCustomResourceCreateEvent {
  return { ...COMMON, RequestId: requestId(), RequestType: 'Create', LogicalResourceId: logicalId, ResourceProperties: withToken(properties) };
}

export function updateEvent(
  properties: Record<string, unknown>, oldProperties: Record<string, unknown>, physicalId: string, logicalId = LOGICAL_ID,
): CloudFormationCustomResourceUpdateEvent {
  return {
    ...COMMON,
    RequestId: requestId(),
    RequestType: 'Update',
    LogicalResourceId: logicalId,
    PhysicalResourceId: physicalId,
    ResourceProperties: withToken(properties),
    OldResourceProperties: withToken(oldProperties),
  };
}

export function deleteEvent(
  properties: Record<string, unknown>, physicalId: string, logicalId = LOGICAL_ID,
): CloudFormationCustomResourceDeleteEvent {
  return { ...COMMON, RequestId: requestId(), RequestType: 'Delete', LogicalResourceId: logicalId, PhysicalResourceId: physicalId, ResourceProperties: withToken(properties) };
}

function withToken(properties: Record<string, unknown>): { ServiceToken: string } & Record<string, unknown> {
  return { ServiceToken: SERVICE_TOKEN, ...properties };
}

/** What the stub control plane answers: the stack's status, current physical ids, the waiter's executions. */
export class StubControlPlane implements StackReader, WaiterReader {
  public status = 'UPDATE_IN_PROGRESS';
  public readonly physicalIds = new Map<string, string>();
  public readonly executions: WaiterExecution[] = [];
  public readonly calls: string[] = [];

  public async describeStack(): Promise<{ status: string }> {
    this.calls.push('DescribeStacks');
    return { status: this.status };
  }

  public async physicalIdOf(_stackId: string, logicalId: string): Promise<string | undefined> {
    this.calls.push(`DescribeStackResource ${logicalId}`);
    return logicalId === 'Waiter' ? 'arn:aws:states:us-east-1:111111111111:stateMachine:waiter' : this.physicalIds.get(logicalId);
  }

  public async getTemplate(): Promise<Record<string, unknown>> {
    return {};
  }

  public async describeExecution(_arn: string, name: string): Promise<WaiterExecution | undefined> {
    return this.executions.find((e) => e.name === name);
  }

  public async runningExecutions(): Promise<WaiterExecution[]> {
    return this.executions.filter((e) => e.status === 'RUNNING');
  }

  public async findExecution(_arn: string, match: (e: WaiterExecution) => boolean, max: number): Promise<WaiterExecution | undefined> {
    return [...this.executions].reverse().slice(0, max).find(match);
  }
}

export const quietSettings: HandlerSettings = {
  batchSize: 10,
  concurrency: 4,
  numberAttempts: 3,
  log: createLogger('ERROR', () => undefined),
  retryTiming: { baseDelayMs: 1, maxDelayMs: 2, sleep: async () => undefined, random: () => 0 },
};

/** Dependencies over a fake Chime client and a stub control plane. */
export function dependencies(client: unknown, plane: StubControlPlane, settings: Partial<HandlerSettings> = {}): Dependencies {
  return {
    chime: () => client as never,
    stacks: plane,
    executions: plane,
    settings: { ...quietSettings, ...settings },
    env: { AWS_REGION: 'us-east-1', WAITER_LOGICAL_ID: 'Waiter' },
  };
}
