import type { BindingRequest, BindingSpec } from './request';

/** Who held a number before this handler moved it, so a failed attempt can give it back. */
export type Owner =
  | { readonly kind: 'group'; readonly id: string }
  | { readonly kind: 'voiceConnector'; readonly id: string };

/**
 * How an association step treats numbers bound elsewhere:
 * - `never`: leave them; the service reports PhoneNumberAssociationsExist and the step fails.
 * - `ours`: they sit on this resource's previous group, so they are moved without asking.
 * - `take`: the user set forceAssociate; numbers whose owner is already known (`owners`) are forced
 *   over at once, the others are asked for politely, then looked up and forced if contested. Either
 *   way the owner is remembered so a failure can hand the number back.
 */
export type ForceMode = 'never' | 'ours' | 'take';

export type Step =
  | {
    readonly kind: 'associate';
    readonly groupId: string;
    readonly numbers: readonly string[];
    readonly force: ForceMode;
    /** Owner before the move, known up front for `ours`. */
    readonly from?: Owner;
    /** For `take`: owners looked up in an earlier invocation of the same deployment. */
    readonly owners?: Readonly<Record<string, Owner>>;
  }
  | { readonly kind: 'disassociate'; readonly groupId: string; readonly numbers: readonly string[] };

/** Everything the handler will change, computed before the first write. */
export interface Plan {
  readonly physicalId: string;
  readonly groupId: string;
  readonly declared: number;
  /** Declared numbers that need no call: already in the wanted state. */
  readonly unchanged: number;
  readonly steps: readonly Step[];
  /**
   * Drift this plan repairs, for resources that repair on deploy (every deploy, or exclusive); absent
   * otherwise, so on-change plans are exactly what they always were.
   */
  readonly repair?: Repair;
}

/** Drift between the declared numbers and the group, and what repairing it does. */
export interface Repair {
  /** Declared numbers not bound to the group (before repair). */
  readonly missing: readonly string[];
  /** Numbers bound to the group that no binding resource of the stack declares (exclusive only). */
  readonly foreign: readonly string[];
  /** Missing numbers that were unbound, bound again. */
  readonly rebind: readonly string[];
  /** Missing numbers bound elsewhere, taken back because forceAssociate is set. */
  readonly take: readonly string[];
  /** Missing numbers bound elsewhere and left there (no forceAssociate), with where they are. */
  readonly notRepaired: ReadonlyArray<{ readonly number: string; readonly owner: Owner }>;
}

/**
 * `declaredCount` of a read that must list the whole group (never per-number reads): an exclusive
 * resource needs every number on the group, not only the declared ones. The reader lists the group when
 * the numbers asked about outnumber one call per hundred declared numbers, which with 0 is always.
 */
export const WHOLE_GROUP = 0;

/** Whether Create/Update of this spec reads all declared numbers and repairs drift, not only the diff. */
export function repairsOnDeploy(spec: BindingSpec): boolean {
  return spec.everyDeploy === true || spec.exclusive === true;
}

/**
 * Drift of one group against one resource's declaration, and the repair for it. Pure: `owners` holds
 * the current owner of each missing number bound elsewhere (absent: unbound). Never takes a number bound
 * elsewhere unless forceAssociate is set; never unbinds a number another resource of the stack declares.
 */
export function planRepair(
  spec: BindingSpec,
  group: GroupObservation,
  owners: ReadonlyMap<string, Owner>,
  options: { readonly skip?: ReadonlySet<string> } = {},
): { readonly repair: Repair; readonly steps: Step[] } {
  const skip = options.skip ?? new Set<string>();
  const wanted = new Set(spec.numbers);
  const missing = spec.numbers.filter((n) => !skip.has(n) && !group.bound.has(n));
  const foreign = spec.exclusive
    ? [...group.bound].filter((n) => !wanted.has(n) && !spec.peerNumbers.has(n) && !skip.has(n)).sort()
    : [];
  const rebind = missing.filter((n) => !owners.has(n));
  const elsewhere = missing.filter((n) => owners.has(n));
  const take = spec.forceAssociate ? elsewhere : [];
  const notRepaired = spec.forceAssociate ? [] : elsewhere.map((number) => ({ number, owner: owners.get(number)! }));
  const steps: Step[] = [];
  if (rebind.length > 0) steps.push({ kind: 'associate', groupId: spec.groupId, numbers: rebind, force: 'never' });
  if (take.length > 0) {
    const known: Record<string, Owner> = {};
    take.forEach((n) => { known[n] = owners.get(n)!; });
    steps.push({ kind: 'associate', groupId: spec.groupId, numbers: take, force: 'take', owners: known });
  }
  if (foreign.length > 0) steps.push({ kind: 'disassociate', groupId: spec.groupId, numbers: foreign });
  return { repair: { missing, foreign, rebind, take, notRepaired }, steps };
}

/**
 * Declared numbers whose owner must be looked up before a repair is planned: those not on the group
 * that the plan would not bind anyway (numbers added by this deploy follow the usual rules).
 */
export function driftLookups(request: BindingRequest, observations: Observations): string[] {
  if (request.type !== 'Update' || !repairsOnDeploy(request.desired)) return [];
  const { desired, previous } = request;
  if (previous && previous.groupId !== desired.groupId) return [];
  const group = observations.get(desired.groupId);
  if (!group || !group.exists) return [];
  const { added } = diff(desired, previous);
  const fresh = new Set(added);
  return desired.numbers.filter((n) => !fresh.has(n) && !group.bound.has(n));
}

/** Which numbers' bindings must be known, per group, before planning. */
export interface ReadRequest {
  readonly groupId: string;
  readonly numbers: ReadonlySet<string>;
  /** How many numbers the resource declares: the reader weighs one list of the group against per-number reads. */
  readonly declaredCount: number;
}

/** What a read found: whether the group exists, and which of the asked-about numbers are bound to it. */
export interface GroupObservation {
  readonly exists: boolean;
  readonly bound: ReadonlySet<string>;
}

export type Observations = ReadonlyMap<string, GroupObservation>;

/** Raised when the plan cannot be made: the message is for the person running the deployment. */
export class PlanError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanError';
  }
}

/**
 * Physical id of a binding resource. It embeds the group so that a group change yields a new id (and
 * CloudFormation sends the old id's Delete), and the logical id so that two resources on one group differ.
 */
export function physicalIdFor(groupId: string, logicalId: string): string {
  return `${groupId}/${logicalId}`;
}

export function requiredReads(request: BindingRequest): ReadRequest[] {
  switch (request.type) {
    case 'Create':
      return [read(request.desired.groupId, request.desired.numbers, request.desired)];
    case 'Delete':
      return request.previous ? [read(request.previous.groupId, request.previous.numbers, request.previous)] : [];
    case 'Update': {
      const { desired, previous } = request;
      if (previous && previous.groupId !== desired.groupId) {
        return [read(desired.groupId, desired.numbers, desired), read(previous.groupId, previous.numbers, previous)];
      }
      const { added, removed } = diff(desired, previous);
      if (repairsOnDeploy(desired)) {
        return [read(desired.groupId, [...desired.numbers, ...removed], desired)];
      }
      const touched = [...added, ...removed];
      return touched.length === 0 ? [] : [read(desired.groupId, touched, desired)];
    }
  }
}

/**
 * Computes the changes that take the observed bindings to the declared ones. Pure: the same request and
 * observations always give the same plan, which is what makes a repeated event harmless.
 */
export function planChanges(request: BindingRequest, observations: Observations, owners: ReadonlyMap<string, Owner> = new Map()): Plan {
  switch (request.type) {
    case 'Create': {
      const plan = planBind(
        request.desired,
        request.desired.numbers,
        observe(observations, request.desired.groupId, true),
        physicalIdFor(request.desired.groupId, request.logicalId),
      );
      return repairsOnDeploy(request.desired) ? withForeignUnbound(plan, request.desired, observations) : plan;
    }
    case 'Delete':
      return planDelete(request.physicalId, request.previous, observations);
    case 'Update': {
      const { desired, previous } = request;
      if (previous && previous.groupId !== desired.groupId) {
        const plan = planGroupChange(desired, previous, observations, physicalIdFor(desired.groupId, request.logicalId));
        return repairsOnDeploy(desired) ? withForeignUnbound(plan, desired, observations) : plan;
      }
      // Unreadable old properties cannot say whether the group changed; the id derived from the new
      // group is then the one that keeps "new id iff new group" (the old id's Delete has nothing to read).
      const physicalId = previous ? request.physicalId : physicalIdFor(desired.groupId, request.logicalId);
      const { added, removed } = diff(desired, previous);
      if (repairsOnDeploy(desired)) {
        return planUpdateWithRepair(desired, added, removed, observe(observations, desired.groupId, true), physicalId, owners);
      }
      if (added.length === 0 && removed.length === 0) {
        const declared = desired.numbers.length;
        return { physicalId, groupId: desired.groupId, declared, unchanged: declared, steps: [] };
      }
      const group = observe(observations, desired.groupId, true);
      const bind = planBind(desired, added, group, physicalId);
      const unbind = removed.filter((n) => group.bound.has(n));
      return {
        ...bind,
        unchanged: desired.numbers.length - countNumbers(bind.steps),
        steps: unbind.length > 0 ? [...bind.steps, { kind: 'disassociate', groupId: desired.groupId, numbers: unbind }] : bind.steps,
      };
    }
  }
}

/**
 * An Update of a resource that repairs on deploy: the usual diff (added numbers bound under the usual
 * rules, removed ones unbound), plus the repair of every other declared number and, when exclusive, the
 * unbinding of numbers nothing declares.
 */
function planUpdateWithRepair(
  desired: BindingSpec,
  added: readonly string[],
  removed: readonly string[],
  group: GroupObservation,
  physicalId: string,
  owners: ReadonlyMap<string, Owner>,
): Plan {
  const bind = planBind(desired, added, group, physicalId);
  const unbind = removed.filter((n) => group.bound.has(n));
  const { repair, steps } = planRepair(desired, group, owners, { skip: new Set([...added, ...removed]) });
  const all = [...bind.steps, ...steps, ...(unbind.length > 0 ? [{ kind: 'disassociate' as const, groupId: desired.groupId, numbers: unbind }] : [])];
  return { ...bind, unchanged: desired.numbers.length - countNumbers(all), steps: all, repair };
}

/**
 * Create, or a group change, of a resource that repairs on deploy: every declared number is bound by
 * the plan already; an exclusive resource also unbinds what nothing declares from the target group.
 */
function withForeignUnbound(plan: Plan, desired: BindingSpec, observations: Observations): Plan {
  const group = observe(observations, desired.groupId, true);
  const { repair, steps } = planRepair({ ...desired, numbers: desired.numbers }, group, new Map(), { skip: new Set(desired.numbers) });
  return { ...plan, steps: [...plan.steps, ...steps], repair: { ...repair, missing: [] } };
}

function planBind(desired: BindingSpec, candidates: readonly string[], group: GroupObservation, physicalId: string): Plan {
  const toBind = candidates.filter((n) => !group.bound.has(n));
  return {
    physicalId,
    groupId: desired.groupId,
    declared: desired.numbers.length,
    unchanged: desired.numbers.length - toBind.length,
    steps: toBind.length > 0 ? [{ kind: 'associate', groupId: desired.groupId, numbers: toBind, force: desired.forceAssociate ? 'take' : 'never' }] : [],
  };
}

function planGroupChange(desired: BindingSpec, previous: BindingSpec, observations: Observations, physicalId: string): Plan {
  const target = observe(observations, desired.groupId, true);
  const source = observe(observations, previous.groupId, false);
  const ours = new Set(previous.numbers.filter((n) => source.bound.has(n)));
  const toBind = desired.numbers.filter((n) => !target.bound.has(n));
  const moves = toBind.filter((n) => ours.has(n));
  const fresh = toBind.filter((n) => !ours.has(n));
  const wanted = new Set(desired.numbers);
  const leftovers = [...ours].filter((n) => !wanted.has(n));

  const steps: Step[] = [];
  if (moves.length > 0) {
    steps.push({ kind: 'associate', groupId: desired.groupId, numbers: moves, force: 'ours', from: { kind: 'group', id: previous.groupId } });
  }
  if (fresh.length > 0) {
    steps.push({ kind: 'associate', groupId: desired.groupId, numbers: fresh, force: desired.forceAssociate ? 'take' : 'never' });
  }
  if (leftovers.length > 0) {
    steps.push({ kind: 'disassociate', groupId: previous.groupId, numbers: leftovers });
  }
  return { physicalId, groupId: desired.groupId, declared: desired.numbers.length, unchanged: desired.numbers.length - toBind.length, steps };
}

function planDelete(physicalId: string, previous: BindingSpec | undefined, observations: Observations): Plan {
  if (!previous) {
    return { physicalId, groupId: '', declared: 0, unchanged: 0, steps: [] };
  }
  const group = observe(observations, previous.groupId, false);
  const unbind = previous.numbers.filter((n) => group.bound.has(n));
  return {
    physicalId,
    groupId: previous.groupId,
    declared: previous.numbers.length,
    unchanged: previous.numbers.length - unbind.length,
    steps: unbind.length > 0 ? [{ kind: 'disassociate', groupId: previous.groupId, numbers: unbind }] : [],
  };
}

/**
 * Numbers added and removed by an update on one group. A removed number that a sibling resource now
 * declares has moved within the stack in this deploy: it stays bound, whichever resource runs first.
 */
function diff(desired: BindingSpec, previous: BindingSpec | undefined): { added: string[]; removed: string[] } {
  const before = new Set(previous?.numbers ?? []);
  const after = new Set(desired.numbers);
  return {
    added: desired.numbers.filter((n) => !before.has(n)),
    removed: [...before].filter((n) => !after.has(n) && !desired.peerNumbers.has(n)),
  };
}

function observe(observations: Observations, groupId: string, mustExist: boolean): GroupObservation {
  const found = observations.get(groupId);
  if (!found) {
    throw new Error(`internal: group ${groupId} was not read before planning`);
  }
  if (mustExist && !found.exists) {
    throw new PlanError(
      `Voice connector group ${groupId} does not exist in this account and region. ` +
      'Check voiceConnectorGroupId, and that the stack deploys to the region where the group was created.',
    );
  }
  return found;
}

function read(groupId: string, numbers: readonly string[], spec: BindingSpec): ReadRequest {
  return { groupId, numbers: new Set(numbers), declaredCount: spec.exclusive ? WHOLE_GROUP : spec.numbers.length };
}

function countNumbers(steps: readonly Step[]): number {
  return steps.filter((s) => s.kind === 'associate').reduce((sum, s) => sum + s.numbers.length, 0);
}

/** Numbers an association step moves, with the owner each had before (when known). */
export function ownerBefore(step: Extract<Step, { kind: 'associate' }>, number: string): Owner | undefined {
  return step.from ?? step.owners?.[number];
}

/**
 * The part of a plan not yet done, judged from fresh observations: association steps keep the numbers
 * not yet on their group, disassociation steps the numbers still on it. Because a plan only lists
 * numbers that were not in their wanted state when it was made, everything it lists that is in the
 * wanted state now was changed by this deployment.
 */
export function remainingSteps(plan: Plan, current: Observations): Step[] {
  return plan.steps
    .map((step) => {
      const bound = current.get(step.groupId)?.bound ?? new Set<string>();
      const numbers = step.numbers.filter((n) => (step.kind === 'associate' ? !bound.has(n) : bound.has(n)));
      return { ...step, numbers };
    })
    .filter((step) => step.numbers.length > 0);
}

/** Reads that show how far a plan has got: the plan's numbers, per group. */
export function progressReads(plan: Plan): ReadRequest[] {
  const byGroup = new Map<string, Set<string>>();
  for (const step of plan.steps) {
    const numbers = byGroup.get(step.groupId) ?? new Set<string>();
    step.numbers.forEach((n) => numbers.add(n));
    byGroup.set(step.groupId, numbers);
  }
  return [...byGroup].map(([groupId, numbers]) => ({ groupId, numbers, declaredCount: plan.declared }));
}
