import { randomUUID } from 'crypto';
import { CfnMapping, CfnResource, CustomResource, Duration, Fn, Lazy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct, type IConstruct } from 'constructs';
import {
  BINDING_RESOURCE_TYPE, DRIFT_CHECK_KEY, DRIFT_METRIC_DIMENSION, DRIFT_METRIC_NAME, DRIFT_METRIC_NAMESPACE, E164_PATTERN, Prop,
  RECONCILE_EVERY_DEPLOY, SCHEMA_VERSION, normalizeE164, type BindingResourceProperties, type DriftCheckInput,
} from './binding-properties';
import { DriftChecker } from './drift-checker';
import { setHandlerOptions } from './handler-settings';
import type { PhoneNumbersHandlerOptions } from './phone-numbers-handler-options';
import { PhoneNumbersProvider } from './phone-numbers-provider';

/**
 * When the handler reconciles a `VoiceConnectorGroupPhoneNumbers`.
 */
export enum ReconcileMode {
  /**
   * Only when the construct's properties change (CloudFormation sends an Update only then), and only the
   * numbers that changed. Drift made outside the stack stays until the declaration changes.
   */
  ON_CHANGE = 'ON_CHANGE',
  /**
   * On every deploy: the construct renders a property that changes on every synth, so CloudFormation
   * sends an Update each time, and the handler reads every declared number and repairs any difference
   * (binds declared numbers that are not bound; takes numbers bound elsewhere only with `forceAssociate`).
   * The stack then changes on every deploy, so `cdk deploy` never reports "no changes" for it.
   */
  EVERY_DEPLOY = 'EVERY_DEPLOY',
}

/**
 * Scheduled drift detection for a `VoiceConnectorGroupPhoneNumbers`.
 */
export interface DriftDetectionOptions {
  /**
   * How often the check runs.
   *
   * @default Schedule.rate(Duration.hours(1))
   */
  readonly schedule?: events.Schedule;

  /**
   * Whether the check also repairs what it finds, by the same rules as `ReconcileMode.EVERY_DEPLOY`
   * (and, for an exclusive construct, unbinds numbers nothing declares). When false it only reports.
   *
   * @default false
   */
  readonly repair?: boolean;
}

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

  /**
   * When the bindings are reconciled: only on property changes, or on every deploy (reading the actual
   * bindings and repairing drift).
   *
   * @default ReconcileMode.ON_CHANGE
   */
  readonly reconcile?: ReconcileMode;

  /**
   * Whether the group holds exactly the declared numbers: numbers found on the group that no construct
   * of this stack declares for it are unbound (on every Create and Update of this construct, and by a
   * scheduled check with `repair`). This unbinds numbers bound by hand or by other tools. Every construct
   * of the stack on the group must set it, and no other stack may declare numbers for the group.
   *
   * @default false
   */
  readonly exclusive?: boolean;

  /**
   * Scheduled drift detection: a checker function, run on a schedule, compares the declared numbers with
   * the group, publishes the `ChimeVoiceConnectorGroups/DriftedPhoneNumbers` metric and raises `alarm`.
   *
   * @default - no scheduled check
   */
  readonly driftDetection?: DriftDetectionOptions;
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

  /** Groups declared exclusive per app, with the stack that declares them (literal group ids only). */
  private static readonly exclusiveGroups = new WeakMap<IConstruct, Map<string, { stack: string; exclusive: boolean }>>();

  /** Id of the voice connector group the numbers are bound to. */
  public readonly voiceConnectorGroupId: string;

  /** The declared phone numbers, normalised to the `+` E.164 form (or the token list as given). */
  public readonly phoneNumbers: string[];

  /** Whether the group holds exactly the declared numbers. */
  public readonly exclusive: boolean;

  /**
   * Alarm raised when the scheduled drift check finds at least one drifted number (only with
   * `driftDetection`).
   */
  public readonly alarm?: cloudwatch.Alarm;


  constructor(scope: Construct, id: string, props: VoiceConnectorGroupPhoneNumbersProps) {
    super(scope, id);

    this.voiceConnectorGroupId = validateGroupId(this, props.voiceConnectorGroupId);
    this.phoneNumbers = validatePhoneNumbers(this, props.phoneNumbers);
    this.exclusive = props.exclusive ?? false;
    this.claimNumbers();
    const literalNumbers = !Token.isUnresolved(this.phoneNumbers) && this.phoneNumbers.every((n) => !Token.isUnresolved(n));
    if (this.exclusive && !literalNumbers) {
      throw new Error(
        `${this.node.path}: an exclusive construct needs literal phone numbers (the group's declared set is computed at synth time); ` +
        'a token here would let the handler unbind numbers it cannot see. Pass the numbers as strings.',
      );
    }
    if (props.driftDetection && !literalNumbers) {
      throw new Error(
        `${this.node.path}: driftDetection needs literal phone numbers: the check reads them from the deployed template. Pass the numbers as strings.`,
      );
    }

    const stack = Stack.of(this);
    const provider = PhoneNumbersProvider.getOrCreate(stack);
    const group = this.joinStackGroup(stack);
    this.claimGroup(stack);

    const everyDeploy = props.reconcile === ReconcileMode.EVERY_DEPLOY;
    const properties: BindingResourceProperties = {
      [Prop.SCHEMA_VERSION]: SCHEMA_VERSION,
      [Prop.GROUP_ID]: this.voiceConnectorGroupId,
      [Prop.PHONE_NUMBERS]: this.phoneNumbers,
      [Prop.FORCE_ASSOCIATE]: props.forceAssociate ?? false,
      [Prop.PEER_PHONE_NUMBERS]: Token.asList(Lazy.any({ produce: () => group.reference() })),
      // Rendered only when set, so templates of on-change, non-exclusive constructs stay as they were.
      ...(everyDeploy ? { [Prop.RECONCILE]: RECONCILE_EVERY_DEPLOY, [Prop.DEPLOY_NONCE]: randomUUID() } : {}),
      ...(this.exclusive ? { [Prop.EXCLUSIVE]: true } : {}),
    };

    const resource = new CustomResource(this, 'Resource', {
      serviceToken: provider.serviceToken,
      resourceType: BINDING_RESOURCE_TYPE,
      properties,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });

    if (props.driftDetection) {
      this.alarm = this.scheduleDriftCheck(stack, resource.node.defaultChild as CfnResource, props.driftDetection);
    }
  }

  /**
   * The number of drifted phone numbers the scheduled check found on its last run: declared numbers not
   * bound to the group, plus, for an exclusive construct, numbers on the group that nothing declares.
   * Published by the check (Embedded Metric Format) only when `driftDetection` is set.
   *
   * @default - maximum over 1 hour
   */
  public metricDriftedPhoneNumbers(props?: cloudwatch.MetricOptions): cloudwatch.Metric {
    return new cloudwatch.Metric({
      namespace: DRIFT_METRIC_NAMESPACE,
      metricName: DRIFT_METRIC_NAME,
      dimensionsMap: { [DRIFT_METRIC_DIMENSION]: this.voiceConnectorGroupId },
      statistic: cloudwatch.Stats.MAXIMUM,
      period: Duration.hours(1),
      ...props,
    });
  }

  private scheduleDriftCheck(stack: Stack, resource: CfnResource, options: DriftDetectionOptions): cloudwatch.Alarm {
    const checker = DriftChecker.getOrCreate(stack);
    if (options.repair) checker.grantRepair();
    // Only ids go in the rule's input (EventBridge caps it at 8,192 characters): the checker reads the
    // declared numbers, however many, from this resource's properties in the stack's deployed template.
    const input: DriftCheckInput = {
      StackId: stack.stackId,
      LogicalId: resource.logicalId,
      VoiceConnectorGroupId: this.voiceConnectorGroupId,
      Repair: options.repair ?? false,
    };
    const rule = new events.Rule(this, 'DriftCheckSchedule', {
      description: `Drift check of the phone numbers of ${this.node.path}`,
      schedule: options.schedule ?? events.Schedule.rate(Duration.hours(1)),
    });
    rule.addTarget(new targets.LambdaFunction(checker.function, {
      event: events.RuleTargetInput.fromObject({ [DRIFT_CHECK_KEY]: input }),
      retryAttempts: 2,
    }));
    return new cloudwatch.Alarm(this, 'DriftAlarm', {
      alarmDescription: `Phone numbers of ${this.node.path} have drifted from the declared set (bound, unbound or moved outside the stack).`,
      metric: this.metricDriftedPhoneNumbers(),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });
  }

  /**
   * An exclusive group must be declared in one stack only: another stack's numbers on it would be
   * unbound as foreign. Only literal group ids can be compared across stacks.
   */
  private claimGroup(stack: Stack): void {
    if (Token.isUnresolved(this.voiceConnectorGroupId)) return;
    const root = this.node.root;
    const groups = VoiceConnectorGroupPhoneNumbers.exclusiveGroups.get(root) ?? new Map<string, { stack: string; exclusive: boolean }>();
    VoiceConnectorGroupPhoneNumbers.exclusiveGroups.set(root, groups);
    const seen = groups.get(this.voiceConnectorGroupId);
    if (seen && seen.stack !== stack.node.path && (seen.exclusive || this.exclusive)) {
      throw new Error(
        `${this.node.path}: voice connector group ${this.voiceConnectorGroupId} is exclusive and is declared in stacks ${seen.stack} and ${stack.node.path}. ` +
        'An exclusive group holds exactly what its stack declares: declare all of its numbers in one stack.',
      );
    }
    groups.set(this.voiceConnectorGroupId, { stack: stack.node.path, exclusive: (seen?.exclusive ?? false) || this.exclusive });
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
    const disagreeing = this.members.find((m) => m.exclusive !== member.exclusive);
    if (disagreeing) {
      throw new Error(
        `${member.node.path}: exclusive is ${member.exclusive} but ${disagreeing.node.path} binds the same voice connector group with exclusive ${disagreeing.exclusive}. ` +
        'Every construct on an exclusive group must set exclusive: true (or none may).',
      );
    }
    this.members.push(member);
    // An exclusive member needs the group's full declared set even when it is alone on the group.
    if (!this.mapping && (this.members.length === 2 || member.exclusive)) {
      this.mapping = new CfnMapping(this.stack, `VoiceConnectorGroupPhoneNumbers${this.index}`, {
        // A mapping needs a value even when no member has literal numbers (then nothing refers to it).
        mapping: { Group: { PhoneNumbers: Lazy.any({ produce: () => (this.numbers().length > 0 ? this.numbers() : 'none') }) } },
        lazy: false,
      });
    }
  }

  /** `Fn::FindInMap` of the group's numbers, or nothing while a non-exclusive group has one member (or no literal numbers). */
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
