import { WAITER_LOGICAL_ID_ENV } from '../../src/binding-properties';
import type { StackReader, WaiterExecution, WaiterReader } from '../shared/control-plane';

/**
 * Where the stack is, for an event: a deploy (or a deletion) going forward, or a rollback. Read from the
 * stack itself (`DescribeStacks`): an Update CloudFormation sends to roll back looks exactly like one a
 * user's deploy sends (old and new properties swapped), and only the stack's status tells them apart.
 */
export interface StackPhase {
  readonly status: string;
  /** The stack (or, for a nested stack, its root) is rolling back. */
  readonly rollingBack: boolean;
  /** The stack is being deleted. */
  readonly deleting: boolean;
  /** The status of the root stack, for a nested stack. */
  readonly rootStatus?: string;
  /** The stack or its root is mid-operation (`_IN_PROGRESS`) or stuck (`_FAILED`); a settled `*_ROLLBACK_COMPLETE` is not busy. */
  readonly busy: boolean;
}

const ROLLING_BACK = /ROLLBACK/;

/**
 * How many of the waiter's newest executions a rollback looks through for the event it undoes: every
 * shard of a stack (64) starts one per deploy and one per rollback, so this covers a whole deploy and its
 * rollback with room to spare.
 */
const RECENT_EXECUTIONS = 300;

const BUSY = /_IN_PROGRESS$|_FAILED$/;

export async function stackPhase(reader: StackReader, stackId: string): Promise<StackPhase> {
  const own = await reader.describeStack(stackId);
  const root = own.rootId && own.rootId !== stackId ? (await reader.describeStack(own.rootId)).status : undefined;
  const rollingBack = ROLLING_BACK.test(own.status) || (root !== undefined && ROLLING_BACK.test(root));
  const busy = BUSY.test(own.status) || (root !== undefined && BUSY.test(root));
  return { status: own.status, rootStatus: root, rollingBack, busy, deleting: own.status.startsWith('DELETE') };
}

/**
 * The framework's waiter, found from its logical id (set on the function by the construct) through the
 * stack: the state machine's ARN cannot be set on the function directly, since the waiter depends on the
 * function. Undefined without the environment variable (a hand-wired provider): the handler then skips
 * what needs the waiter.
 */
export class Waiter {
  private arn?: Promise<string | undefined>;

  constructor(
    private readonly stacks: StackReader,
    private readonly executions: WaiterReader,
    private readonly env: Record<string, string | undefined>,
  ) {}

  public machineArn(stackId: string): Promise<string | undefined> {
    const logicalId = this.env[WAITER_LOGICAL_ID_ENV];
    if (!logicalId) return Promise.resolve(undefined);
    this.arn ??= this.stacks.physicalIdOf(stackId, logicalId).catch((error) => {
      this.arn = undefined;
      throw error;
    });
    return this.arn;
  }

  /** The execution a delivery of this RequestId started, if one did: a repeated event answers what the first answered. */
  public async earlier(stackId: string, requestId: string): Promise<WaiterExecution | undefined> {
    const arn = await this.machineArn(stackId);
    return arn ? this.executions.describeExecution(arn, requestId) : undefined;
  }

  /** Executions of the waiter still running for this resource, other than `requestId`'s own. */
  public async runningFor(stackId: string, logicalId: string, requestId: string): Promise<WaiterExecution[]> {
    const arn = await this.machineArn(stackId);
    if (!arn) return [];
    return (await this.executions.runningExecutions(arn))
      .filter((e) => e.name !== requestId && e.input?.LogicalResourceId === logicalId && e.input?.StackId === stackId);
  }

  /** The newest execution (any status) for this resource that `match` accepts. */
  public async newestFor(stackId: string, logicalId: string, match: (execution: WaiterExecution) => boolean): Promise<WaiterExecution | undefined> {
    const arn = await this.machineArn(stackId);
    if (!arn) return undefined;
    return this.executions.findExecution(
      arn,
      (e) => e.input?.LogicalResourceId === logicalId && e.input?.StackId === stackId && match(e),
      RECENT_EXECUTIONS,
    );
  }

  public async byName(stackId: string, name: string): Promise<WaiterExecution | undefined> {
    const arn = await this.machineArn(stackId);
    return arn ? this.executions.describeExecution(arn, name) : undefined;
  }
}
