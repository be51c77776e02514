import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import type { CloudFormationCustomResourceEvent } from 'aws-lambda';
import { ControlPlaneServer, type ControlPlaneExecution, type ControlPlaneStack } from './control-plane';
import {
  awaitCompletion, buildEvent, CustomResourceHandler, EventInput, InvocationOptions, InvocationOutcome, invokeHandler, RequestType, stackIdFor,
} from './events';
import { canonicalJson, IntrinsicContext, IntrinsicError, intrinsicProblems, NO_VALUE, resolveValue, stringifyProperties } from './intrinsics';
import { Order, runInOrder } from './scheduler';
import {
  CfnResource, CfnTemplate, dependencyGraph, findCycle, isRetained, resourcesOf, reverseGraph, StackTemplate,
} from './template';

/** A handler function, or the path of a JavaScript module exporting one (a bundled asset). */
export type HandlerSource = string | CustomResourceHandler;

export type Environment = Record<string, string | undefined>;

export interface DeployOptions {
  /** Default `topological`. */
  readonly order?: Order;
  /**
   * Set in `process.env` while the operation runs (an `undefined` value unsets the variable) and
   * restored afterwards. Wins over the handler function's `Environment.Variables` from the template.
   */
  readonly env?: Environment;
  /** The handler's time budget. Default: the handler function's `Timeout`, or 15 minutes without one. */
  readonly timeoutMs?: number;
  /** Deliver every event (or those the predicate picks) twice, with the same RequestId. */
  readonly duplicateDelivery?: boolean | ((event: CloudFormationCustomResourceEvent) => boolean);
  /** Template parameter values; a parameter without one takes its `Default`. */
  readonly parameters?: Record<string, string>;
  /** Pause between the Provider framework's isComplete calls. Default 0 (the real framework waits its queryInterval). */
  readonly queryIntervalMs?: number;
  /** How long the framework keeps calling isComplete before it fails the resource. Default 30 minutes, as the framework's. */
  readonly completionTimeoutMs?: number;
  /**
   * What happens to resources still in progress (their handler or waiter running) when another one fails:
   * `finish` waits for them (the default), `cancel` plays what CloudFormation does: it stops waiting, rolls
   * back at once, and their handlers and waiters go on in the background. A cancelled Create gets a Delete
   * with a physical id CloudFormation made up; a cancelled Update gets the usual rollback Update.
   */
  readonly inFlightOnFailure?: 'finish' | 'cancel';
  /**
   * How the rollback treats a resource whose Update answered a new physical id (undocumented by AWS):
   * `update` sends it an Update back to its old properties (the default), `delete` sends a Delete of the new
   * id in the rollback's cleanup instead, `both` sends the Update and then the Delete.
   */
  readonly replacedUpdateRollback?: 'update' | 'delete' | 'both';
}

export interface LocalDeployDriverOptions extends DeployOptions {
  /** Resource type -> its handler. Resources of other types are taken as already deployed and get no events. */
  readonly handlers: Readonly<Record<string, HandlerSource>>;
  /** Export that a handler module path provides. Default `handler`. */
  readonly handlerExport?: string;
  /** Default `us-east-1`. */
  readonly region?: string;
  /** Default `123456789012`. */
  readonly accountId?: string;
  /** Default `aws`. */
  readonly partition?: string;
  /** Default `amazonaws.com`. */
  readonly urlSuffix?: string;
}

export const DRIVER_STATE_VERSION = 1;

/** Throws unless `state` has the shape `exportState` writes. */
export function assertDriverState(state: unknown): asserts state is DriverState {
  const raw = state as { version?: unknown; stacks?: unknown; executions?: unknown } | undefined;
  const stacksOk = Array.isArray(raw?.stacks) && (raw!.stacks as unknown[]).every((entry) => {
    const stack = entry as { stackName?: unknown; resources?: unknown; template?: unknown };
    return typeof stack?.stackName === 'string' && Array.isArray(stack.resources) && typeof stack.template === 'object' && stack.template !== null;
  });
  if (raw?.version !== DRIVER_STATE_VERSION || !stacksOk || !Array.isArray(raw?.executions)) {
    throw new Error(`not a local-deploy state of version ${DRIVER_STATE_VERSION}`);
  }
}

/** The driver's state as JSON (see `LocalDeployDriver.exportState`). */
export interface DriverState {
  readonly version: number;
  readonly stacks: ReadonlyArray<{
    readonly stackName: string;
    readonly stackId: string;
    readonly status: string;
    readonly template: CfnTemplate;
    readonly resources: readonly DeployedResource[];
    /** Parameter values of the last successful deploy. */
    readonly parameters?: Readonly<Record<string, string>>;
  }>;
  readonly executions: ReadonlyArray<readonly [string, readonly ControlPlaneExecution[]]>;
}

export type StackStatus =
  | 'CREATE_COMPLETE' | 'ROLLBACK_COMPLETE' | 'ROLLBACK_FAILED'
  | 'UPDATE_COMPLETE' | 'UPDATE_ROLLBACK_COMPLETE' | 'UPDATE_ROLLBACK_FAILED'
  | 'DELETE_COMPLETE' | 'DELETE_FAILED';

/** Stack states in which CloudFormation refuses an update. */
const UPDATE_BLOCKED: readonly StackStatus[] = ['ROLLBACK_FAILED', 'UPDATE_ROLLBACK_FAILED', 'DELETE_FAILED'];

/**
 * `cleanup` deletes replaced and removed resources after a successful deploy; `rollback` reverts a failed
 * deploy; `rollback-cleanup` deletes what the failed update created.
 */
export type Phase = 'deploy' | 'cleanup' | 'rollback' | 'rollback-cleanup' | 'destroy';

export interface DeployedResource {
  readonly logicalId: string;
  readonly resourceType: string;
  readonly physicalResourceId: string;
  /** As last sent to the handler: resolved and stringified, `ServiceToken` included. */
  readonly properties: Record<string, unknown>;
  readonly data: Record<string, unknown>;
}

export interface SentEvent {
  readonly phase: Phase;
  readonly requestType: RequestType;
  readonly logicalResourceId: string;
  readonly resourceType: string;
  /** The event's own (absent on Create). */
  readonly physicalResourceId?: string;
  /** 2 for the repeat of a duplicate delivery. */
  readonly delivery: number;
  readonly event: CloudFormationCustomResourceEvent;
  readonly ok: boolean;
  readonly returnedPhysicalResourceId?: string;
  readonly data?: Record<string, unknown>;
  readonly error?: string;
  /** Bytes of the waiter's input (the event and onEvent's answer) when the event started one. */
  readonly waiterInputBytes?: number;
}

export interface OperationResult {
  readonly stackName: string;
  readonly stackId: string;
  readonly status: StackStatus;
  /** In the order they were sent. */
  readonly events: readonly SentEvent[];
  /** Deployed state after the operation: logical id -> resource. */
  readonly resources: Readonly<Record<string, DeployedResource>>;
  /** The first failure of the operation, as `<logical id>: <message>`. */
  readonly failure?: string;
}

export interface StackSnapshot {
  readonly stackName: string;
  readonly stackId: string;
  readonly status: StackStatus;
  readonly template: CfnTemplate;
  readonly resources: Readonly<Record<string, DeployedResource>>;
}

interface StackRecord {
  readonly stackName: string;
  readonly stackId: string;
  /** A final status, or the `_IN_PROGRESS` status of the phase an operation is in. */
  status: string;
  template: CfnTemplate;
  resources: Map<string, DeployedResource>;
  /** The parameter values of the last successful deploy: an update reuses them for values it is not given, as `cdk deploy` does. */
  parameters?: Record<string, string>;
}

interface Run {
  readonly stack: StackRecord;
  readonly options: DeployOptions;
  readonly events: SentEvent[];
  /** Handlers and waiters of cancelled resources, still running: the operation ends only once they do. */
  readonly background: Promise<unknown>[];
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

const FIFTEEN_MINUTES_MS = 15 * 60 * 1000;
/** Lambda's own default when a function declares no `Timeout`. */
const LAMBDA_DEFAULT_TIMEOUT_S = 3;
/** CloudFormation's limits on a template (uploaded through S3) and on the resources of one stack. */
export const MAX_TEMPLATE_BYTES = 1_048_576;
export const MAX_RESOURCES = 500;

/**
 * Drives custom-resource handlers through CloudFormation's lifecycle for synthesized templates, in
 * process, the way a deployed stack with the CDK Provider framework would call them.
 */
export class LocalDeployDriver {
  private readonly stacks = new Map<string, StackRecord>();
  private readonly modules = new Map<string, CustomResourceHandler>();
  /** Executions of each waiter state machine, by its ARN. */
  private readonly executions = new Map<string, ControlPlaneExecution[]>();
  /** The CloudFormation and Step Functions reads the handlers make, served from this driver's state. */
  public readonly controlPlane: ControlPlaneServer = new ControlPlaneServer({
    stack: (nameOrId) => this.controlPlaneStack(nameOrId),
    executions: (arn) => this.executions.get(arn) ?? [],
  });
  private readonly region: string;
  private readonly accountId: string;
  private readonly partition: string;
  private readonly urlSuffix: string;

  constructor(private readonly options: LocalDeployDriverOptions) {
    this.region = options.region ?? 'us-east-1';
    this.accountId = options.accountId ?? '123456789012';
    this.partition = options.partition ?? 'aws';
    this.urlSuffix = options.urlSuffix ?? 'amazonaws.com';
  }

  /** Creates the stack, or updates it when it exists. Throws, before any event, on a template the driver cannot run. */
  public async deploy(stack: StackTemplate, deployOptions: DeployOptions = {}): Promise<OperationResult> {
    const { stackName, template } = stack;
    const previous = this.stacks.get(stackName);
    if (previous && (UPDATE_BLOCKED as readonly string[]).includes(previous.status)) {
      throw new Error(`Stack ${stackName} is in ${previous.status} state and can not be updated; destroy it first`);
    }
    const existing = previous && previous.status !== 'ROLLBACK_COMPLETE' && previous.status !== 'DELETE_COMPLETE' ? previous : undefined;
    this.validate(stackName, template, existing?.template);
    const record: StackRecord = existing ?? {
      stackName, stackId: stackIdFor(stackName, this.region, this.accountId), status: 'CREATE_IN_PROGRESS', template, resources: new Map(),
    };
    const previousValues = Object.fromEntries(Object.entries(existing?.parameters ?? {}).filter(([name]) => template.Parameters?.[name]));
    const parameters = { ...previousValues, ...this.options.parameters, ...deployOptions.parameters };
    const run = this.newRun(record, { ...deployOptions, parameters });
    const oldTemplate = existing?.template;
    const priorStatus = existing?.status as StackStatus | undefined;
    const before = new Map(record.resources);
    // The live view the control plane serves: each logical id's current physical id, as CloudFormation has it.
    const working = new Map(record.resources);
    record.resources = working;
    record.status = existing ? 'UPDATE_IN_PROGRESS' : 'CREATE_IN_PROGRESS';
    record.template = template;
    this.stacks.set(stackName, record);
    return this.withEnvironment(run, [existing?.template, template], async () => {
      const created = new Set<string>();
      const updated = new Map<string, DeployedResource>();
      const failedUpdates = new Map<string, Record<string, unknown>>();
      const cancelled = new Set<string>();
      const inFlight = new Map<string, { properties: Record<string, unknown>; old?: DeployedResource }>();
      let failure: string | undefined;
      const newResources = resourcesOf(template);
      const context = this.intrinsicContext(record, template, working, run.options.parameters);

      const outcome = await runInOrder(Object.keys(newResources), dependencyGraph(template), this.order(run), true, async (id) => {
        const resource = newResources[id];
        if (!this.isDriven(resource.Type)) return true;
        let properties: Record<string, unknown>;
        try {
          properties = stringifyProperties(resolveValue(resource.Properties ?? {}, context)) as Record<string, unknown>;
        } catch (error) {
          failure ??= `${id}: ${(error as Error).message}`;
          return false;
        }
        const old = working.get(id);
        if (old && canonicalJson(old.properties) === canonicalJson(properties)) return true;
        const sent = this.send(run, 'deploy', template, {
          requestType: old ? 'Update' : 'Create',
          logicalResourceId: id,
          resourceType: resource.Type,
          properties,
          oldProperties: old?.properties,
          physicalResourceId: old?.physicalResourceId,
        });
        inFlight.set(id, { properties, old });
        const result = await sent;
        inFlight.delete(id);
        // CloudFormation stopped waiting for a cancelled resource: its late answer changes nothing.
        if (cancelled.has(id)) return false;
        if (!result.ok) {
          failure ??= `${id}: ${result.error}`;
          if (old) {
            failedUpdates.set(id, properties);
          } else if (result.physicalResourceId !== undefined) {
            // Failed in the completion checks: the resource exists for CloudFormation, which deletes it on rollback.
            working.set(id, { logicalId: id, resourceType: resource.Type, physicalResourceId: result.physicalResourceId, properties, data: {} });
            created.add(id);
          }
          return false;
        }
        const { physicalResourceId, data } = result;
        working.set(id, { logicalId: id, resourceType: resource.Type, physicalResourceId, properties, data });
        if (old) updated.set(id, old); else created.add(id);
        return true;
      }, (run.options.inFlightOnFailure ?? 'finish') === 'cancel');
      // Resources still running when CloudFormation gave up on the deploy: cancelled.
      for (const [id, task] of outcome.abandoned) {
        cancelled.add(id);
        run.background.push(task);
        const flight = inFlight.get(id);
        if (!flight) continue;
        if (flight.old) {
          failedUpdates.set(id, flight.properties);
        } else {
          // CloudFormation never got this Create's answer: it deletes the resource under an id of its own.
          working.set(id, {
            logicalId: id,
            resourceType: newResources[id].Type,
            properties: flight.properties,
            data: {},
            physicalResourceId: `${stackName}-${id}-${randomSuffix()}`,
          });
          created.add(id);
        }
      }

      if (failure === undefined) {
        if (existing) {
          record.status = 'UPDATE_COMPLETE_CLEANUP_IN_PROGRESS';
          await this.cleanUp(run, oldTemplate, template, before, working, updated);
        }
        const unchanged = existing && run.events.length === 0 && canonicalJson(template) === canonicalJson(oldTemplate);
        record.parameters = parameters;
        return this.finish(run, unchanged ? priorStatus! : existing ? 'UPDATE_COMPLETE' : 'CREATE_COMPLETE', template, working);
      }
      if (!existing) {
        record.status = 'ROLLBACK_IN_PROGRESS';
        const status = await this.rollBackCreate(run, template, working, created) ? 'ROLLBACK_COMPLETE' : 'ROLLBACK_FAILED';
        return this.finish(run, status, template, working, failure);
      }
      record.status = 'UPDATE_ROLLBACK_IN_PROGRESS';
      const rolledBack = await this.rollBackUpdate(run, existing.template, template, before, working, created, updated, failedUpdates);
      return this.finish(run, rolledBack ? 'UPDATE_ROLLBACK_COMPLETE' : 'UPDATE_ROLLBACK_FAILED', existing.template, working, failure);
    });
  }

  /** Deletes the stack: a Delete for every resource, dependents first, except those with `DeletionPolicy: Retain`. */
  public async destroy(stackName: string, deployOptions: DeployOptions = {}): Promise<OperationResult> {
    const record = this.stacks.get(stackName) ?? {
      stackName, stackId: stackIdFor(stackName, this.region, this.accountId), status: 'DELETE_COMPLETE', template: {}, resources: new Map(),
    };
    const run = this.newRun(record, deployOptions);
    const template = record.template;
    const templateResources = resourcesOf(template);
    const working = new Map(record.resources);
    record.resources = working;
    record.status = 'DELETE_IN_PROGRESS';
    this.stacks.set(stackName, record);
    // Resources a failed rollback left behind may be missing from the template; they still get deleted.
    const nodes = [...new Set([...Object.keys(templateResources), ...working.keys()])].reverse();
    return this.withEnvironment(run, [template], async () => {
      let failure: string | undefined;
      await runInOrder(nodes, reverseGraph(dependencyGraph(template)), this.order(run), false, async (id) => {
        const deployed = working.get(id);
        if (!deployed) return true;
        if (isRetained(templateResources[id]?.DeletionPolicy)) {
          working.delete(id);
          return true;
        }
        const outcome = await this.send(run, 'destroy', template, deleteInput(deployed));
        if (!outcome.ok) {
          failure ??= `${id}: ${outcome.error}`;
          return false;
        }
        working.delete(id);
        return true;
      });
      return this.finish(run, working.size === 0 ? 'DELETE_COMPLETE' : 'DELETE_FAILED', template, working, failure);
    });
  }

  /** Sends one hand-made event (see `buildEvent`) to the handler of its ResourceType; leaves the driver's stacks alone. */
  public async sendEvent(
    event: CloudFormationCustomResourceEvent,
    options: { readonly env?: Environment; readonly timeoutMs?: number } = {},
  ): Promise<InvocationOutcome> {
    const controlPlane = await this.controlPlane.endpoint();
    const env = {
      AWS_REGION: this.region,
      AWS_DEFAULT_REGION: this.region,
      AWS_ENDPOINT_URL_CLOUDFORMATION: controlPlane,
      AWS_ENDPOINT_URL_SFN: controlPlane,
      ...this.options.env,
      ...options.env,
    };
    return withEnv(env, async () => invokeHandler(this.handlerFor(event.ResourceType), event, {
      timeoutMs: options.timeoutMs ?? this.options.timeoutMs ?? FIFTEEN_MINUTES_MS,
      functionName: 'local-custom-resource-handler',
      invokedFunctionArn: `arn:${this.partition}:lambda:${this.region}:${this.accountId}:function:local-custom-resource-handler`,
    }));
  }

  public getStack(stackName: string): StackSnapshot | undefined {
    const record = this.stacks.get(stackName);
    return record && {
      stackName,
      stackId: record.stackId,
      status: record.status as StackStatus,
      template: record.template,
      resources: Object.fromEntries(record.resources),
    };
  }

  /**
   * Everything the driver knows, as plain JSON: each stack (status, template, deployed resources) and the
   * newest waiter executions. `cdk-chime-vcg local-deploy` keeps it in a file between runs, so a second
   * run updates what the first deployed, as CloudFormation would.
   */
  public exportState(): DriverState {
    return {
      version: DRIVER_STATE_VERSION,
      stacks: [...this.stacks.values()].map((r) => ({
        stackName: r.stackName,
        stackId: r.stackId,
        status: r.status,
        template: r.template,
        resources: [...r.resources.values()],
        ...(r.parameters ? { parameters: r.parameters } : {}),
      })),
      // The handlers look at no more than the newest 300 executions of a waiter.
      executions: [...this.executions].map(([arn, list]) => [arn, list.slice(-300)]),
    };
  }

  /** Takes back what `exportState` gave, replacing what this driver knew. */
  public importState(state: DriverState): void {
    assertDriverState(state);
    this.stacks.clear();
    for (const s of state.stacks) {
      this.stacks.set(s.stackName, {
        stackName: s.stackName,
        stackId: s.stackId,
        status: s.status,
        template: s.template,
        resources: new Map(s.resources.map((r) => [r.logicalId, r])),
        ...(s.parameters ? { parameters: { ...s.parameters } } : {}),
      });
    }
    this.executions.clear();
    for (const [arn, list] of state.executions) this.executions.set(arn, list.map((e) => ({ ...e })));
  }

  private newRun(stack: StackRecord, deployOptions: DeployOptions): Run {
    return { stack, options: { ...this.options, ...deployOptions, env: { ...this.options.env, ...deployOptions.env } }, events: [], background: [] };
  }

  /** Ends the control plane's HTTP server (the driver starts it on the first operation). */
  public async close(): Promise<void> {
    await this.controlPlane.close();
  }

  /** A stack as the control plane shows it: its phase's status, and the current physical id of each resource. */
  private controlPlaneStack(nameOrId: string): ControlPlaneStack | undefined {
    const record = [...this.stacks.values()].find((r) => r.stackName === nameOrId || r.stackId === nameOrId);
    if (!record) return undefined;
    const resources = new Map<string, { physicalId: string; type: string }>();
    for (const [id, resource] of Object.entries(resourcesOf(record.template))) {
      if (this.isDriven(resource.Type)) continue;
      const physicalId = resource.Type === 'AWS::StepFunctions::StateMachine' ? this.arnOf(record, id, resource) : this.physicalIdOf(record, id, resource);
      resources.set(id, { physicalId, type: resource.Type });
    }
    for (const [id, deployed] of record.resources) resources.set(id, { physicalId: deployed.physicalResourceId, type: deployed.resourceType });
    // As DescribeStacks shows them: every parameter's value (given, or its default), NoEcho ones masked.
    const parameters: Record<string, string> = {};
    for (const [name, parameter] of Object.entries(record.template.Parameters ?? {})) {
      const value = record.parameters?.[name] ?? (parameter.Default === undefined ? undefined : String(parameter.Default));
      if (value !== undefined) parameters[name] = String((parameter as { NoEcho?: unknown }).NoEcho) === 'true' ? '****' : value;
    }
    return { stackName: record.stackName, stackId: record.stackId, status: record.status, template: record.template, resources, parameters };
  }

  /** The ARN of the waiter state machine behind a resource (the user function's WAITER_LOGICAL_ID), if the template names one. */
  private waiterArn(stack: StackRecord, template: CfnTemplate, logicalId: string): string {
    const fn = this.handlerFunction(template, logicalId);
    const waiterId = environmentVariables(fn?.resource).WAITER_LOGICAL_ID;
    const resource = typeof waiterId === 'string' ? resourcesOf(template)[waiterId] : undefined;
    return resource ? this.arnOf(stack, waiterId as string, resource) : `arn:${this.partition}:states:${this.region}:${this.accountId}:stateMachine:${stack.stackName}-waiter`;
  }

  private order(run: Run): Order {
    return run.options.order ?? 'topological';
  }

  private isDriven(resourceType: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.options.handlers, resourceType);
  }

  private handlerFor(resourceType: string): CustomResourceHandler {
    if (!this.isDriven(resourceType)) throw new Error(`No handler registered for resource type ${resourceType}`);
    const source = this.options.handlers[resourceType];
    if (typeof source === 'function') return source;
    const modulePath = path.resolve(source);
    let handler = this.modules.get(modulePath);
    if (!handler) {
      // Node's own require (not jest's registry) loads the bundled asset as Lambda would; dropping its
      // cache entry makes each driver a cold start that reads the environment set for it.
      const load = createRequire(__filename);
      const resolved = load.resolve(modulePath);
      delete load.cache[resolved];
      const exportName = this.options.handlerExport ?? 'handler';
      const exported = (load(resolved) as Record<string, unknown>)[exportName];
      if (typeof exported !== 'function') throw new Error(`${modulePath} does not export a function named ${exportName}`);
      handler = exported as CustomResourceHandler;
      this.modules.set(modulePath, handler);
    }
    return handler;
  }

  private validate(stackName: string, template: CfnTemplate, oldTemplate: CfnTemplate | undefined): void {
    const resources = resourcesOf(template);
    const oldResources = resourcesOf(oldTemplate);
    const names = { resources: new Set(Object.keys(resources)), parameters: new Set(Object.keys(template.Parameters ?? {})) };
    const problems: string[] = [];
    for (const [id, resource] of Object.entries(resources)) {
      for (const dep of resource.DependsOn === undefined ? [] : ([] as string[]).concat(resource.DependsOn)) {
        if (!(dep in resources)) problems.push(`${id}: DependsOn ${dep}, which the template does not define`);
      }
      const oldType = oldResources[id]?.Type;
      if (oldType !== undefined && oldType !== resource.Type && (this.isDriven(oldType) || this.isDriven(resource.Type))) {
        problems.push(`${id}: Update of resource type is not permitted (${oldType} -> ${resource.Type})`);
      }
      if (!this.isDriven(resource.Type)) continue;
      if (resource.Condition !== undefined) problems.push(`${id}: resource conditions are not supported`);
      if (resource.Properties?.ServiceToken === undefined) problems.push(`${id}: a custom resource needs a ServiceToken`);
      problems.push(...intrinsicProblems(resource.Properties ?? {}, names, `${id}.Properties`));
    }
    const cycle = findCycle(dependencyGraph(template));
    if (cycle) problems.push(`circular dependency between resources: ${cycle.join(' -> ')}`);
    const bytes = Buffer.byteLength(JSON.stringify(template), 'utf8');
    if (bytes > MAX_TEMPLATE_BYTES) problems.push(`the template is ${bytes} bytes; CloudFormation accepts at most ${MAX_TEMPLATE_BYTES} (through S3)`);
    if (Object.keys(resources).length > MAX_RESOURCES) problems.push(`the template has ${Object.keys(resources).length} resources; a stack holds at most ${MAX_RESOURCES}`);
    if (problems.length > 0) throw new Error(`Cannot deploy ${stackName}:\n  ${problems.join('\n  ')}`);
  }

  /** Deletes replaced physical ids and removed resources, dependents first. Failures here do not fail the deploy, as in CloudFormation. */
  private async cleanUp(
    run: Run,
    oldTemplate: CfnTemplate | undefined,
    template: CfnTemplate,
    before: ReadonlyMap<string, DeployedResource>,
    working: Map<string, DeployedResource>,
    updated: ReadonlyMap<string, DeployedResource>,
  ): Promise<void> {
    const oldResources = resourcesOf(oldTemplate);
    const newResources = resourcesOf(template);
    const targets = new Map<string, DeployedResource>();
    for (const [id, deployed] of before) {
      if (id in newResources) continue;
      working.delete(id);
      if (!isRetained(oldResources[id]?.DeletionPolicy)) targets.set(id, deployed);
    }
    for (const [id, old] of updated) {
      if (working.get(id)?.physicalResourceId !== old.physicalResourceId && !isRetained(newResources[id].UpdateReplacePolicy)) targets.set(id, old);
    }
    const nodes = [...new Set([...Object.keys(oldResources), ...targets.keys()])].reverse();
    await runInOrder(nodes, reverseGraph(dependencyGraph(oldTemplate)), this.order(run), false, async (id) => {
      const target = targets.get(id);
      if (target) await this.send(run, 'cleanup', oldTemplate ?? template, deleteInput(target));
      return true;
    });
  }

  /**
   * A failed first deploy: Delete what it created, dependents first. A resource whose onEvent failed gets
   * none (the Provider framework answers with its CREATE_FAILED marker and swallows the Delete); one that
   * failed in the completion checks does.
   */
  private async rollBackCreate(
    run: Run,
    template: CfnTemplate,
    working: Map<string, DeployedResource>,
    created: ReadonlySet<string>,
  ): Promise<boolean> {
    const resources = resourcesOf(template);
    const graph = reverseGraph(dependencyGraph(template));
    const outcome = await runInOrder(Object.keys(resources).reverse(), graph, this.order(run), false, async (id) => {
      const deployed = working.get(id);
      if (!created.has(id) || !deployed) return true;
      if (isRetained(resources[id].DeletionPolicy, true)) {
        working.delete(id);
        return true;
      }
      const result = await this.send(run, 'rollback', template, deleteInput(deployed));
      if (result.ok) working.delete(id);
      return result.ok;
    });
    return outcome.failed.size === 0;
  }

  /**
   * A failed update: every resource updated in this deploy, and the one whose update failed, gets an
   * Update back to its old properties (old and new swapped); then what the deploy created, and any
   * physical id the rollback moved away from, is deleted.
   */
  private async rollBackUpdate(
    run: Run,
    oldTemplate: CfnTemplate,
    template: CfnTemplate,
    before: ReadonlyMap<string, DeployedResource>,
    working: Map<string, DeployedResource>,
    created: ReadonlySet<string>,
    updated: ReadonlyMap<string, DeployedResource>,
    failedUpdates: ReadonlyMap<string, Record<string, unknown>>,
  ): Promise<boolean> {
    const abandoned = new Map<string, DeployedResource>();
    const variant = run.options.replacedUpdateRollback ?? 'update';
    const rollback = await runInOrder(Object.keys(resourcesOf(oldTemplate)), dependencyGraph(oldTemplate), this.order(run), true, async (id) => {
      const old = before.get(id);
      const current = updated.has(id) ? working.get(id) : failedUpdates.has(id) && old ? { ...old, properties: failedUpdates.get(id)! } : undefined;
      if (!old || !current) return true;
      const replaced = updated.has(id) && current.physicalResourceId !== old.physicalResourceId;
      if (replaced && variant === 'delete') {
        // CloudFormation goes back to the old physical resource and deletes the new one in the cleanup.
        working.set(id, old);
        abandoned.set(id, current);
        return true;
      }
      const outcome = await this.send(run, 'rollback', oldTemplate, {
        requestType: 'Update',
        logicalResourceId: id,
        resourceType: old.resourceType,
        properties: old.properties,
        oldProperties: current.properties,
        physicalResourceId: current.physicalResourceId,
      });
      if (!outcome.ok) return false;
      working.set(id, { ...old, physicalResourceId: outcome.physicalResourceId, data: outcome.data });
      if (outcome.physicalResourceId !== current.physicalResourceId || (replaced && variant === 'both')) abandoned.set(id, current);
      return true;
    });
    if (rollback.failed.size > 0) return false;

    run.stack.status = 'UPDATE_ROLLBACK_COMPLETE_CLEANUP_IN_PROGRESS';
    const newResources = resourcesOf(template);
    await runInOrder(Object.keys(newResources).reverse(), reverseGraph(dependencyGraph(template)), this.order(run), false, async (id) => {
      const target = created.has(id) ? working.get(id) : abandoned.get(id);
      if (created.has(id)) working.delete(id);
      if (target && !(created.has(id) && isRetained(newResources[id].DeletionPolicy, true))) {
        await this.send(run, 'rollback-cleanup', template, deleteInput(target));
      }
      return true;
    });
    return true;
  }

  private async finish(
    run: Run, status: StackStatus, template: CfnTemplate, working: Map<string, DeployedResource>, failure?: string,
  ): Promise<OperationResult> {
    // Cancelled handlers and waiters run on after CloudFormation stopped waiting for them; the operation's
    // end state is taken once they are done.
    await Promise.allSettled(run.background);
    const record = run.stack;
    record.status = status;
    record.template = template;
    record.resources = working;
    this.stacks.set(record.stackName, record);
    return {
      stackName: record.stackName, stackId: record.stackId, status, events: run.events, resources: Object.fromEntries(working), failure,
    };
  }

  /** Sends one event (twice for a duplicate delivery) and folds the deliveries into the answer CloudFormation acts on. */
  private async send(
    run: Run,
    phase: Phase,
    template: CfnTemplate,
    input: Omit<EventInput, 'stackId' | 'region'>,
  ): Promise<InvocationOutcome> {
    const event = buildEvent({ ...input, stackId: run.stack.stackId, region: this.region });
    const duplicate = run.options.duplicateDelivery;
    const deliveries = (typeof duplicate === 'function' ? duplicate(event) : duplicate) ? 2 : 1;
    const handler = this.handlerFor(input.resourceType);
    const invocation = this.invocationOptions(run, template, input.logicalResourceId);
    const waiter = this.hasCompletionHandler(template, input.logicalResourceId)
      ? this.waiterArn(run.stack, template, input.logicalResourceId)
      : undefined;
    const outcomes: InvocationOutcome[] = [];
    for (let delivery = 1; delivery <= deliveries; delivery++) {
      const sent: Writable<SentEvent> = {
        phase,
        requestType: input.requestType,
        logicalResourceId: input.logicalResourceId,
        resourceType: input.resourceType,
        physicalResourceId: input.physicalResourceId,
        delivery,
        event,
        ok: false,
      };
      run.events.push(sent);
      let outcome = await invokeHandler(handler, event, invocation);
      if (outcome.ok && outcome.response && waiter) {
        const waiterInput = JSON.stringify({ ...event, ...outcome.response, PhysicalResourceId: outcome.physicalResourceId });
        sent.waiterInputBytes = Buffer.byteLength(waiterInput, 'utf8');
        const executions = this.executions.get(waiter) ?? [];
        this.executions.set(waiter, executions);
        const earlier = executions.find((e) => e.name === event.RequestId);
        if (earlier && earlier.input === waiterInput) {
          // StartExecution with the same name and input is idempotent: the first delivery's waiter answers.
          outcome = outcomes[0] ?? outcome;
        } else if (earlier) {
          outcome = { ok: false, error: `ExecutionAlreadyExists: the waiter of request ${event.RequestId} was started with a different input` };
        } else {
          const execution: ControlPlaneExecution = { name: event.RequestId, stateMachineArn: waiter, status: 'RUNNING', input: waiterInput, startDate: Date.now() };
          executions.push(execution);
          outcome = await awaitCompletion(handler, event, outcome, {
            ...invocation,
            queryIntervalMs: run.options.queryIntervalMs ?? 0,
            totalTimeoutMs: run.options.completionTimeoutMs ?? 30 * 60_000,
          });
          execution.status = outcome.ok ? 'SUCCEEDED' : 'FAILED';
        }
      }
      outcomes.push(outcome);
      if (outcome.ok) {
        Object.assign(sent, { ok: true, returnedPhysicalResourceId: outcome.physicalResourceId, data: outcome.data });
      } else {
        sent.error = outcome.error;
      }
    }
    const failed = outcomes.find((outcome) => !outcome.ok);
    if (failed) return failed;
    const [first, repeat] = outcomes as Array<Extract<InvocationOutcome, { ok: true }>>;
    if (repeat && repeat.physicalResourceId !== first.physicalResourceId) {
      return {
        ok: false,
        error: `duplicate delivery answered PhysicalResourceId "${repeat.physicalResourceId}" after "${first.physicalResourceId}"; whichever response CloudFormation reads last wins`,
      };
    }
    return first;
  }

  /**
   * Whether the resource's Provider framework has an isComplete handler. The driver then calls the
   * resource type's handler for it too, as a framework whose isComplete and onEvent handlers are one
   * function would.
   */
  private hasCompletionHandler(template: CfnTemplate, logicalId: string): boolean {
    const resources = resourcesOf(template);
    const target = getAttArnTarget(resources[logicalId]?.Properties?.ServiceToken);
    return target !== undefined && environmentVariables(resources[target]).USER_IS_COMPLETE_FUNCTION_ARN !== undefined;
  }

  /** The Lambda function behind a resource's ServiceToken: the Provider framework's user `onEvent` function when there is one. */
  private handlerFunction(template: CfnTemplate, logicalId: string): { id: string; resource: CfnResource } | undefined {
    const resources = resourcesOf(template);
    const functionBehind = (arn: unknown) => {
      const target = getAttArnTarget(arn);
      return target && resources[target]?.Type === 'AWS::Lambda::Function' ? { id: target, resource: resources[target] } : undefined;
    };
    const serviceFunction = functionBehind(resources[logicalId]?.Properties?.ServiceToken);
    return functionBehind(environmentVariables(serviceFunction?.resource).USER_ON_EVENT_FUNCTION_ARN) ?? serviceFunction;
  }

  private invocationOptions(run: Run, template: CfnTemplate, logicalId: string): InvocationOptions {
    const fn = this.handlerFunction(template, logicalId);
    const functionName = fn ? this.physicalIdOf(run.stack, fn.id, fn.resource) : 'local-custom-resource-handler';
    const timeout = Number(fn?.resource.Properties?.Timeout ?? LAMBDA_DEFAULT_TIMEOUT_S);
    const memory = Number(fn?.resource.Properties?.MemorySize);
    return {
      timeoutMs: run.options.timeoutMs ?? (fn && Number.isFinite(timeout) ? timeout * 1000 : FIFTEEN_MINUTES_MS),
      functionName,
      invokedFunctionArn: `arn:${this.partition}:lambda:${this.region}:${this.accountId}:function:${functionName}`,
      memoryLimitInMB: Number.isFinite(memory) ? memory : undefined,
    };
  }

  /**
   * Runs `body` with the Lambda-provided region, the handler functions' template environment (variables
   * that resolve before the deploy) and the caller's env in `process.env`. Handlers share one process, so
   * functions of one stack cannot see different values for the same variable.
   */
  private async withEnvironment<T>(run: Run, templates: Array<CfnTemplate | undefined>, body: () => Promise<T>): Promise<T> {
    const controlPlane = await this.controlPlane.endpoint();
    const env: Environment = {
      AWS_REGION: this.region,
      AWS_DEFAULT_REGION: this.region,
      AWS_ENDPOINT_URL_CLOUDFORMATION: controlPlane,
      AWS_ENDPOINT_URL_SFN: controlPlane,
    };
    for (const template of templates) {
      const context = this.intrinsicContext(run.stack, template ?? {}, run.stack.resources, run.options.parameters);
      for (const [id, resource] of Object.entries(resourcesOf(template))) {
        if (!this.isDriven(resource.Type)) continue;
        for (const [name, value] of Object.entries(environmentVariables(this.handlerFunction(template!, id)?.resource))) {
          try {
            env[name] = String(resolveValue(value, context));
          } catch (error) {
            if (!(error instanceof IntrinsicError)) throw error;
          }
        }
      }
    }
    return withEnv({ ...env, ...run.options.env }, body);
  }

  private intrinsicContext(
    stack: StackRecord,
    template: CfnTemplate,
    deployed: ReadonlyMap<string, DeployedResource>,
    parameters: Record<string, string> = {},
  ): IntrinsicContext {
    const resources = resourcesOf(template);
    const pseudo: Record<string, unknown> = {
      'AWS::Region': this.region,
      'AWS::AccountId': this.accountId,
      'AWS::Partition': this.partition,
      'AWS::URLSuffix': this.urlSuffix,
      'AWS::StackName': stack.stackName,
      'AWS::StackId': stack.stackId,
      'AWS::NotificationARNs': [],
      'AWS::NoValue': NO_VALUE,
    };
    const deployedResource = (id: string, what: string) => {
      const resource = deployed.get(id);
      if (!resource) throw new IntrinsicError(`${what}: ${id} is not deployed`);
      return resource;
    };
    return {
      mappings: template.Mappings,
      ref: (name) => {
        if (name in pseudo) return pseudo[name];
        const parameter = template.Parameters?.[name];
        if (parameter) {
          const value = parameters[name] ?? parameter.Default;
          if (value === undefined) throw new IntrinsicError(`Ref ${name}: the parameter has no Default; pass a value in options.parameters`);
          const isList = parameter.Type === 'CommaDelimitedList' || parameter.Type?.startsWith('List<');
          return isList && typeof value === 'string' ? value.split(',') : value;
        }
        const resource = resources[name];
        if (!resource) throw new IntrinsicError(`Ref ${name}: no such parameter or resource`);
        return this.isDriven(resource.Type) ? deployedResource(name, `Ref ${name}`).physicalResourceId : this.physicalIdOf(stack, name, resource);
      },
      getAtt: (logicalId, attribute) => {
        const resource = resources[logicalId];
        if (!resource) throw new IntrinsicError(`Fn::GetAtt ${logicalId}.${attribute}: no such resource`);
        if (this.isDriven(resource.Type)) {
          const data = deployedResource(logicalId, `Fn::GetAtt ${logicalId}.${attribute}`).data;
          if (!(attribute in data)) {
            throw new IntrinsicError(`CustomResource attribute error: Vendor response doesn't contain ${attribute} attribute in object of ${logicalId}`);
          }
          return data[attribute];
        }
        if (attribute !== 'Arn') {
          throw new IntrinsicError(`Fn::GetAtt ${logicalId}.${attribute}: the driver models only the Arn attribute of ${resource.Type} resources`);
        }
        return this.arnOf(stack, logicalId, resource);
      },
    };
  }

  /** A stable stand-in for the physical id of a resource the driver does not deploy itself. */
  private physicalIdOf(stack: StackRecord, logicalId: string, resource: CfnResource): string {
    const name = resource.Properties?.FunctionName;
    if (resource.Type === 'AWS::Lambda::Function' && typeof name === 'string') return name;
    const suffix = createHash('sha256').update(`${stack.stackName}/${logicalId}`).digest('hex').slice(0, 12).toUpperCase();
    return `${stack.stackName}-${logicalId}-${suffix}`;
  }

  private arnOf(stack: StackRecord, logicalId: string, resource: CfnResource): string {
    const id = this.physicalIdOf(stack, logicalId, resource);
    const [, service, kind] = resource.Type.split('::');
    switch (resource.Type) {
      case 'AWS::Lambda::Function': return `arn:${this.partition}:lambda:${this.region}:${this.accountId}:function:${id}`;
      case 'AWS::IAM::Role': return `arn:${this.partition}:iam::${this.accountId}:role/${id}`;
      case 'AWS::StepFunctions::StateMachine': return `arn:${this.partition}:states:${this.region}:${this.accountId}:stateMachine:${id}`;
      default: return `arn:${this.partition}:${service?.toLowerCase()}:${this.region}:${this.accountId}:${kind?.toLowerCase()}/${id}`;
    }
  }
}

function randomSuffix(): string {
  return createHash('sha256').update(`${Date.now()}${Math.random()}`).digest('hex').slice(0, 12).toUpperCase();
}

function deleteInput(resource: DeployedResource): Omit<EventInput, 'stackId' | 'region'> {
  return {
    requestType: 'Delete',
    logicalResourceId: resource.logicalId,
    resourceType: resource.resourceType,
    properties: resource.properties,
    physicalResourceId: resource.physicalResourceId,
  };
}

function environmentVariables(lambdaFunction: CfnResource | undefined): Record<string, unknown> {
  return (lambdaFunction?.Properties?.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
}

function getAttArnTarget(value: unknown): string | undefined {
  const getAtt = (value as { 'Fn::GetAtt'?: unknown } | undefined)?.['Fn::GetAtt'];
  if (Array.isArray(getAtt) && getAtt[1] === 'Arn' && typeof getAtt[0] === 'string') return getAtt[0];
  if (typeof getAtt === 'string' && getAtt.endsWith('.Arn')) return getAtt.slice(0, -'.Arn'.length);
  return undefined;
}

/** Sets `env` in `process.env` for the duration of `body` and puts every touched variable back afterwards. */
export async function withEnv<T>(env: Environment, body: () => Promise<T>): Promise<T> {
  const saved = Object.fromEntries(Object.keys(env).map((name) => [name, process.env[name]]));
  const apply = (values: Environment) => {
    for (const [name, value] of Object.entries(values)) {
      if (value === undefined) delete process.env[name]; else process.env[name] = value;
    }
  };
  apply(env);
  try {
    return await body();
  } finally {
    apply(saved);
  }
}
