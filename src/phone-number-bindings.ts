import { createHash, randomUUID } from 'crypto';
import { CfnResource, CustomResource, Duration, Lazy, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as events from 'aws-cdk-lib/aws-events';
import * as targets from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import {
  BINDING_RESOURCE_TYPE, canonicalJson, DRIFT_CHECK_KEY, DRIFT_METRIC_DIMENSION, DRIFT_METRIC_NAME, DRIFT_METRIC_NAMESPACE, EntryProp, Prop,
  RECONCILE_EVERY_DEPLOY, SCHEMA_VERSION, SERVICE_TIMEOUT_MINUTES, SHARD_COUNT, shardLogicalId, shardOf,
  type BindingEntry, type BindingResourceProperties, type DriftCheckInput,
} from './binding-properties';
import { DriftChecker } from './drift-checker';
import { PhoneNumbersProvider } from './phone-numbers-provider';

/**
 * Scale this library has been proven at (`npx projen bench`, and the limit tests): every event, every
 * completion check and the template stay inside CloudFormation's, Lambda's and Step Functions' limits.
 */
export const MAX_NUMBERS_PER_STACK = 20_000;
/** A shard with more than this would make events the limit tests have not covered (20,000 numbers give about 310 each). */
export const MAX_NUMBERS_PER_SHARD = 1_000;
/** EventBridge caps a target's input at 8,192 characters; the drift check's input names every group of the stack. */
const MAX_DRIFT_INPUT_CHARS = 8_192;

/** What one construct declares, as the stack's bindings record it. */
export interface BindingDeclaration {
  /** The declaring construct (its path names it in synth-time errors). */
  readonly scope: Construct;
  readonly groupId: string;
  /** Normalised literal numbers, or a token list. */
  readonly phoneNumbers: string[];
  readonly forceAssociate: boolean;
  readonly retain: boolean;
  readonly everyDeploy: boolean;
  readonly exclusive: boolean;
  readonly driftDetection?: { readonly schedule?: events.Schedule; readonly repair?: boolean };
}

/** A stack's group, as the bindings know it: the key is the id as the template writes it. */
interface StackGroup {
  readonly key: string;
  readonly groupId: string;
  readonly declarations: BindingDeclaration[];
  exclusive?: { readonly by: string };
  drift?: { readonly by: string; readonly alarm: cloudwatch.Alarm; readonly repair: boolean; readonly schedule?: string };
}

/**
 * The stack's phone-number bindings: every `VoiceConnectorGroupPhoneNumbers` of the stack is a declaration
 * recorded here, and the bindings themselves are owned by up to `SHARD_COUNT` custom resources, one per
 * shard of numbers (`shardOf`). A shard's logical id is fixed, and a number always hashes to the same
 * shard, so a number's owner depends only on the stack and the number: renaming or moving a construct,
 * moving a number between constructs or groups, or naming one group two ways changes the properties of
 * the one resource that owns the number, never which resource that is.
 *
 * Only shards that hold numbers are rendered, so a small stack's template stays small and its deploy diff
 * reads as lists of numbers. A token list of numbers, or an exclusive group, needs every shard: each
 * shard then keeps the numbers of the token list that hash to it, and unbinds the numbers of the
 * exclusive groups that hash to it and that the stack does not declare.
 */
export class PhoneNumberBindings extends Construct {
  public static readonly ID = 'VoiceConnectorGroupPhoneNumberBindings';

  public static of(stack: Stack): PhoneNumberBindings {
    const existing = stack.node.tryFindChild(PhoneNumberBindings.ID) as PhoneNumberBindings | undefined;
    return existing ?? new PhoneNumberBindings(stack, PhoneNumberBindings.ID);
  }

  private readonly shards = new Map<number, CustomResource>();
  private readonly groups = new Map<string, StackGroup>();
  private readonly declarations: BindingDeclaration[] = [];
  private readonly provider: PhoneNumbersProvider;
  private readonly nonce = randomUUID();
  /** Every shard's properties, computed once per set of declarations (each number is hashed once). */
  private rendered?: { readonly count: number; readonly byShard: Map<number, BindingResourceProperties> };

  private constructor(private readonly stack: Stack, id: string) {
    super(stack, id);
    this.provider = PhoneNumbersProvider.getOrCreate(stack);
    this.node.addValidation({ validate: () => this.validateScale() });
  }

  /** Records a construct's declaration and makes sure the shards that will hold its numbers exist. */
  public declare(declaration: BindingDeclaration): { readonly alarm?: cloudwatch.Alarm } {
    const group = this.groupOf(declaration);
    this.checkExclusive(group, declaration);
    this.declarations.push(declaration);
    group.declarations.push(declaration);
    const literal = literalNumbers(declaration.phoneNumbers);
    if (literal === undefined || this.anyExclusive()) {
      for (let shard = 0; shard < SHARD_COUNT; shard++) this.shard(shard);
    } else {
      for (const number of literal) this.shard(shardOf(number));
    }
    return { alarm: declaration.driftDetection ? this.driftAlarm(group, declaration) : undefined };
  }

  private groupOf(declaration: BindingDeclaration): StackGroup {
    const key = groupKey(this.stack, declaration.groupId);
    const group = this.groups.get(key) ?? { key, groupId: declaration.groupId, declarations: [] };
    this.groups.set(key, group);
    return group;
  }

  private anyExclusive(): boolean {
    return [...this.groups.values()].some((g) => g.exclusive);
  }

  /** Exclusive is a property of the group within the stack: every declaration on it must agree. */
  private checkExclusive(group: StackGroup, declaration: BindingDeclaration): void {
    const path = declaration.scope.node.path;
    const other = group.declarations.find((d) => d.exclusive !== declaration.exclusive);
    if (other) {
      throw new Error(
        `${path}: exclusive is ${declaration.exclusive} but ${other.scope.node.path} binds the same voice connector group with exclusive ${other.exclusive}. ` +
        'Every construct on an exclusive group must set exclusive: true (or none may).',
      );
    }
    if (declaration.exclusive && !group.exclusive) {
      group.exclusive = { by: path };
      // Every shard must know the group is exclusive: a foreign number may hash to any of them.
      for (let shard = 0; shard < SHARD_COUNT; shard++) this.shard(shard);
    }
  }

  /** The binding resource of one shard, created on first use under its fixed logical id. */
  private shard(index: number): CustomResource {
    const existing = this.shards.get(index);
    if (existing) return existing;
    const resource = new CustomResource(this, `Shard${String(index).padStart(2, '0')}`, {
      serviceToken: this.provider.serviceToken,
      resourceType: BINDING_RESOURCE_TYPE,
      // The handler decides per number what a Delete unbinds (numbers declared with RETAIN stay bound).
      removalPolicy: RemovalPolicy.DESTROY,
      // Set explicitly: the handler's own limits (binding-properties.ts) are measured against it.
      serviceTimeout: Duration.minutes(SERVICE_TIMEOUT_MINUTES),
      // Each property is computed once every construct of the stack has declared its numbers.
      properties: {
        [Prop.SCHEMA_VERSION]: SCHEMA_VERSION,
        [Prop.SHARD]: String(index),
        [Prop.BINDINGS]: Lazy.any({ produce: () => this.propertiesOf(index)[Prop.BINDINGS] }),
        [Prop.EXCLUSIVE_GROUPS]: Lazy.any({ produce: () => this.propertiesOf(index)[Prop.EXCLUSIVE_GROUPS] }),
        [Prop.DEPLOY_NONCE]: Lazy.any({ produce: () => this.propertiesOf(index)[Prop.DEPLOY_NONCE] }),
      },
    });
    (resource.node.defaultChild as CfnResource).overrideLogicalId(shardLogicalId(index));
    this.shards.set(index, resource);
    return resource;
  }

  private propertiesOf(shard: number): BindingResourceProperties {
    if (this.rendered?.count !== this.declarations.length) {
      const byShard = new Map<number, BindingResourceProperties>();
      const split = this.declarations.map((d) => {
        const literal = literalNumbers(d.phoneNumbers);
        return literal === undefined ? undefined : literal.map((n) => [n, shardOf(n)] as const);
      });
      for (const index of this.shards.keys()) byShard.set(index, this.render(index, split));
      this.rendered = { count: this.declarations.length, byShard };
    }
    return this.rendered.byShard.get(shard)!;
  }

  private render(shard: number, split: ReadonlyArray<ReadonlyArray<readonly [string, number]> | undefined>): BindingResourceProperties {
    const entries = new Map<string, { entry: Record<string, unknown>; numbers: Set<string>; sort: string }>();
    let everyDeploy = false;
    for (const [index, declaration] of this.declarations.entries()) {
      const hashed = split[index];
      const numbers = hashed === undefined ? undefined : hashed.filter(([, s]) => s === shard).map(([n]) => n);
      if (numbers !== undefined && numbers.length === 0) continue;
      const options: Record<string, string> = {
        ...(declaration.forceAssociate ? { [EntryProp.FORCE_ASSOCIATE]: 'true' } : {}),
        ...(declaration.retain ? { [EntryProp.RETAIN]: 'true' } : {}),
        ...(declaration.everyDeploy ? { [EntryProp.RECONCILE]: RECONCILE_EVERY_DEPLOY } : {}),
      };
      everyDeploy ||= declaration.everyDeploy;
      const key = groupKey(this.stack, declaration.groupId);
      if (numbers === undefined) {
        // A token list goes whole into every shard, as its own entry; the handler keeps this shard's part.
        const id = `${key}|token|${entries.size}`;
        entries.set(id, {
          entry: { [EntryProp.GROUP_ID]: declaration.groupId, [EntryProp.PHONE_NUMBERS]: declaration.phoneNumbers, ...options, [EntryProp.SHARD_FILTERED]: 'true' },
          numbers: new Set(),
          sort: `${key}|~${entries.size}`,
        });
        continue;
      }
      const id = `${key}|${canonicalJson(options)}`;
      const existing = entries.get(id) ?? { entry: { [EntryProp.GROUP_ID]: declaration.groupId, ...options }, numbers: new Set<string>(), sort: id };
      numbers.forEach((n) => existing.numbers.add(n));
      entries.set(id, existing);
    }
    const bindings = [...entries.values()]
      .sort((a, b) => (a.sort < b.sort ? -1 : a.sort > b.sort ? 1 : 0))
      .map(({ entry, numbers }) => (
        EntryProp.PHONE_NUMBERS in entry ? entry : { ...entry, [EntryProp.PHONE_NUMBERS]: [...numbers].sort() }
      ) as unknown as BindingEntry);
    const exclusive = [...this.groups.values()].filter((g) => g.exclusive).sort((a, b) => (a.key < b.key ? -1 : 1)).map((g) => g.groupId);
    // An exclusive group repaired on every deploy needs every shard to look, each for the foreign numbers
    // that hash to it, whether or not it holds a number of the group.
    everyDeploy ||= this.declarations.some((d) => d.everyDeploy && d.exclusive);
    return {
      [Prop.SCHEMA_VERSION]: SCHEMA_VERSION,
      [Prop.SHARD]: String(shard),
      [Prop.BINDINGS]: bindings,
      ...(exclusive.length > 0 ? { [Prop.EXCLUSIVE_GROUPS]: exclusive } : {}),
      // Rendered only where an every-deploy entry is, so other shards are left alone on a deploy.
      ...(everyDeploy ? { [Prop.DEPLOY_NONCE]: this.nonce } : {}),
    };
  }

  /**
   * The scheduled drift check of a group, one per group and stack: its rule, named by the group's key so
   * that no construct rename replaces it, and its alarm, which every construct on the group shares.
   */
  private driftAlarm(group: StackGroup, declaration: BindingDeclaration): cloudwatch.Alarm {
    const options = declaration.driftDetection!;
    const path = declaration.scope.node.path;
    const repair = options.repair ?? false;
    const schedule = options.schedule?.expressionString;
    if (group.drift) {
      if (group.drift.repair !== repair || group.drift.schedule !== schedule) {
        throw new Error(
          `${path}: driftDetection differs from the one ${group.drift.by} sets for the same voice connector group ` +
          `(repair ${repair} and schedule ${schedule ?? 'hourly'}, against repair ${group.drift.repair} and schedule ${group.drift.schedule ?? 'hourly'}). ` +
          'A group has one drift check per stack: give every construct on it the same driftDetection, or set it on one of them only.',
        );
      }
      return group.drift.alarm;
    }
    const checker = DriftChecker.getOrCreate(this.stack);
    if (repair) checker.grantRepair();
    const id = `Drift${hashKey(group.key)}`;
    const scope = new Construct(this, id);
    const input = Lazy.any({ produce: () => this.driftInput(group, repair) });
    const rule = new events.Rule(scope, 'Schedule', {
      description: `Drift check of the phone numbers the stack binds to voice connector group ${Token.isUnresolved(group.groupId) ? '(a deploy-time id)' : group.groupId}`,
      schedule: options.schedule ?? events.Schedule.rate(Duration.hours(1)),
    });
    rule.addTarget(new targets.LambdaFunction(checker.function, {
      event: events.RuleTargetInput.fromObject({ [DRIFT_CHECK_KEY]: input }),
      retryAttempts: 2,
    }));
    const alarm = new cloudwatch.Alarm(scope, 'Alarm', {
      alarmDescription: 'Phone numbers bound to a voice connector group have drifted from what the stack declares (bound, unbound or moved outside the stack).',
      metric: driftMetric(group.groupId),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: cloudwatch.TreatMissingData.MISSING,
    });
    group.drift = { by: path, alarm, repair, schedule };
    return alarm;
  }

  private driftInput(group: StackGroup, repair: boolean): DriftCheckInput {
    return {
      StackId: this.stack.stackId,
      VoiceConnectorGroupId: group.groupId,
      GroupKeys: [...this.groups.values()].map((g) => ({ Key: g.key, Id: g.groupId })),
      Repair: repair,
    };
  }

  /** Beyond what is proven, synth fails, naming the limit and the way out. */
  private validateScale(): string[] {
    const errors: string[] = [];
    const perShard = new Map<number, number>();
    let total = 0;
    for (const declaration of this.declarations) {
      for (const number of literalNumbers(declaration.phoneNumbers) ?? []) {
        total++;
        perShard.set(shardOf(number), (perShard.get(shardOf(number)) ?? 0) + 1);
      }
    }
    if (total > MAX_NUMBERS_PER_STACK) {
      errors.push(
        `The stack declares ${total} phone numbers; this library is proven up to ${MAX_NUMBERS_PER_STACK} per stack ` +
        '(every event inside Step Functions\' 256 KB and the template inside CloudFormation\'s 1 MB). Split the numbers over more stacks.',
      );
    }
    for (const [shard, count] of perShard) {
      if (count > MAX_NUMBERS_PER_SHARD) {
        errors.push(
          `Binding resource ${shardLogicalId(shard)} would hold ${count} numbers; a shard is proven up to ${MAX_NUMBERS_PER_SHARD}. ` +
          'Split the numbers over more stacks.',
        );
      }
    }
    const drifted = [...this.groups.values()].filter((g) => g.drift);
    if (drifted.length > 0) {
      const size = JSON.stringify(this.stack.resolve(this.driftInput(drifted[0], true))).length + 100;
      if (size > MAX_DRIFT_INPUT_CHARS) {
        errors.push(
          `The drift check's input names the stack's ${this.groups.size} voice connector groups in about ${size} characters; EventBridge takes at most ` +
          `${MAX_DRIFT_INPUT_CHARS}. Put fewer groups in a stack that uses driftDetection.`,
        );
      }
    }
    return errors;
  }
}

/** The drift metric of one group. */
export function driftMetric(groupId: string, props?: cloudwatch.MetricOptions): cloudwatch.Metric {
  return new cloudwatch.Metric({
    namespace: DRIFT_METRIC_NAMESPACE,
    metricName: DRIFT_METRIC_NAME,
    dimensionsMap: { [DRIFT_METRIC_DIMENSION]: groupId },
    statistic: cloudwatch.Stats.MAXIMUM,
    period: Duration.hours(1),
    ...props,
  });
}

/** The literal numbers of a declaration, or undefined for a token list (or a list with a token in it). */
export function literalNumbers(numbers: string[]): string[] | undefined {
  if (Token.isUnresolved(numbers) || numbers.some((n) => Token.isUnresolved(n))) return undefined;
  return numbers;
}

/**
 * Identity of a group id within a stack, as the template will write it: a literal as written, a token as
 * its intrinsic (two `getAtt` calls on one resource are different tokens for the same group). A token and
 * a literal that resolve to the same group at deploy time get different keys; the handler treats them as
 * one group, since it sees both resolved.
 */
function groupKey(stack: Stack, groupId: string): string {
  return canonicalJson(Token.isUnresolved(groupId) ? stack.resolve(groupId) : groupId);
}

function hashKey(key: string): string {
  return createHash('sha256').update(key).digest('hex').slice(0, 8).toUpperCase();
}
