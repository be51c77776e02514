/**
 * `cdk-chime-vcg plan`: what the next deploy of a synthesized app would do to its phone-number bindings.
 *
 * It parses each binding resource with the handler's own parser, reads the live bindings, and plans each
 * shard with the handler's own planner (`planForward`, `planDelete`), against the properties deployed now
 * (read from CloudFormation, or from a `local-deploy` state file). Only reads are made.
 */
import { ChimeSDKVoiceClient, GetPhoneNumberCommand, ListPhoneNumbersCommand, NotFoundException } from '@aws-sdk/client-chime-sdk-voice';
import { UsageError } from './args';
import { listGroups, type GroupInfo } from './aws';
import { LIST_PAGE_SIZE, listGroup, ownerOf } from '../../lambda/phone-numbers/observe';
import { isOn, planDelete, planForward, type Readings } from '../../lambda/phone-numbers/plan';
import type { Owner } from '../../lambda/phone-numbers/record';
import { InvalidPropertiesError, lenientSpec, parseSpec, type ShardSpec } from '../../lambda/phone-numbers/request';
import { mapWithConcurrency } from '../../lambda/shared/pool';
import { BINDING_RESOURCE_TYPE, normalizeE164, Prop, shardLogicalId, shardOf } from '../../src/binding-properties';
import { GROUP_RESOURCE_TYPE, GroupAttr, GroupProp } from '../../src/voice-connector-group-properties';
import type { DriverState } from '../local-deploy/driver';
import { canonicalJson, IntrinsicError, NO_VALUE, resolveValue, stringifyProperties, type IntrinsicContext } from '../local-deploy/intrinsics';
import type { CfnTemplate, StackTemplate } from '../local-deploy/template';

export type Action = 'refuse' | 'take' | 'move' | 'bind' | 'adopt' | 'unbind' | 'drifted' | 'undeclared';

export interface Change {
  readonly action: Action;
  readonly number: string;
  /** The group the number is declared for (or, for `unbind` and `undeclared`, the group it is on). */
  readonly groupId: string;
  /** Where the number is now, for `take`, `move`, `refuse` and `drifted`. */
  readonly from?: Owner;
  readonly reason?: string;
}

export interface Unresolved {
  /** `<logical id> Bindings[i]` or `<logical id> ExclusiveGroups[i]`. */
  readonly where: string;
  /** What could not be resolved, e.g. `parameter GroupId` or `imported value SharedGroup`. */
  readonly token: string;
  readonly fix: string;
  /** Literal numbers of the entry, if its list was literal. */
  readonly numbers: readonly string[];
}

export interface StackPlan {
  readonly stackName: string;
  readonly region: string;
  /** Where the deployed properties came from. */
  readonly deployed: 'cloudformation' | 'local-state' | 'not deployed';
  readonly changes: readonly Change[];
  readonly unchanged: number;
  readonly unresolved: readonly Unresolved[];
  /** Problems that fail the deploy as a whole (bad properties, a missing group). */
  readonly errors: readonly string[];
}

export interface PlanResult {
  /** The regions of the planned stacks. */
  readonly regions: readonly string[];
  readonly stacks: readonly StackPlan[];
  /** Group id -> name, for the groups the plan names. */
  readonly groupNames: Readonly<Record<string, string>>;
  /** No refusals and no errors: the deploy would succeed (as far as the resolved values tell). */
  readonly wouldSucceed: boolean;
  /** Every value was resolved. */
  readonly complete: boolean;
}

/** Where `plan` finds what is deployed now. */
export interface DeployedSource {
  readonly kind: 'cloudformation' | 'local-state';
  /** The stack as deployed, or undefined when it is not (never created, or gone: the deploy creates it). */
  deployed(stackName: string): Promise<DeployedStack | undefined>;
}

export interface DeployedStack {
  readonly status: string;
  readonly template: CfnTemplate;
  /** Group resource logical id -> the group's id. */
  readonly groupIds: ReadonlyMap<string, string>;
  /** The parameter values it was deployed with. */
  readonly parameters: Readonly<Record<string, string>>;
  /** Binding resource logical id -> its properties as last sent, already resolved (local state only). */
  readonly resolved?: ReadonlyMap<string, Record<string, unknown>>;
}

/**
 * Stack statuses in which the next deploy starts from nothing: a stack whose creation was rolled back is
 * deleted and created again by `cdk deploy`, and a stack under review was never executed.
 */
const NOT_DEPLOYED = new Set(['ROLLBACK_COMPLETE', 'REVIEW_IN_PROGRESS', 'DELETE_COMPLETE']);

/** Stack statuses in which CloudFormation refuses a deploy until someone acts. */
function blockedReason(status: string): string | undefined {
  if (['ROLLBACK_FAILED', 'UPDATE_ROLLBACK_FAILED', 'DELETE_FAILED'].includes(status)) {
    return `the stack is ${status}: CloudFormation refuses a deploy until it is recovered (continue the rollback, or delete the stack)`;
  }
  if (status.endsWith('_IN_PROGRESS') && status !== 'REVIEW_IN_PROGRESS') return `the stack is ${status}: a deploy cannot start until that operation ends`;
  return undefined;
}

/** A `local-deploy` state file as the deployed side: its properties are already resolved. */
export function localStateSource(state: DriverState): DeployedSource {
  return {
    kind: 'local-state',
    deployed: async (stackName) => {
      const stack = state.stacks.find((s) => s.stackName === stackName);
      if (!stack || NOT_DEPLOYED.has(stack.status)) return undefined;
      const groupIds = new Map<string, string>();
      const resolved = new Map<string, Record<string, unknown>>();
      for (const r of stack.resources) {
        if (r.resourceType === GROUP_RESOURCE_TYPE) groupIds.set(r.logicalId, r.physicalResourceId);
        if (r.resourceType === BINDING_RESOURCE_TYPE) resolved.set(r.logicalId, r.properties);
      }
      return { status: stack.status, template: stack.template, groupIds, resolved, parameters: stack.parameters ?? {} };
    },
  };
}

/** What `cloudFormationSource` reads, read-only: DescribeStacks, GetTemplate and DescribeStackResource. */
export interface CloudFormationReader {
  describe(stack: string): Promise<{ status: string; parameters: Record<string, string> } | undefined>;
  getTemplate(stack: string): Promise<Record<string, unknown>>;
  physicalIdOf(stack: string, logicalId: string): Promise<string | undefined>;
}

/** CloudFormation as the deployed side. */
export function cloudFormationSource(reader: CloudFormationReader): DeployedSource {
  return {
    kind: 'cloudformation',
    deployed: async (stackName) => {
      try {
        const described = await reader.describe(stackName);
        if (!described || NOT_DEPLOYED.has(described.status)) return undefined;
        const template = await reader.getTemplate(stackName) as CfnTemplate;
        const groupIds = new Map<string, string>();
        for (const [id, r] of Object.entries(template.Resources ?? {})) {
          if (r.Type !== GROUP_RESOURCE_TYPE) continue;
          const physical = await reader.physicalIdOf(stackName, id);
          if (physical) groupIds.set(id, physical);
        }
        return { status: described.status, template, groupIds, parameters: described.parameters };
      } catch (error) {
        if (error instanceof UsageError) throw error;
        const cause = (error as { cause?: { code?: string; message?: string } }).cause;
        const why = `${(error as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ''}`;
        throw new UsageError(`cannot read stack ${stackName} from CloudFormation: ${why}. ` +
          'Pass --local-state FILE to compare with a local-deploy state instead');
      }
    },
  };
}

class UnresolvedToken extends Error {
  constructor(readonly token: string, readonly fix: string) {
    super(token);
  }
}

const NEW_GROUP = 'new-group:';

/**
 * Numbers to read (declared, not on their group) up to which each is read with GetPhoneNumber; beyond it,
 * the inventory is listed once instead, 100 numbers a page.
 */
export const READ_ONE_BY_ONE_UP_TO = 200;

export interface PlanOptions {
  readonly client: ChimeSDKVoiceClient;
  readonly region: string;
  readonly source: DeployedSource;
  /** `--parameter` values: they win over the deployed values and the template's defaults (new side only). */
  readonly parameters: Readonly<Record<string, string>>;
  /** Show only these stacks, even with nothing to plan (default: every stack with bindings, new or deployed). The others still inform cross-stack moves. */
  readonly only?: ReadonlySet<string>;
}

interface StackWork {
  readonly stack: StackTemplate;
  readonly deployed: StackPlan['deployed'];
  readonly desired: Map<string, ShardSpec>;
  readonly previous: Map<string, ShardSpec>;
  /** Resolved properties (without ServiceToken) of each side: equal ones get no event from CloudFormation. */
  readonly desiredProps: Map<string, string>;
  readonly previousProps: Map<string, string>;
  /** Shards with a value the plan could not resolve, on either side: not planned. */
  readonly unresolvedShards: Set<string>;
  readonly unresolved: Unresolved[];
  readonly errors: string[];
}

export async function plan(stacks: readonly StackTemplate[], options: PlanOptions): Promise<PlanResult> {
  const { client } = options;
  let allGroups: GroupInfo[] | undefined;
  const groupsByName = async () => (allGroups ??= await listGroups(client));

  // 1. Parse every stack's binding resources, new and deployed, with the handler's parser.
  const work: StackWork[] = [];
  for (const stack of stacks) {
    const deployed = await options.source.deployed(stack.stackName);
    const unresolved: Unresolved[] = [];
    const errors: string[] = [];
    const blocked = deployed && blockedReason(deployed.status);
    if (blocked) errors.push(blocked);
    // New side: --parameter, else the value the stack was deployed with (cdk deploy reuses it), else the Default.
    // SSM-typed parameters are read again at every deploy: only --parameter gives their next value.
    const reused = Object.fromEntries(
      Object.entries(pick(deployed?.parameters ?? {}, stack.template)).filter(([name]) => !isSsm(stack.template, name)),
    );
    const newValues = { ...reused, ...options.parameters };
    const newContext = (groupIds: ReadonlyMap<string, string>) =>
      contextFor(stack.stackName, stack.template, groupIds, newValues, options.region, options.parameters);
    const newGroupIds = new Map<string, string>();
    for (const [id, r] of Object.entries(stack.template.Resources ?? {})) {
      if (r.Type !== GROUP_RESOURCE_TYPE) continue;
      const known = deployed?.groupIds.get(id);
      if (known) {
        newGroupIds.set(id, known);
        continue;
      }
      let name: unknown;
      try {
        name = resolveValue(r.Properties?.[GroupProp.NAME], newContext(new Map()));
      } catch (error) {
        if (!(error instanceof UnresolvedToken) && !(error instanceof IntrinsicError)) throw error;
      }
      // A name the plan cannot resolve leaves the group unknown: its numbers are named as unresolved.
      if (typeof name !== 'string') continue;
      const same = (await groupsByName()).filter((g) => g.name === name);
      if (same.length > 1) {
        errors.push(`${same.length} groups are named '${name}' (${same.map((g) => g.id).join(', ')}); the group resource ${id} cannot tell which is its own`);
      } else if (same.length === 1 && !same[0].recent) {
        // The group handler takes a same-name group as its own only if it was made in the last hour (its own
        // earlier attempt); an older one is someone else's, and the Create fails.
        errors.push(`a group named '${name}' already exists (${same[0].id}, made over an hour ago), so creating the group resource ${id} fails: ` +
          'name the new group differently, or use the existing one with VoiceConnectorGroup.fromVoiceConnectorGroupId');
      }
      newGroupIds.set(id, same.length === 1 ? same[0].id : `${NEW_GROUP}${name}`);
    }
    const desired = new Map<string, ShardSpec>();
    const desiredProps = new Map<string, string>();
    const previousProps = new Map<string, string>();
    const unresolvedShards = new Set<string>();
    for (const [id, r] of Object.entries(stack.template.Resources ?? {})) {
      if (r.Type !== BINDING_RESOURCE_TYPE) continue;
      const context = newContext(newGroupIds);
      const missed: Unresolved[] = [];
      const props = resolveBindingProperties(id, r.Properties ?? {}, context, missed);
      unresolved.push(...missed);
      if (missed.length > 0) {
        unresolvedShards.add(id);
        continue;
      }
      desiredProps.set(id, canonicalJson(props));
      try {
        desired.set(id, parseSpec(props, { requestType: deployed?.template.Resources?.[id] ? 'Update' : 'Create', logicalId: id }));
      } catch (error) {
        if (!(error instanceof InvalidPropertiesError)) throw error;
        errors.push(error.message);
      }
    }
    const previous = new Map<string, ShardSpec>();
    for (const [id, r] of Object.entries(deployed?.template.Resources ?? {})) {
      if (r.Type !== BINDING_RESOURCE_TYPE) continue;
      let props = deployed!.resolved?.get(id);
      if (props) {
        props = Object.fromEntries(Object.entries(props).filter(([key]) => key !== 'ServiceToken'));
      } else {
        // Deployed side: only the values it was deployed with (never --parameter, which is the next deploy's).
        const context = contextFor(stack.stackName, deployed!.template, deployed!.groupIds, deployed!.parameters, options.region);
        const missed: Unresolved[] = [];
        props = resolveBindingProperties(id, r.Properties ?? {}, context, missed);
        unresolved.push(...missed.map((u) => ({ ...u, where: `${u.where} (deployed)` })));
        if (missed.length > 0) {
          unresolvedShards.add(id);
          continue;
        }
      }
      previousProps.set(id, canonicalJson(props));
      const spec = lenientSpec(props);
      if (spec) previous.set(id, spec);
    }
    for (const id of unresolvedShards) {
      desired.delete(id);
      previous.delete(id);
    }
    work.push({
      stack, deployed: deployed ? options.source.kind : 'not deployed', desired, previous, desiredProps, previousProps, unresolvedShards, unresolved, errors,
    });
  }

  // 2. Read: list every real group involved, then read each declared number not on its group. The handler's
  // lookupOwners answers only owners; a plan also needs whether the number exists and its product type.
  const groupIds = new Set<string>();
  for (const w of work) {
    for (const spec of [...w.desired.values(), ...w.previous.values()]) {
      for (const b of spec.bindings.values()) groupIds.add(b.groupId);
      for (const g of spec.exclusiveGroups) groupIds.add(g);
    }
  }
  const groups = new Map<string, ReadonlySet<string>>();
  const missingGroups = new Set<string>();
  // Listing the numbers of a group that does not exist may answer an empty page, so existence comes from the group list.
  const existing = new Set((await groupsByName()).map((g) => g.id));
  await mapWithConcurrency([...groupIds], 4, async (g) => {
    if (g.startsWith(NEW_GROUP)) {
      groups.set(g, new Set());
      return;
    }
    const listed = existing.has(g) ? await listGroup(client, g, Date.now() + 10 * 60_000) : undefined;
    if (listed) groups.set(g, listed); else missingGroups.add(g);
  });
  const toRead = new Set<string>();
  for (const w of work) {
    for (const spec of w.desired.values()) {
      for (const b of spec.bindings.values()) if (!groups.get(b.groupId)?.has(b.number)) toRead.add(b.number);
    }
  }
  const owners = new Map<string, Owner | null>();
  const details = new Map<string, { readonly exists: boolean; readonly productType?: string }>();
  if (toRead.size > READ_ONE_BY_ONE_UP_TO) {
    // Many numbers to read (a first deploy of a large stack): a page of the inventory answers 100 at a time.
    let nextToken: string | undefined;
    do {
      const page = await client.send(new ListPhoneNumbersCommand({ MaxResults: LIST_PAGE_SIZE, NextToken: nextToken }));
      for (const found of page.PhoneNumbers ?? []) {
        const raw = found.E164PhoneNumber ?? found.PhoneNumberId;
        if (!raw) continue;
        const number = normalizeE164(raw);
        if (!toRead.has(number)) continue;
        owners.set(number, ownerOf(found) ?? null);
        details.set(number, { exists: true, productType: found.ProductType });
      }
      nextToken = page.NextToken;
    } while (nextToken);
    for (const number of toRead) {
      if (details.has(number)) continue;
      owners.set(number, null);
      details.set(number, { exists: false });
    }
  }
  await mapWithConcurrency([...toRead].filter((n) => !details.has(n)).sort(), 10, async (number) => {
    try {
      const { PhoneNumber: found } = await client.send(new GetPhoneNumberCommand({ PhoneNumberId: number }));
      owners.set(number, (found && ownerOf(found)) ?? null);
      details.set(number, { exists: true, productType: found?.ProductType });
    } catch (error) {
      if (!(error instanceof NotFoundException) && (error as { name?: string }).name !== 'NotFoundException') throw error;
      owners.set(number, null);
      details.set(number, { exists: false });
    }
  });
  const readings: Readings = { owners, groups, missingGroups };

  // 3. Plan each shard, and look across stacks.
  const declaredBy = new Map<string, string[]>();
  const previouslyBy = new Map<string, Array<{ stack: string; groupId: string }>>();
  for (const w of work) {
    for (const spec of w.desired.values()) for (const n of spec.bindings.keys()) declaredBy.set(n, [...(declaredBy.get(n) ?? []), w.stack.stackName]);
    for (const spec of w.previous.values()) {
      for (const b of spec.bindings.values()) {
        previouslyBy.set(b.number, [...(previouslyBy.get(b.number) ?? []), { stack: w.stack.stackName, groupId: b.groupId }]);
      }
    }
  }

  const shown = (w: StackWork) => (options.only
    ? options.only.has(w.stack.stackName)
    : w.desired.size + w.previous.size + w.unresolvedShards.size + w.errors.length > 0);
  const stackPlans: StackPlan[] = work.filter(shown).map((w) => {
    const changes: Change[] = [];
    const errors = [...w.errors];
    const onMissing = new Map<string, string[]>();
    let declaredCount = 0;
    for (const id of new Set([...w.desired.keys(), ...w.previous.keys()])) {
      const desired = w.desired.get(id);
      const previous = w.previous.get(id);
      if (desired && previous && w.desiredProps.get(id) === w.previousProps.get(id)) {
        // Same properties as deployed: CloudFormation sends this resource no event, so nothing changes.
        declaredCount += desired.bindings.size;
        continue;
      }
      if (!desired) {
        for (const step of planDelete(previous!).steps) {
          if (step.kind !== 'disassociate') continue;
          for (const n of step.numbers) {
            if (isOn(readings, n, step.groupId)) changes.push({ action: 'unbind', number: n, groupId: step.groupId, reason: 'no longer declared' });
          }
        }
        continue;
      }
      declaredCount += desired.bindings.size;
      // What the service would refuse, that the owner alone does not show: only for numbers the handler
      // acts on (new, moved, or read on every deploy); numbers it leaves unchanged are never sent.
      const extra: Change[] = [];
      const touched = (b: { number: string; groupId: string; everyDeploy: boolean }) => {
        const had = previous?.bindings.get(b.number);
        return !had || had.groupId !== b.groupId || b.everyDeploy;
      };
      for (const b of desired.bindings.values()) {
        if (!touched(b)) continue;
        if (missingGroups.has(b.groupId)) {
          onMissing.set(b.groupId, [...(onMissing.get(b.groupId) ?? []), b.number]);
          continue;
        }
        if (isOn(readings, b.number, b.groupId)) continue;
        const d = details.get(b.number);
        if (d && !d.exists) {
          extra.push({ action: 'refuse', number: b.number, groupId: b.groupId, reason: `not in this account's phone number inventory in ${options.region} (GetPhoneNumber answered NotFound): order or port it first, or remove it` });
        } else if (d?.productType && d.productType !== 'VoiceConnector') {
          extra.push({ action: 'refuse', number: b.number, groupId: b.groupId, reason: `its product type is ${d.productType}; only VoiceConnector numbers can be bound to a Voice Connector group: change it with \`aws chime-sdk-voice update-phone-number\`, or remove it` });
        }
      }
      const onMissingGroups = [...desired.bindings.values()].filter((b) => missingGroups.has(b.groupId) && touched(b)).map((b) => b.number);
      const skip = new Set([...extra.map((c) => c.number), ...onMissingGroups]);
      let spec = without(desired, skip);
      let forward = planForward(spec, previous, readings);
      const refused = forward.refused;
      if (refused.length > 0) {
        spec = without(spec, new Set(refused.map((r) => r.number)));
        forward = planForward(spec, previous, readings);
      }
      changes.push(...extra);
      for (const r of refused) {
        const mover = (previouslyBy.get(r.number) ?? []).find((p) => p.stack !== w.stack.stackName && r.owner.kind === 'group' && p.groupId === r.owner.id);
        const stillDeclared = mover && (declaredBy.get(r.number) ?? []).includes(mover.stack);
        changes.push({
          action: 'refuse',
          number: r.number,
          groupId: r.groupId,
          from: r.owner,
          reason: mover && !stillDeclared
            ? `it moves here from stack ${mover.stack}, which still holds it on that group: deploy ${mover.stack} first (it unbinds the number), then this stack`
            : 'bound elsewhere: set forceAssociate: true on the construct that declares it to take it, or unbind it there first',
        });
      }
      for (const step of forward.steps) {
        if (step.kind === 'associate') {
          for (const n of step.numbers) {
            const prior = forward.prior.get(n);
            const had = previous?.bindings.get(n);
            if (!prior || prior.kind === 'unbound') {
              changes.push({ action: 'bind', number: n, groupId: step.target.id });
            } else if (prior.owner.kind === 'group' && (had?.groupId === prior.owner.id || spec.exclusiveGroups.has(prior.owner.id))) {
              changes.push({ action: 'move', number: n, groupId: step.target.id, from: prior.owner });
            } else {
              changes.push({ action: 'take', number: n, groupId: step.target.id, from: prior.owner, reason: 'forceAssociate' });
            }
          }
        } else {
          for (const n of step.numbers) {
            changes.push({ action: 'unbind', number: n, groupId: step.groupId, reason: previous?.bindings.has(n) ? 'no longer declared' : 'on an exclusive group that does not declare it' });
          }
        }
      }
      for (const b of spec.bindings.values()) {
        const had = previous?.bindings.get(b.number);
        if (had?.groupId !== b.groupId && isOn(readings, b.number, b.groupId)) {
          changes.push({ action: 'adopt', number: b.number, groupId: b.groupId, reason: 'already bound to its group: no call' });
        }
      }
      for (const d of forward.notRepaired) {
        changes.push({ action: 'drifted', number: d.number, groupId: spec.bindings.get(d.number)!.groupId, from: d.owner, reason: 'EVERY_DEPLOY number found elsewhere; left there without forceAssociate' });
      }
    }
    for (const [g, numbers] of onMissing) {
      errors.push(`group ${g} does not exist in ${options.region}, so ${numbers.length} declared number(s) cannot be bound to it: ` +
        `${numbers.sort().slice(0, 5).join(', ')}${numbers.length > 5 ? ', ...' : ''}`);
    }
    // Numbers on this stack's groups that no stack of the app declares (left alone unless the group is exclusive).
    const unbinding = new Set(changes.filter((c) => c.action === 'unbind').map((c) => c.number));
    const ownGroups = new Set([...w.desired.values()].flatMap((s) => [...s.bindings.values()].map((b) => b.groupId)));
    for (const g of ownGroups) {
      for (const n of [...(groups.get(g) ?? [])].sort()) {
        // A number of a resource the plan could not resolve may well be declared: say nothing of it.
        if (declaredBy.has(n) || unbinding.has(n) || w.unresolvedShards.has(shardLogicalId(shardOf(n)))) continue;
        changes.push({ action: 'undeclared', number: n, groupId: g, reason: 'bound to a declared group but declared by no construct: left alone' });
      }
    }
    const counted = new Set(changes.filter((c) => c.action !== 'unbind' && c.action !== 'undeclared').map((c) => c.number));
    return {
      stackName: w.stack.stackName,
      region: options.region,
      deployed: w.deployed,
      changes: changes.sort(byAction),
      unchanged: Math.max(0, declaredCount - counted.size),
      unresolved: w.unresolved,
      errors,
    };
  });

  const names: Record<string, string> = {};
  for (const g of allGroups ?? []) names[g.id] = g.name;
  for (const g of groupIds) {
    if (g.startsWith(NEW_GROUP)) names[g] = `(new group '${g.slice(NEW_GROUP.length)}')`;
  }
  return {
    regions: [options.region],
    stacks: stackPlans,
    groupNames: names,
    wouldSucceed: stackPlans.every((s) => s.errors.length === 0 && !s.changes.some((c) => c.action === 'refuse')),
    complete: stackPlans.every((s) => s.unresolved.length === 0),
  };
}

const ORDER: readonly Action[] = ['refuse', 'take', 'move', 'bind', 'adopt', 'unbind', 'drifted', 'undeclared'];

function byAction(a: Change, b: Change): number {
  return a.groupId.localeCompare(b.groupId) || ORDER.indexOf(a.action) - ORDER.indexOf(b.action) || a.number.localeCompare(b.number);
}

function without(spec: ShardSpec, numbers: ReadonlySet<string>): ShardSpec {
  if (numbers.size === 0) return spec;
  return { ...spec, bindings: new Map([...spec.bindings].filter(([n]) => !numbers.has(n))) };
}

function partitionOf(region: string): { partition: string; suffix: string } {
  if (region.startsWith('cn-')) return { partition: 'aws-cn', suffix: 'amazonaws.com.cn' };
  if (region.startsWith('us-gov-')) return { partition: 'aws-us-gov', suffix: 'amazonaws.com' };
  return { partition: 'aws', suffix: 'amazonaws.com' };
}

/** The template's parameters' values among `values`: a parameter the template no longer has is dropped. */
function pick(values: Readonly<Record<string, string>>, template: CfnTemplate): Record<string, string> {
  return Object.fromEntries(Object.entries(values).filter(([name]) => template.Parameters?.[name]));
}

/** A parameter value CloudFormation masks (NoEcho): the plan cannot know it. */
const MASKED = /^\*+$/;

/** Whether a parameter is an SSM parameter type, which CloudFormation resolves from SSM at each deploy. */
function isSsm(template: CfnTemplate, name: string): boolean {
  return template.Parameters?.[name]?.Type?.startsWith('AWS::SSM::Parameter::Value') ?? false;
}

/**
 * `values` are the parameter values to use. On the new side, `explicit` holds the --parameter ones: an SSM
 * parameter takes only those (its Default is a path in SSM, read at deploy time).
 */
function contextFor(
  stackName: string, template: CfnTemplate, groupIds: ReadonlyMap<string, string>, values: Readonly<Record<string, string>>, region: string,
  explicit?: Readonly<Record<string, string>>,
): IntrinsicContext {
  const resources = template.Resources ?? {};
  const { partition, suffix } = partitionOf(region);
  const groupRef = (id: string) => {
    const groupId = groupIds.get(id);
    if (groupId === undefined) throw new UnresolvedToken(`the group resource ${id}`, 'deploy it once, or name the group literally');
    return groupId;
  };
  return {
    mappings: template.Mappings,
    ref: (name) => {
      const parameter = template.Parameters?.[name];
      if (parameter && explicit && isSsm(template, name) && explicit[name] === undefined) {
        throw new UnresolvedToken(`SSM parameter ${name} (${String(parameter.Default ?? 'no default')})`, `the plan does not read SSM: pass --parameter ${name}=<value>`);
      }
      if (parameter) {
        const value = values[name] ?? (parameter.Default === undefined ? undefined : String(parameter.Default));
        if (value === undefined) throw new UnresolvedToken(`parameter ${name}`, `pass --parameter ${name}=<value>`);
        if (String((parameter as { NoEcho?: unknown }).NoEcho) === 'true' && MASKED.test(value)) {
          throw new UnresolvedToken(`parameter ${name} (NoEcho: CloudFormation masks its value)`, `pass --parameter ${name}=<value>`);
        }
        // CloudFormation hands a list parameter to the template as a list.
        const isList = parameter.Type === 'CommaDelimitedList' || parameter.Type?.startsWith('List<');
        return isList ? value.split(',').map((item) => item.trim()) : value;
      }
      if (name in values) return values[name];
      switch (name) {
        case 'AWS::NoValue': return NO_VALUE;
        case 'AWS::Region': return region;
        case 'AWS::StackName': return stackName;
        case 'AWS::Partition': return partition;
        case 'AWS::URLSuffix': return suffix;
      }
      if (name.startsWith('AWS::')) throw new UnresolvedToken(`pseudo parameter ${name}`, `pass --parameter ${name}=<value>`);
      const resource = resources[name];
      if (resource?.Type === GROUP_RESOURCE_TYPE) return groupRef(name);
      throw new UnresolvedToken(`resource ${name} (${resource?.Type ?? 'not in the template'})`, 'the plan resolves only parameters and this library\'s groups');
    },
    getAtt: (id, attribute) => {
      if (resources[id]?.Type === GROUP_RESOURCE_TYPE && attribute === GroupAttr.GROUP_ID) return groupRef(id);
      throw new UnresolvedToken(`Fn::GetAtt ${id}.${attribute}`, 'the plan resolves only parameters and this library\'s groups');
    },
  };
}

/** Resolves a binding resource's properties entry by entry; an entry it cannot resolve is left out and named. */
function resolveBindingProperties(
  id: string, properties: Record<string, unknown>, context: IntrinsicContext, unresolved: Unresolved[],
): Record<string, unknown> {
  const attempt = (where: string, value: unknown, numbers: readonly string[] = []): { ok: true; value: unknown } | { ok: false } => {
    try {
      return { ok: true, value: resolveValue(value, context) };
    } catch (error) {
      if (error instanceof UnresolvedToken) {
        unresolved.push({ where, token: error.token, fix: error.fix, numbers });
      } else if (error instanceof IntrinsicError) {
        const fn = /unsupported intrinsic function (\S+)/.exec(error.message)?.[1];
        const token = fn === 'Fn::ImportValue' ? `imported value ${JSON.stringify(findImport(value))}` : error.message;
        unresolved.push({ where, token, fix: fn === 'Fn::ImportValue' ? 'the plan does not read exports; name the group literally to plan it' : 'the plan cannot evaluate it', numbers });
      } else {
        throw error;
      }
      return { ok: false };
    }
  };
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(properties)) {
    if (key === 'ServiceToken') continue;
    if (key === Prop.BINDINGS && Array.isArray(value)) {
      const entries: unknown[] = [];
      value.forEach((entry, i) => {
        const literal = (entry as Record<string, unknown>)?.E164PhoneNumbers;
        const numbers = Array.isArray(literal) ? literal.filter((n): n is string => typeof n === 'string') : [];
        const r = attempt(`${id} ${Prop.BINDINGS}[${i}]`, entry, numbers);
        if (r.ok) entries.push(r.value);
      });
      out[key] = entries;
    } else if (key === Prop.EXCLUSIVE_GROUPS && Array.isArray(value)) {
      const ids: unknown[] = [];
      value.forEach((g, i) => {
        const r = attempt(`${id} ${Prop.EXCLUSIVE_GROUPS}[${i}]`, g);
        if (r.ok) ids.push(r.value);
      });
      out[key] = ids;
    } else {
      const r = attempt(`${id} ${key}`, value);
      if (r.ok && r.value !== NO_VALUE) out[key] = r.value;
    }
  }
  return stringifyProperties(out) as Record<string, unknown>;
}

function findImport(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return undefined;
  if ('Fn::ImportValue' in value) return (value as Record<string, unknown>)['Fn::ImportValue'];
  for (const item of Object.values(value)) {
    const found = findImport(item);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** One plan of several (one per region). */
export function mergePlans(results: readonly PlanResult[]): PlanResult {
  return {
    regions: results.flatMap((r) => r.regions),
    stacks: results.flatMap((r) => r.stacks),
    groupNames: Object.assign({}, ...results.map((r) => r.groupNames)) as Record<string, string>,
    wouldSucceed: results.every((r) => r.wouldSucceed),
    complete: results.every((r) => r.complete),
  };
}

/** The plan for people: per stack and group, one line per number that changes. */
export function formatPlan(result: PlanResult): string {
  const lines: string[] = [];
  const groupText = (id: string) => (result.groupNames[id] && !id.startsWith(NEW_GROUP) ? `${result.groupNames[id]} (${id})` : result.groupNames[id] ?? id);
  for (const s of result.stacks) {
    lines.push(`Stack ${s.stackName} in ${s.region} (${s.deployed === 'not deployed' ? 'not deployed yet: the deploy creates it' : `compared with what ${s.deployed === 'cloudformation' ? 'CloudFormation' : 'the local state'} has deployed`})`);
    for (const e of s.errors) lines.push(`  error: ${e}`);
    for (const u of s.unresolved) {
      lines.push(`  unresolved: ${u.where} uses ${u.token}${u.numbers.length ? ` (${u.numbers.length} number(s): ${u.numbers.slice(0, 3).join(', ')}${u.numbers.length > 3 ? ', ...' : ''})` : ''}; not planned: ${u.fix}`);
    }
    let group: string | undefined;
    for (const c of s.changes) {
      if (c.groupId !== group) {
        group = c.groupId;
        lines.push(`  group ${groupText(group)}`);
      }
      const from = c.from && (c.from.kind === 'group' ? `from group ${groupText(c.from.id)}` : `from voice connector ${c.from.id}`);
      const extra = [from ?? '', c.reason ?? ''].filter((x) => x).join(': ');
      lines.push(`    ${c.action.padEnd(10)} ${c.number}${extra ? `  ${extra}` : ''}`);
    }
    const count = (a: Action) => s.changes.filter((c) => c.action === a).length;
    const counts = ORDER.map((a) => [a, count(a)] as const).filter(([, n]) => n > 0).map(([a, n]) => `${n} ${a}`);
    lines.push(`  ${[...counts, `${s.unchanged} unchanged`].join(', ')}`);
  }
  const writes = result.stacks.reduce((n, s) => n + s.changes.filter((c) => ['take', 'move', 'bind', 'unbind'].includes(c.action)).length, 0);
  lines.push(result.wouldSucceed
    ? `The deploy would succeed${result.complete ? '' : ' for what could be resolved (see unresolved above)'}: ${writes === 0 ? 'no binding changes' : `${writes} number(s) change`}.`
    : 'The deploy would fail: see the refused numbers and errors above.');
  return `${lines.join('\n')}\n`;
}

/** 0: the deploy would succeed; 1: it would fail; 3: it would succeed for what was resolved, but some values were not. */
export function planExitCode(result: PlanResult): number {
  if (!result.wouldSucceed) return 1;
  return result.complete ? 0 : 3;
}
