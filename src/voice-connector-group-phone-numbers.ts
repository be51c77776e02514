import { CfnMapping, CustomResource, Fn, Lazy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import { Construct, type IConstruct } from 'constructs';
import { BINDING_RESOURCE_TYPE, E164_PATTERN, Prop, SCHEMA_VERSION, normalizeE164, type BindingResourceProperties } from './binding-properties';
import { setHandlerOptions } from './handler-settings';
import type { PhoneNumbersHandlerOptions } from './phone-numbers-handler-options';
import { PhoneNumbersProvider } from './phone-numbers-provider';

/**
 * Properties of a `VoiceConnectorGroupPhoneNumbers`.
 */
export interface VoiceConnectorGroupPhoneNumbersProps {
  /**
   * Id of the Amazon Chime SDK Voice Connector group to bind the numbers to.
   *
   * May be a token, for example the id of a group created in the same app; tokens are checked at
   * deploy time instead of synth time.
   */
  readonly voiceConnectorGroupId: string;

  /**
   * Phone numbers to bind to the group, in E.164 format (for example `+12065550100`).
   *
   * Numbers without the leading `+` are accepted and normalised. The numbers must already be in the
   * account's phone number inventory with the Voice Connector product type. May be a token list.
   */
  readonly phoneNumbers: string[];

  /**
   * Whether to take a number that is bound to another voice connector or group.
   *
   * When false, a number bound elsewhere fails the deployment with a message naming where it is bound.
   *
   * @default false
   */
  readonly forceAssociate?: boolean;

  /**
   * What happens to the bindings when this resource is deleted or replaced.
   *
   * `RemovalPolicy.DESTROY` unbinds the numbers this resource declared that are still bound to the
   * group. `RemovalPolicy.RETAIN` leaves them bound.
   *
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * Binds a set of phone numbers to an Amazon Chime SDK Voice Connector group, reconciled at deploy time.
 *
 * Create binds every declared number; Update binds only the added numbers and unbinds only the removed
 * ones; Delete unbinds the declared numbers still bound to the group. Numbers this resource did not
 * declare are never unbound, and numbers bound elsewhere are never taken unless `forceAssociate` is set.
 *
 * All instances in a stack share one handler function.
 */
export class VoiceConnectorGroupPhoneNumbers extends Construct {
  /**
   * Configures the handlers this library deploys in the scope's stack (the one every
   * `VoiceConnectorGroupPhoneNumbers` shares, and the one behind `VoiceConnectorGroup`): their log group,
   * log retention, log encryption key and log level. Call it before the first construct of this library
   * in the stack, at most once per stack.
   */
  public static configureHandler(scope: Construct, options: PhoneNumbersHandlerOptions): void {
    setHandlerOptions(Stack.of(scope), options);
  }

  /** Per stack: the instances on each group (keyed by the resolved group id), and their shared number list. */
  private static readonly groupsByStack = new WeakMap<Stack, Map<string, StackGroup>>();

  /** Construct path that declared each number, per app: two declarations of one number would fight at deploy time. */
  private static readonly declarations = new WeakMap<IConstruct, Map<string, string>>();

  /** Id of the voice connector group the numbers are bound to. */
  public readonly voiceConnectorGroupId: string;

  /** The declared phone numbers, normalised to the `+` E.164 form (or the token list as given). */
  public readonly phoneNumbers: string[];

  constructor(scope: Construct, id: string, props: VoiceConnectorGroupPhoneNumbersProps) {
    super(scope, id);

    this.voiceConnectorGroupId = validateGroupId(this, props.voiceConnectorGroupId);
    this.phoneNumbers = validatePhoneNumbers(this, props.phoneNumbers);
    this.claimNumbers();

    const stack = Stack.of(this);
    const provider = PhoneNumbersProvider.getOrCreate(stack);
    const group = this.joinStackGroup(stack);

    const properties: BindingResourceProperties = {
      [Prop.SCHEMA_VERSION]: SCHEMA_VERSION,
      [Prop.GROUP_ID]: this.voiceConnectorGroupId,
      [Prop.PHONE_NUMBERS]: this.phoneNumbers,
      [Prop.FORCE_ASSOCIATE]: props.forceAssociate ?? false,
      [Prop.PEER_PHONE_NUMBERS]: Token.asList(Lazy.any({ produce: () => group.reference() })),
    };

    new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: BINDING_RESOURCE_TYPE,
      properties,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
  }

  private claimNumbers(): void {
    const root = this.node.root;
    const declared = VoiceConnectorGroupPhoneNumbers.declarations.get(root) ?? new Map<string, string>();
    VoiceConnectorGroupPhoneNumbers.declarations.set(root, declared);
    if (Token.isUnresolved(this.phoneNumbers)) return;
    for (const number of this.phoneNumbers.filter((n) => !Token.isUnresolved(n))) {
      const other = declared.get(number);
      if (other !== undefined) {
        throw new Error(
          `${this.node.path}: phone number ${number} is already declared by ${other}. ` +
          'A number can be bound to only one group, by one construct, in an app: remove it from one of the two.',
        );
      }
    }
    this.phoneNumbers.filter((n) => !Token.isUnresolved(n)).forEach((n) => declared.set(n, this.node.path));
  }

  /**
   * Registers this instance with the others in its stack that bind the same group. Once a group has two
   * or more, each of them is given the stack's full list of numbers for the group (`PeerPhoneNumbers`),
   * so that a number moved from one to another in a single deploy stays bound, whichever resource
   * CloudFormation updates first. The list is written once per group in a template mapping, so the
   * template grows with the numbers, not with numbers times constructs.
   */
  private joinStackGroup(stack: Stack): StackGroup {
    const groups = VoiceConnectorGroupPhoneNumbers.groupsByStack.get(stack) ?? new Map<string, StackGroup>();
    VoiceConnectorGroupPhoneNumbers.groupsByStack.set(stack, groups);
    const key = groupKey(stack, this.voiceConnectorGroupId);
    const group = groups.get(key) ?? new StackGroup(stack, groups.size);
    groups.set(key, group);
    group.add(this);
    return group;
  }
}

/** The binding constructs of one stack that bind one group, and the template mapping that lists their numbers. */
class StackGroup {
  private readonly members: VoiceConnectorGroupPhoneNumbers[] = [];
  private mapping?: CfnMapping;

  constructor(private readonly stack: Stack, private readonly index: number) {}

  public add(member: VoiceConnectorGroupPhoneNumbers): void {
    this.members.push(member);
    if (this.members.length === 2) {
      this.mapping = new CfnMapping(this.stack, `VoiceConnectorGroupPhoneNumbers${this.index}`, {
        // A mapping needs a value even when no member has literal numbers (then nothing refers to it).
        mapping: { Group: { PhoneNumbers: Lazy.any({ produce: () => (this.numbers().length > 0 ? this.numbers() : 'none') }) } },
        lazy: false,
      });
    }
  }

  /** `Fn::FindInMap` of the group's numbers, or nothing while the group has one member (or no literal numbers). */
  public reference(): unknown {
    if (!this.mapping || this.numbers().length === 0) return undefined;
    return Fn.findInMap(this.mapping.logicalId, 'Group', 'PhoneNumbers');
  }

  private numbers(): string[] {
    const numbers = new Set<string>();
    for (const member of this.members) {
      if (Token.isUnresolved(member.phoneNumbers)) continue;
      member.phoneNumbers.filter((n) => !Token.isUnresolved(n)).forEach((n) => numbers.add(n));
    }
    return [...numbers].sort();
  }
}

/**
 * Identity of a group id within a stack: literal ids compare as written, tokens by what they resolve to
 * (two `getAtt` calls on one resource are different tokens for the same group).
 */
function groupKey(stack: Stack, groupId: string): string {
  if (!Token.isUnresolved(groupId)) return groupId;
  try {
    return JSON.stringify(stack.resolve(groupId));
  } catch {
    return groupId;
  }
}

function validateGroupId(scope: Construct, groupId: string): string {
  if (Token.isUnresolved(groupId)) return groupId;
  if (groupId.trim() === '') {
    throw new Error(
      `${scope.node.path}: voiceConnectorGroupId ${JSON.stringify(groupId)} is blank. ` +
      'Pass the id of an existing voice connector group (aws chime-sdk-voice list-voice-connector-groups shows them).',
    );
  }
  return groupId;
}

function validatePhoneNumbers(scope: Construct, phoneNumbers: string[]): string[] {
  if (Token.isUnresolved(phoneNumbers)) return phoneNumbers;
  if (phoneNumbers.length === 0) {
    throw new Error(
      `${scope.node.path}: phoneNumbers is empty; at least one number is required. ` +
      'Declare the numbers to bind, or remove the construct to unbind them all.',
    );
  }
  const seen = new Map<string, string>();
  return phoneNumbers.map((value, index) => {
    if (Token.isUnresolved(value)) return value;
    if (!E164_PATTERN.test(value)) {
      throw new Error(
        `${scope.node.path}: phoneNumbers[${index}] ${JSON.stringify(value)} is not an E.164 number (pattern ${E164_PATTERN.source}). ` +
        "Write '+', the country code and the subscriber number, digits only, e.g. '+12065550100'.",
      );
    }
    const normalized = normalizeE164(value);
    const earlier = seen.get(normalized);
    if (earlier !== undefined) {
      throw new Error(
        `${scope.node.path}: phoneNumbers lists ${normalized} twice (${JSON.stringify(earlier)} and ${JSON.stringify(value)}). Remove the duplicate.`,
      );
    }
    seen.set(normalized, value);
    return normalized;
  });
}
