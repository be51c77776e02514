import { Annotations, CustomResource, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';
import { VoiceConnectorGroupPhoneNumbers } from './voice-connector-group-phone-numbers';
import {
  GROUP_NAME_MAX_LENGTH, GROUP_NAME_PATTERN, GROUP_RESOURCE_TYPE, GROUP_SCHEMA_VERSION, GroupAttr, GroupProp, MAX_PRIORITY,
  MAX_VOICE_CONNECTOR_ITEMS, MIN_PRIORITY, type GroupResourceProperties, type RenderedVoiceConnectorItem,
} from './voice-connector-group-properties';
import { VoiceConnectorGroupProvider } from './voice-connector-group-provider';

/**
 * A voice connector that a group routes inbound calls to, with its priority.
 */
export interface VoiceConnectorItem {
  /**
   * Id of the Amazon Chime SDK Voice Connector. May be a token.
   */
  readonly voiceConnectorId: string;

  /**
   * Priority of the voice connector in the group, from 1 (highest) to 99.
   *
   * Calls are routed in priority order; voice connectors of equal priority share the calls.
   */
  readonly priority: number;
}

/**
 * How a group spreads inbound calls over its voice connectors.
 */
export enum CallDistributionType {
  /** Spread calls evenly over the voice connectors. */
  LOAD_BALANCED = 'LoadBalancedDistribution',
  /** Route calls in priority order, weighting voice connectors of equal priority. */
  PRIORITY_WEIGHTED = 'PriorityWeightedDistribution',
}

/**
 * Properties of a `VoiceConnectorGroup`.
 */
export interface VoiceConnectorGroupProps {
  /**
   * Name of the group: 1 to 256 letters, digits, spaces, `_`, `.` or `-`.
   *
   * Renaming updates the group in place; its id and its bound numbers stay.
   */
  readonly name: string;

  /**
   * Voice connectors the group routes inbound calls to, at most 3, each with a priority from 1 to 99.
   *
   * Changing the list updates the group in place.
   *
   * @default - The group routes to no voice connector until some are added
   */
  readonly voiceConnectors?: VoiceConnectorItem[];

  /**
   * How the group spreads inbound calls over its voice connectors.
   *
   * Removing the setting later leaves the group's current setting as it is.
   *
   * @default - The service's default distribution
   */
  readonly callDistributionType?: CallDistributionType;

  /**
   * What happens to the group when it is removed from the stack or the stack is deleted.
   *
   * `RemovalPolicy.DESTROY` deletes the group; that fails, naming the group, while phone numbers are
   * still bound to it by anything other than this stack. `RemovalPolicy.RETAIN` keeps the group.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Options for binding phone numbers with `addPhoneNumbers`.
 */
export interface AddPhoneNumbersOptions {
  /**
   * Whether to take a number that is bound to another voice connector or group.
   *
   * @default false
   */
  readonly forceAssociate?: boolean;

  /**
   * What happens to the bindings when they are removed from the stack or the stack is deleted.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * An Amazon Chime SDK Voice Connector group, created by this app or imported by id.
 */
export interface IVoiceConnectorGroup extends IConstruct {
  /**
   * Id of the voice connector group.
   *
   * @attribute
   */
  readonly voiceConnectorGroupId: string;

  /**
   * Binds phone numbers to this group.
   *
   * The returned `VoiceConnectorGroupPhoneNumbers` is created as a child of this group construct, so it
   * lives in the group's stack (for an imported group: the stack it was imported into). For a group
   * created by this app, the numbers depend on the group, so CloudFormation unbinds them before it
   * deletes the group. To bind numbers from another stack, call `fromVoiceConnectorGroupId` there, or
   * create a `VoiceConnectorGroupPhoneNumbers` in that stack with this group's `voiceConnectorGroupId`.
   *
   * @param id construct id of the new `VoiceConnectorGroupPhoneNumbers`, unique among this group's children
   * @param phoneNumbers E.164 numbers to bind, e.g. `+12065550100`
   * @param options binding options
   */
  addPhoneNumbers(id: string, phoneNumbers: string[], options?: AddPhoneNumbersOptions): VoiceConnectorGroupPhoneNumbers;
}

/**
 * Creates an Amazon Chime SDK Voice Connector group (CloudFormation has no resource type for one).
 *
 * Create creates the group; a change of name, voice connectors or call distribution updates it in
 * place; Delete deletes it, and succeeds when the group is already gone. Phone numbers bound with
 * `addPhoneNumbers` are unbound before the group is deleted.
 *
 * All instances in a stack share one handler function.
 */
export class VoiceConnectorGroup extends Construct implements IVoiceConnectorGroup {
  /**
   * Refers to an existing voice connector group by id, for example to bind numbers to it.
   *
   * @param scope where the imported group, and the numbers bound through it, are created
   * @param id construct id
   * @param voiceConnectorGroupId id of the group; may be a token
   */
  public static fromVoiceConnectorGroupId(scope: Construct, id: string, voiceConnectorGroupId: string): IVoiceConnectorGroup {
    return new ImportedVoiceConnectorGroup(scope, id, voiceConnectorGroupId);
  }

  /**
   * Id of the group (a token resolved at deploy time).
   *
   * @attribute
   */
  public readonly voiceConnectorGroupId: string;

  /**
   * ARN of the group (a token resolved at deploy time).
   *
   * @attribute
   */
  public readonly voiceConnectorGroupArn: string;

  /** Name of the group, as declared. */
  public readonly name: string;

  private readonly removalPolicy: RemovalPolicy;

  constructor(scope: Construct, id: string, props: VoiceConnectorGroupProps) {
    super(scope, id);

    this.name = validateName(this, props.name);
    const items = validateVoiceConnectors(this, props.voiceConnectors ?? []);
    this.removalPolicy = props.removalPolicy ?? RemovalPolicy.DESTROY;

    const provider = VoiceConnectorGroupProvider.getOrCreate(Stack.of(this));
    const properties: GroupResourceProperties = {
      [GroupProp.SCHEMA_VERSION]: GROUP_SCHEMA_VERSION,
      [GroupProp.NAME]: this.name,
      [GroupProp.VOICE_CONNECTOR_ITEMS]: items,
      ...(props.callDistributionType === undefined ? {} : { [GroupProp.CALL_DISTRIBUTION_TYPE]: props.callDistributionType }),
    };
    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: GROUP_RESOURCE_TYPE,
      properties,
      removalPolicy: this.removalPolicy,
    });
    this.voiceConnectorGroupId = resource.getAttString(GroupAttr.GROUP_ID);
    this.voiceConnectorGroupArn = resource.getAttString(GroupAttr.GROUP_ARN);
  }

  public addPhoneNumbers(id: string, phoneNumbers: string[], options: AddPhoneNumbersOptions = {}): VoiceConnectorGroupPhoneNumbers {
    // The binding resources that hold these numbers name the group through its attribute, so CloudFormation
    // creates the group before it binds them, and unbinds them before it deletes the group.
    const numbers = bindNumbers(this, id, this.voiceConnectorGroupId, phoneNumbers, options);
    if (options.removalPolicy === RemovalPolicy.RETAIN && this.removalPolicy !== RemovalPolicy.RETAIN) {
      Annotations.of(numbers).addWarningV2(
        'cdk-chime-voice-connector-groups:retainedNumbersOnDestroyedGroup',
        'These numbers are retained but their group is not: deleting the group will fail while they stay bound to it. ' +
        'Set removalPolicy: RemovalPolicy.RETAIN on the group as well, or let the numbers be unbound (RemovalPolicy.DESTROY).',
      );
    }
    return numbers;
  }
}

class ImportedVoiceConnectorGroup extends Construct implements IVoiceConnectorGroup {
  public readonly voiceConnectorGroupId: string;

  constructor(scope: Construct, id: string, voiceConnectorGroupId: string) {
    super(scope, id);
    if (!Token.isUnresolved(voiceConnectorGroupId) && voiceConnectorGroupId.trim() === '') {
      throw new Error(
        `${this.node.path}: voiceConnectorGroupId ${JSON.stringify(voiceConnectorGroupId)} is blank. ` +
        'Pass the id of an existing voice connector group (aws chime-sdk-voice list-voice-connector-groups shows them).',
      );
    }
    this.voiceConnectorGroupId = voiceConnectorGroupId;
  }

  public addPhoneNumbers(id: string, phoneNumbers: string[], options: AddPhoneNumbersOptions = {}): VoiceConnectorGroupPhoneNumbers {
    return bindNumbers(this, id, this.voiceConnectorGroupId, phoneNumbers, options);
  }
}

function bindNumbers(
  group: Construct, id: string, voiceConnectorGroupId: string, phoneNumbers: string[], options: AddPhoneNumbersOptions,
): VoiceConnectorGroupPhoneNumbers {
  return new VoiceConnectorGroupPhoneNumbers(group, id, {
    voiceConnectorGroupId,
    phoneNumbers,
    forceAssociate: options.forceAssociate,
    removalPolicy: options.removalPolicy,
  });
}

function validateName(scope: Construct, name: string): string {
  if (Token.isUnresolved(name)) return name;
  if (name.length < 1 || name.length > GROUP_NAME_MAX_LENGTH) {
    throw new Error(
      `${scope.node.path}: name ${JSON.stringify(name)} is ${name.length} characters long; a voice connector group name has 1 to ` +
      `${GROUP_NAME_MAX_LENGTH}. Choose a name of that length.`,
    );
  }
  if (!GROUP_NAME_PATTERN.test(name)) {
    const bad = [...new Set([...name].filter((c) => !/[a-zA-Z0-9 _.-]/.test(c)))];
    throw new Error(
      `${scope.node.path}: name ${JSON.stringify(name)} contains ${bad.map((c) => JSON.stringify(c)).join(', ')}, which a voice connector ` +
      `group name can not (pattern ${GROUP_NAME_PATTERN.source}). Use only letters, digits, spaces, '_', '.' and '-'.`,
    );
  }
  return name;
}

function validateVoiceConnectors(scope: Construct, items: VoiceConnectorItem[]): RenderedVoiceConnectorItem[] {
  if (Token.isUnresolved(items)) return items as unknown as RenderedVoiceConnectorItem[];
  if (items.length > MAX_VOICE_CONNECTOR_ITEMS) {
    throw new Error(
      `${scope.node.path}: voiceConnectors lists ${items.length} voice connectors; a group holds at most ${MAX_VOICE_CONNECTOR_ITEMS}. ` +
      'Remove some, or spread them over more than one group.',
    );
  }
  const seen = new Map<string, number>();
  return items.map((item, index) => {
    const { voiceConnectorId, priority } = item;
    if (!Token.isUnresolved(voiceConnectorId)) {
      if (voiceConnectorId.trim() === '') {
        throw new Error(
          `${scope.node.path}: voiceConnectors[${index}].voiceConnectorId ${JSON.stringify(voiceConnectorId)} is blank. ` +
          'Pass the id of an existing voice connector (aws chime-sdk-voice list-voice-connectors shows them).',
        );
      }
      const earlier = seen.get(voiceConnectorId);
      if (earlier !== undefined) {
        throw new Error(
          `${scope.node.path}: voiceConnectors[${index}] repeats voice connector ${JSON.stringify(voiceConnectorId)} ` +
          `(already voiceConnectors[${earlier}]); a group lists each voice connector once. Remove the duplicate.`,
        );
      }
      seen.set(voiceConnectorId, index);
    }
    if (!Token.isUnresolved(priority) && (!Number.isInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY)) {
      throw new Error(
        `${scope.node.path}: voiceConnectors[${index}].priority ${priority} is not an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY}. ` +
        `Give voice connector ${JSON.stringify(voiceConnectorId)} a priority in that range (1 is the highest).`,
      );
    }
    return { VoiceConnectorId: voiceConnectorId, Priority: priority };
  });
}
