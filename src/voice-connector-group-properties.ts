/**
 * The contract between the `VoiceConnectorGroup` construct (which renders these properties into the
 * template) and the group handler (which reads them back from the CloudFormation event). Both sides
 * import this module, so a renamed or retyped property breaks the build instead of a deployment.
 *
 * This module is internal: it is not exported from the package entry point.
 */

/** CloudFormation resource type of every group resource this library renders. */
export const GROUP_RESOURCE_TYPE = 'Custom::VoiceConnectorGroup';

/** Version of the property shape; the handler accepts every version in `SUPPORTED_GROUP_SCHEMA_VERSIONS`. */
export const GROUP_SCHEMA_VERSION = '1';
export const SUPPORTED_GROUP_SCHEMA_VERSIONS: readonly string[] = ['1'];

/** Property names, as they appear in the template and in the event (the API's own names, where it has one). */
export const GroupProp = {
  SCHEMA_VERSION: 'SchemaVersion',
  NAME: 'Name',
  VOICE_CONNECTOR_ITEMS: 'VoiceConnectorItems',
  CALL_DISTRIBUTION_TYPE: 'CallDistributionType',
} as const;

/** One voice connector of the group, as rendered. CloudFormation delivers `Priority` as a string. */
export interface RenderedVoiceConnectorItem {
  readonly VoiceConnectorId: string;
  readonly Priority: number | string;
}

/** Properties as the construct renders them. */
export interface GroupResourceProperties {
  readonly [GroupProp.SCHEMA_VERSION]: string;
  readonly [GroupProp.NAME]: string;
  readonly [GroupProp.VOICE_CONNECTOR_ITEMS]: RenderedVoiceConnectorItem[];
  /** Omitted when not declared: the service then uses (and an update keeps) its own setting. */
  readonly [GroupProp.CALL_DISTRIBUTION_TYPE]?: string;
}

/** Attributes the handler returns in `Data`, readable with `Fn::GetAtt`. */
export const GroupAttr = {
  GROUP_ID: 'VoiceConnectorGroupId',
  GROUP_ARN: 'VoiceConnectorGroupArn',
} as const;

/** The API model's rules for a group name. */
export const GROUP_NAME_PATTERN = /^[a-zA-Z0-9 _.-]+$/;
export const GROUP_NAME_MAX_LENGTH = 256;

/** The API's limits for voice connector items. */
export const MAX_VOICE_CONNECTOR_ITEMS = 3;
export const MIN_PRIORITY = 1;
export const MAX_PRIORITY = 99;

/** The values `CallDistributionType` takes in the API. */
export const CALL_DISTRIBUTION_TYPES: readonly string[] = ['LoadBalancedDistribution', 'PriorityWeightedDistribution'];
