/**
 * The contract between the constructs (which render these properties into the template) and the
 * reconciling Lambda handler (which reads them back from the CloudFormation event). Both sides import
 * this module, so a renamed or retyped property breaks the build instead of a deployment.
 *
 * This module is internal: it is not exported from the package entry point.
 */
import { createHash } from 'crypto';

/** CloudFormation resource type of every binding resource this library renders. */
export const BINDING_RESOURCE_TYPE = 'Custom::VoiceConnectorGroupPhoneNumbers';

/**
 * Version of the property shape. Version 2 is the sharded one: a binding resource holds every number of
 * its stack that hashes to its shard, whichever construct declares it.
 */
export const SCHEMA_VERSION = '2';
export const SUPPORTED_SCHEMA_VERSIONS: readonly string[] = ['2'];

/**
 * How many binding resources a stack's numbers are spread over, by `shardOf`. Released, it never
 * changes: a different count or hash would move numbers between owners, and CloudFormation would then
 * create one owner and delete the other, in whichever order it likes.
 */
export const SHARD_COUNT = 64;

/**
 * The shard that owns a number: the first four bytes of the SHA-256 of its `+` E.164 form, modulo
 * `SHARD_COUNT`. It depends on the number alone, so a number keeps its owner through every refactor of
 * the stack code (renames, moves between constructs, group changes).
 */
export function shardOf(e164: string): number {
  return createHash('sha256').update(normalizeE164(e164)).digest().readUInt32BE(0) % SHARD_COUNT;
}

/** Logical id of a shard's binding resource: fixed per shard, never derived from a construct path. */
export function shardLogicalId(shard: number): string {
  return `VoiceConnectorGroupPhoneNumberBindings${String(shard).padStart(2, '0')}`;
}

/** Properties of a binding resource, as they appear in the template and in the event. */
export const Prop = {
  SCHEMA_VERSION: 'SchemaVersion',
  /** The shard's index, as a decimal string. */
  SHARD: 'Shard',
  /** The declarations whose numbers hash to this shard: a list of `BindingEntry`. */
  BINDINGS: 'Bindings',
  /**
   * Ids of the stack's exclusive groups (every shard gets them): a number on one of these groups that the
   * stack does not declare for it, and that hashes to this shard, is unbound. Omitted when there are none.
   */
  EXCLUSIVE_GROUPS: 'ExclusiveGroups',
  /** Changes on every synth, so CloudFormation sends an Update on every deploy; only in shards with an every-deploy entry. */
  DEPLOY_NONCE: 'DeployNonce',
} as const;

/** Properties of one entry of `Bindings`: numbers that share a group and the same per-construct options. */
export const EntryProp = {
  GROUP_ID: 'VoiceConnectorGroupId',
  PHONE_NUMBERS: 'E164PhoneNumbers',
  /** `"true"` when numbers bound elsewhere may be taken; omitted otherwise. */
  FORCE_ASSOCIATE: 'ForceAssociate',
  /** `"true"` when the numbers stay bound once the stack stops declaring them; omitted otherwise. */
  RETAIN: 'Retain',
  /** `"EVERY_DEPLOY"` when every deploy reads and repairs these numbers; omitted for on-change. */
  RECONCILE: 'Reconcile',
  /**
   * `"true"` for a token list: every shard gets the whole list and keeps the numbers that hash to it.
   * Literal lists are split at synth and hold only this shard's numbers.
   */
  SHARD_FILTERED: 'ShardFiltered',
} as const;

/** The `Reconcile` value that makes every deploy read and repair the bindings. */
export const RECONCILE_EVERY_DEPLOY = 'EVERY_DEPLOY';

/** One entry of a binding resource's `Bindings`, as the construct renders it. */
export interface BindingEntry {
  readonly [EntryProp.GROUP_ID]: string;
  readonly [EntryProp.PHONE_NUMBERS]: string[];
  readonly [EntryProp.FORCE_ASSOCIATE]?: 'true';
  readonly [EntryProp.RETAIN]?: 'true';
  readonly [EntryProp.RECONCILE]?: typeof RECONCILE_EVERY_DEPLOY;
  readonly [EntryProp.SHARD_FILTERED]?: 'true';
}

/** Properties of a binding resource, as the construct renders them. */
export interface BindingResourceProperties {
  readonly [Prop.SCHEMA_VERSION]: string;
  readonly [Prop.SHARD]: string;
  readonly [Prop.BINDINGS]: BindingEntry[];
  readonly [Prop.EXCLUSIVE_GROUPS]?: string[];
  readonly [Prop.DEPLOY_NONCE]?: string;
}

/** Attributes the handler returns in `Data` (counts only: CloudFormation caps the response at 4 KB). */
export const Attr = {
  SHARD: 'Shard',
  DECLARED_COUNT: 'DeclaredCount',
  ASSOCIATED_COUNT: 'AssociatedCount',
  DISASSOCIATED_COUNT: 'DisassociatedCount',
  UNCHANGED_COUNT: 'UnchangedCount',
  /** Numbers the stack stopped declaring that stay bound because they were declared with RemovalPolicy.RETAIN. */
  RETAINED_COUNT: 'RetainedCount',
  /** Declared numbers found unbound and bound again (every-deploy entries). */
  DRIFT_REBOUND_COUNT: 'DriftReboundCount',
  /** Numbers found on an exclusive group that the stack does not declare for it, unbound. */
  DRIFT_UNBOUND_COUNT: 'DriftUnboundCount',
  /** Drifted numbers left as found: bound elsewhere without forceAssociate. */
  DRIFT_NOT_REPAIRED_COUNT: 'DriftNotRepairedCount',
  /** A rollback: numbers put back where they were before the failed deploy. */
  RESTORED_COUNT: 'RestoredCount',
  /** A rollback: numbers it could not put back (each is named in the log, with where it is). */
  NOT_RESTORED_COUNT: 'NotRestoredCount',
} as const;

/**
 * Event shape of a scheduled drift check (the EventBridge rule's input to the checker function). The
 * declared numbers are not in the event: the checker reads them from the binding resources in its own
 * stack's deployed template (cloudformation:GetTemplate).
 */
export const DRIFT_CHECK_KEY = 'DriftCheck';
export interface DriftCheckInput {
  /** ARN of the stack holding the binding resources. */
  readonly StackId: string;
  /** The group to check, resolved by CloudFormation (it may be a token in the template). */
  readonly VoiceConnectorGroupId: string;
  /**
   * Every group id the template's binding entries use, as written there (canonical JSON of a literal or
   * an intrinsic) with what CloudFormation resolved it to, so the checker finds the entries of its group
   * however each names it.
   */
  readonly GroupKeys: ReadonlyArray<{ readonly Key: string; readonly Id: string }>;
  /** Repair what is found, or only report it. */
  readonly Repair: boolean;
}

/** CloudWatch metric the drift check publishes (Embedded Metric Format). */
export const DRIFT_METRIC_NAMESPACE = 'ChimeVoiceConnectorGroups';
export const DRIFT_METRIC_NAME = 'DriftedPhoneNumbers';
export const DRIFT_METRIC_DIMENSION = 'VoiceConnectorGroupId';

/** E.164 as the Chime SDK Voice API model defines it; the `+` is optional on the wire. */
export const E164_PATTERN = /^\+?[1-9]\d{1,14}$/;

/** The canonical form of a valid E.164 number: with its leading `+`. */
export function normalizeE164(value: string): string {
  return value.startsWith('+') ? value : `+${value}`;
}

/**
 * Canonical JSON of a template value (object keys sorted), so that one group id written twice the same
 * way compares equal, in the construct (tokens resolved to their intrinsics) and in the drift check
 * (the deployed template).
 */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

/**
 * Time limits of one deployment of a binding resource, from its first invocation, across the Provider
 * framework's completion checks. CloudFormation gives a custom resource `SERVICE_TIMEOUT_MINUTES` (set
 * explicitly on every binding resource); the handler stops starting forward work at the first limit,
 * must have undone a failed attempt by the second, and answers by the third, so every path ends before
 * CloudFormation gives up, and before the framework's waiter, whose total timeout counts attempts rather
 * than time, could time out (its timeout path cannot read events over 32,768 characters).
 */
export const SERVICE_TIMEOUT_MINUTES = 60;
export const FORWARD_LIMIT_MINUTES = 44;
export const UNDO_LIMIT_MINUTES = 52;
export const ANSWER_LIMIT_MINUTES = 55;

/** Key of the handler's private progress record in the onEvent result, which the framework passes to isComplete. */
export const CHECKPOINT_KEY = 'Reconciliation';

/** Environment variable naming the logical id of the Provider framework's waiter state machine in the stack. */
export const WAITER_LOGICAL_ID_ENV = 'WAITER_LOGICAL_ID';
