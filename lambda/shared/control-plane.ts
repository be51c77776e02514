import { createHash, createHmac } from 'node:crypto';
// Both ship inside the pinned @aws-sdk/client-chime-sdk-voice (its credential chain and signer), so the
// bundle carries them already; they are not dependencies of the construct library.
// eslint-disable-next-line import/no-extraneous-dependencies
import { defaultProvider } from '@aws-sdk/credential-provider-node';
// eslint-disable-next-line import/no-extraneous-dependencies
import { SignatureV4 } from '@smithy/signature-v4';

/**
 * The read-only control-plane calls the handlers make, on their own stack and on the Provider framework's
 * waiter state machine, signed with SigV4 by hand: the SDK's CloudFormation and Step Functions clients
 * would add two more clients (and a few hundred KB) to the bundled assets for a handful of reads. Like
 * every SDK client, they honour AWS_ENDPOINT_URL_CLOUDFORMATION and AWS_ENDPOINT_URL_SFN (tests serve
 * both locally) and AWS_REGION.
 */
export interface StackReader {
  /** The stack's status (`UPDATE_ROLLBACK_IN_PROGRESS`, ...) and, for a nested stack, its root stack's id. */
  describeStack(stackId: string): Promise<{ readonly status: string; readonly rootId?: string }>;
  /** The physical id CloudFormation holds for a logical id now, or undefined when the stack has no such resource. */
  physicalIdOf(stackId: string, logicalId: string): Promise<string | undefined>;
  /** The deployed template (`Original` stage: intrinsics unresolved). */
  getTemplate(stackId: string): Promise<Record<string, unknown>>;
}

/** One execution of the framework's waiter state machine: its name is the CloudFormation RequestId. */
export interface WaiterExecution {
  readonly name: string;
  readonly status: 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED' | string;
  /** The execution's input: the CloudFormation event with onEvent's answer spread over it. */
  readonly input?: Record<string, unknown>;
}

export interface WaiterReader {
  /** One execution by name, or undefined when none has that name. */
  describeExecution(stateMachineArn: string, name: string): Promise<WaiterExecution | undefined>;
  /** The executions still running, each with its input. */
  runningExecutions(stateMachineArn: string): Promise<WaiterExecution[]>;
  /** The newest execution (any status) that `match` accepts, looking at no more than `max` of the newest. */
  findExecution(stateMachineArn: string, match: (execution: WaiterExecution) => boolean, max: number): Promise<WaiterExecution | undefined>;
}

type Env = Record<string, string | undefined>;

/** The reader the handlers use in Lambda: signed HTTP calls with the function's own credentials. */
export function awsReaders(env: Env = process.env): StackReader & WaiterReader {
  return {
    describeStack: async (stackId) => {
      const xml = await query(env, 'DescribeStacks', { StackName: stackId });
      const status = xmlValue(xml, 'StackStatus');
      if (!status) throw new Error(`cloudformation:DescribeStacks on ${stackId} returned no StackStatus`);
      return { status, rootId: xmlValue(xml, 'RootId') };
    },
    physicalIdOf: async (stackId, logicalId) => {
      try {
        const xml = await query(env, 'DescribeStackResource', { StackName: stackId, LogicalResourceId: logicalId });
        return xmlValue(xml, 'PhysicalResourceId');
      } catch (error) {
        if (/does not exist/i.test((error as Error).message)) return undefined;
        throw error;
      }
    },
    getTemplate: async (stackId) => {
      const xml = await query(env, 'GetTemplate', { StackName: stackId, TemplateStage: 'Original' });
      const body = xmlValue(xml, 'TemplateBody');
      if (body === undefined) throw new Error(`cloudformation:GetTemplate on ${stackId} returned no TemplateBody`);
      return JSON.parse(body) as Record<string, unknown>;
    },
    describeExecution: async (stateMachineArn, name) => {
      const executionArn = `${stateMachineArn.replace(':stateMachine:', ':execution:')}:${name}`;
      try {
        const out = await json(env, 'DescribeExecution', { executionArn }) as { status: string; input?: string; name: string };
        return { name: out.name, status: out.status, input: parseInput(out.input) };
      } catch (error) {
        if ((error as { code?: string }).code === 'ExecutionDoesNotExist') return undefined;
        throw error;
      }
    },
    runningExecutions: (stateMachineArn) => listExecutions(env, { stateMachineArn, statusFilter: 'RUNNING' }, Infinity),
    findExecution: async (stateMachineArn, match, max) => (await listExecutions(env, { stateMachineArn }, max, match))[0],
  };
}

/**
 * Executions of a state machine, newest first, each described (for its input), up to `max` looked at;
 * with `stopAt`, only the first one it accepts.
 */
async function listExecutions(
  env: Env, filter: Record<string, string>, max: number, stopAt?: (e: WaiterExecution) => boolean,
): Promise<WaiterExecution[]> {
  const found: WaiterExecution[] = [];
  let seen = 0;
  let nextToken: string | undefined;
  do {
    const page = await json(env, 'ListExecutions', { ...filter, maxResults: Math.min(100, max), nextToken }) as {
      executions?: Array<{ executionArn: string; name: string; status: string }>; nextToken?: string;
    };
    for (const execution of page.executions ?? []) {
      if (seen++ >= max) return found;
      const out = await json(env, 'DescribeExecution', { executionArn: execution.executionArn }) as { status: string; input?: string };
      const described = { name: execution.name, status: out.status, input: parseInput(out.input) };
      if (!stopAt) {
        found.push(described);
      } else if (stopAt(described)) {
        return [described];
      }
    }
    nextToken = page.nextToken;
  } while (nextToken && seen < max);
  return found;
}

/**
 * A stack's status and its parameters' current values (for `cdk-chime-vcg plan`, which resolves the
 * deployed template with them). Undefined when the stack does not exist. `NoEcho` values come back masked.
 */
export async function describeStackParameters(
  env: Env, stackName: string,
): Promise<{ status: string; parameters: Record<string, string> } | undefined> {
  let xml: string;
  try {
    xml = await query(env, 'DescribeStacks', { StackName: stackName });
  } catch (error) {
    if (/does not exist/i.test((error as Error).message)) return undefined;
    throw error;
  }
  const status = xmlValue(xml, 'StackStatus');
  if (!status) throw new Error(`cloudformation:DescribeStacks on ${stackName} returned no StackStatus`);
  const parameters: Record<string, string> = {};
  const block = /<Parameters>([\s\S]*?)<\/Parameters>/.exec(xml)?.[1] ?? '';
  for (const member of block.match(/<member>[\s\S]*?<\/member>/g) ?? []) {
    const key = xmlValue(member, 'ParameterKey');
    const value = xmlValue(member, 'ResolvedValue') ?? xmlValue(member, 'ParameterValue');
    if (key !== undefined && value !== undefined) parameters[key] = value;
  }
  return { status, parameters };
}

function parseInput(input: string | undefined): Record<string, unknown> | undefined {
  if (input === undefined) return undefined;
  try {
    return JSON.parse(input) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

function regionOf(env: Env): string {
  const region = env.AWS_REGION ?? env.AWS_DEFAULT_REGION;
  if (!region) throw new Error('AWS_REGION is not set');
  return region;
}

function endpointOf(env: Env, service: 'cloudformation' | 'states'): URL {
  const region = regionOf(env);
  const override = service === 'cloudformation' ? env.AWS_ENDPOINT_URL_CLOUDFORMATION : env.AWS_ENDPOINT_URL_SFN;
  const suffix = region.startsWith('cn-') ? 'amazonaws.com.cn' : 'amazonaws.com';
  return new URL(override ?? env.AWS_ENDPOINT_URL ?? `https://${service}.${region}.${suffix}`);
}

/** A CloudFormation query-protocol call; answers the XML body, or throws with the service's code and message. */
async function query(env: Env, action: string, params: Record<string, string>): Promise<string> {
  const body = new URLSearchParams({ Action: action, Version: '2010-05-15', ...params }).toString();
  const response = await signedPost(env, 'cloudformation', { 'content-type': 'application/x-www-form-urlencoded; charset=utf-8' }, body);
  const text = await response.text();
  if (!response.ok) {
    throw Object.assign(
      new Error(`cloudformation:${action} answered HTTP ${response.status}: ${xmlValue(text, 'Code') ?? ''} ${xmlValue(text, 'Message') ?? text.slice(0, 300)}`.trim()),
      { code: xmlValue(text, 'Code') },
    );
  }
  return text;
}

/** A Step Functions JSON-protocol call. */
async function json(env: Env, action: string, input: Record<string, unknown>): Promise<unknown> {
  const response = await signedPost(env, 'states', {
    'content-type': 'application/x-amz-json-1.0',
    'x-amz-target': `AWSStepFunctions.${action}`,
  }, JSON.stringify(input));
  const text = await response.text();
  const parsed = text ? JSON.parse(text) as Record<string, unknown> : {};
  if (!response.ok) {
    const code = String(parsed.__type ?? '').split('#').pop();
    throw Object.assign(new Error(`states:${action} answered HTTP ${response.status}: ${code} ${String(parsed.message ?? '')}`.trim()), { code });
  }
  return parsed;
}

async function signedPost(env: Env, service: 'cloudformation' | 'states', headers: Record<string, string>, body: string): Promise<Response> {
  const endpoint = endpointOf(env, service);
  const signer = new SignatureV4({ credentials: defaultProvider(), region: regionOf(env), service, sha256: Sha256 });
  const signed = await signer.sign({
    method: 'POST',
    protocol: endpoint.protocol,
    hostname: endpoint.hostname,
    port: endpoint.port ? Number(endpoint.port) : undefined,
    path: endpoint.pathname || '/',
    headers: { host: endpoint.host, ...headers },
    body,
  });
  return fetch(endpoint, { method: 'POST', headers: signed.headers, body, signal: AbortSignal.timeout(10_000) });
}

function xmlValue(xml: string, element: string): string | undefined {
  const match = new RegExp(`<${element}>([\\s\\S]*?)</${element}>`).exec(xml);
  return match ? decodeXml(match[1]) : undefined;
}

export function decodeXml(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#\d+|quot|apos|lt|gt|amp);/g, (_, entity: string) => {
    if (entity.startsWith('#x')) return String.fromCodePoint(parseInt(entity.slice(2), 16));
    if (entity.startsWith('#')) return String.fromCodePoint(parseInt(entity.slice(1), 10));
    return ({ quot: '"', apos: "'", lt: '<', gt: '>', amp: '&' } as Record<string, string>)[entity];
  });
}

type SourceData = string | ArrayBuffer | ArrayBufferView;

function bytes(data: SourceData): string | Uint8Array {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer) return new Uint8Array(data);
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

/** The hash interface SignatureV4 expects, on node:crypto. */
class Sha256 {
  private readonly hash;
  constructor(secret?: SourceData) {
    this.hash = secret === undefined ? createHash('sha256') : createHmac('sha256', bytes(secret));
  }
  update(data: SourceData): void {
    this.hash.update(bytes(data));
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.hash.digest());
  }
}
