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
} as const;

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
}

/** Attributes the handler returns in `Data` (counts only: CloudFormation caps the response at 4 KB). */
export const Attr = {
  GROUP_ID: 'VoiceConnectorGroupId',
  DECLARED_COUNT: 'DeclaredCount',
  ASSOCIATED_COUNT: 'AssociatedCount',
  DISASSOCIATED_COUNT: 'DisassociatedCount',
  UNCHANGED_COUNT: 'UnchangedCount',
} as const;

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
