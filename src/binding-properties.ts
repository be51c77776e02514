/**
 * The contract between the construct (which renders these properties into the template) and the
 * reconciling Lambda handler (which reads them back from the CloudFormation event). Both sides import
 * this module, so a renamed or retyped property breaks the build instead of a deployment.
 *
 * This module is internal: it is not exported from the package entry point.
 */

/** CloudFormation resource type of every binding resource this library renders. */
export const BINDING_RESOURCE_TYPE = 'Custom::VoiceConnectorGroupPhoneNumbers';

/**
 * Version of the property shape. The handler accepts every version listed in
 * `SUPPORTED_SCHEMA_VERSIONS`, so a rollback or Delete that carries properties rendered by an older
 * release of this library still works.
 */
export const SCHEMA_VERSION = '1';
export const SUPPORTED_SCHEMA_VERSIONS: readonly string[] = ['1'];

/** Property names, as they appear in the template and in the event. */
export const Prop = {
  SCHEMA_VERSION: 'SchemaVersion',
  GROUP_ID: 'VoiceConnectorGroupId',
  PHONE_NUMBERS: 'E164PhoneNumbers',
  FORCE_ASSOCIATE: 'ForceAssociate',
  PEER_PHONE_NUMBERS: 'PeerPhoneNumbers',
  /** `"EVERY_DEPLOY"` when the resource repairs drift on every deploy; omitted for on-change (the default). */
  RECONCILE: 'Reconcile',
  /** Changes on every synth, so CloudFormation sends an Update on every deploy; only with `Reconcile`. */
  DEPLOY_NONCE: 'DeployNonce',
  /** `"true"` when the group must hold exactly the stack's declared numbers; omitted otherwise. */
  EXCLUSIVE: 'Exclusive',
} as const;

/** The `Reconcile` value that makes every deploy read and repair the bindings. */
export const RECONCILE_EVERY_DEPLOY = 'EVERY_DEPLOY';

/**
 * Properties as the construct renders them. CloudFormation delivers every scalar to the handler as a
 * string, so `ForceAssociate` arrives as `"true"` or `"false"`.
 */
export interface BindingResourceProperties {
  readonly [Prop.SCHEMA_VERSION]: string;
  readonly [Prop.GROUP_ID]: string;
  readonly [Prop.PHONE_NUMBERS]: string[];
  readonly [Prop.FORCE_ASSOCIATE]: boolean | 'true' | 'false';
  /**
   * Numbers that other binding resources of the same stack declare for the same group. A number removed
   * from this resource but listed here has moved to a sibling in the same deploy: it stays bound.
   * Omitted when the resource has no sibling on its group.
   */
  readonly [Prop.PEER_PHONE_NUMBERS]?: string[];
  readonly [Prop.RECONCILE]?: string;
  readonly [Prop.DEPLOY_NONCE]?: string;
  readonly [Prop.EXCLUSIVE]?: boolean | 'true' | 'false';
}

/** Attributes the handler returns in `Data` (counts only: CloudFormation caps the response at 4 KB). */
export const Attr = {
  GROUP_ID: 'VoiceConnectorGroupId',
  DECLARED_COUNT: 'DeclaredCount',
  ASSOCIATED_COUNT: 'AssociatedCount',
  DISASSOCIATED_COUNT: 'DisassociatedCount',
  UNCHANGED_COUNT: 'UnchangedCount',
  /** Only for resources that repair drift (every deploy, or exclusive): declared numbers found unbound and bound again. */
  DRIFT_REBOUND_COUNT: 'DriftReboundCount',
  /** Numbers found on the group that nothing declared, unbound (exclusive resources only). */
  DRIFT_UNBOUND_COUNT: 'DriftUnboundCount',
  /** Drifted numbers left as found: bound elsewhere without forceAssociate. */
  DRIFT_NOT_REPAIRED_COUNT: 'DriftNotRepairedCount',
} as const;

/**
 * Event shape of a scheduled drift check (the EventBridge rule's input to the checker function, which runs
 * the same bundled handler). The declared set is not in the event: the checker reads it from the binding
 * resource's properties in its own stack's deployed template (cloudformation:GetTemplate).
 */
export const DRIFT_CHECK_KEY = 'DriftCheck';
export interface DriftCheckInput {
  /** ARN of the stack holding the binding resource. */
  readonly StackId: string;
  /** Logical id of the binding resource. */
  readonly LogicalId: string;
  /** The group id, resolved by CloudFormation (it may be a token in the template). */
  readonly VoiceConnectorGroupId: string;
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
 * How long one deployment of a binding resource may take, across the handler's first invocation and
 * the Provider framework's completion checks. The provider's own total timeout is a little longer, and
 * both stay inside CloudFormation's one-hour limit for custom resources, so the handler always gets to
 * undo its work and report which numbers were left before CloudFormation gives up on it.
 */
export const RECONCILE_TIME_LIMIT_MINUTES = 50;

/** Key of the handler's private progress record in the onEvent result, which the framework passes to isComplete. */
export const CHECKPOINT_KEY = 'Reconciliation';
