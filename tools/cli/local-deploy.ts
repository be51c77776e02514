/**
 * `cdk-chime-vcg local-deploy`: plays a synthesized app's custom resources (this library's) through
 * CloudFormation's lifecycle on this machine, with the project's own deploy driver (its limits, orders and
 * rollbacks) and the bundled handlers the package ships, against the emulator or any Chime SDK Voice
 * endpoint. What it deployed is kept in a state file, so the next run updates it as CloudFormation would.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { all, helpHint, one, parameters, parseFlags, UsageError, type FlagSpec } from './args';
import { dependencyOrder, loadAssembly, selectStacks } from './assembly';
import { chimeClient, describeAwsError, listGroups } from './aws';
import { listGroup } from '../../lambda/phone-numbers/observe';
import { BINDING_RESOURCE_TYPE } from '../../src/binding-properties';
import { GROUP_RESOURCE_TYPE } from '../../src/voice-connector-group-properties';
import { assertDriverState, LocalDeployDriver, type DriverState, type OperationResult } from '../local-deploy/driver';
import { LIBRARY_HANDLERS } from '../local-deploy/handlers';
import type { Order } from '../local-deploy/scheduler';

export const LOCAL_DEPLOY_USAGE = 'usage: cdk-chime-vcg local-deploy --app <cdk.out> [--stack NAME]... [--destroy] [--state FILE] [--parameter Name=Value]... ' +
  '[--endpoint URL] [--order parallel|topological|reverse]';

const ORDERS: readonly Order[] = ['parallel', 'topological', 'reverse'];

export const DEFAULT_STATE_FILE = path.join('.cdk-chime-vcg', 'local-state.json');

const FLAGS: Record<string, FlagSpec> = {
  app: { value: true },
  stack: { value: true, repeat: true },
  destroy: {},
  state: { value: true },
  parameter: { value: true, repeat: true },
  endpoint: { value: true },
  order: { value: true },
};

const SUCCEEDED = new Set(['CREATE_COMPLETE', 'UPDATE_COMPLETE', 'DELETE_COMPLETE']);

/** Reads a local-deploy state file; undefined when there is none yet. */
export function readState(file: string): DriverState | undefined {
  if (!fs.existsSync(file)) return undefined;
  let state: unknown;
  try {
    state = JSON.parse(fs.readFileSync(file, 'utf8'));
    assertDriverState(state);
  } catch (error) {
    const why = error instanceof SyntaxError ? 'not JSON' : (error as Error).message.split('\n')[0];
    throw new UsageError(`${file} is not a local-deploy state file (${why}); give the file local-deploy wrote (by default ${DEFAULT_STATE_FILE})`);
  }
  return state;
}

export async function localDeployCommand(argv: readonly string[], out: (text: string) => void): Promise<number> {
  const parsed = parseFlags(argv, FLAGS, LOCAL_DEPLOY_USAGE);
  const app = one(parsed, 'app');
  const stacks = loadAssembly(app);
  const selected = dependencyOrder(selectStacks(stacks, all(parsed, 'stack'), app!));
  // CloudFormation runs a stack's independent resources in parallel; the other orders are for tests.
  const order = (one(parsed, 'order') ?? 'parallel') as Order;
  if (!ORDERS.includes(order)) throw new UsageError(`--order must be one of ${ORDERS.join(', ')}; got '${order}'; ${helpHint(LOCAL_DEPLOY_USAGE)}`);
  const endpoint = one(parsed, 'endpoint') ?? process.env.AWS_ENDPOINT_URL_CHIME_SDK_VOICE;
  if (!endpoint) {
    // A local CloudFormation writing to a real account's bindings is not what anyone means by a local test.
    throw new UsageError('local-deploy writes bindings: point it at the emulator (or another test endpoint) with --endpoint URL or AWS_ENDPOINT_URL_CHIME_SDK_VOICE');
  }
  const stateFile = one(parsed, 'state') ?? DEFAULT_STATE_FILE;
  const state = readState(stateFile);
  const env = {
    AWS_ENDPOINT_URL_CHIME_SDK_VOICE: endpoint,
    AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
    AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
    LOG_LEVEL: process.env.LOG_LEVEL ?? 'INFO',
  };
  const region = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION ?? 'us-east-1';
  // A missing or stopped emulator is bad input, found before anything is deployed or written down.
  const probe = endpointClient(endpoint, region);
  try {
    await listGroups(probe);
  } catch (error) {
    throw new UsageError(describeAwsError(error) ?? `the Chime SDK Voice endpoint ${endpoint} does not answer: ${(error as Error).message}`);
  } finally {
    probe.destroy();
  }
  const driver = new LocalDeployDriver({ handlers: LIBRARY_HANDLERS, env, region, order, parameters: parameters(parsed, LOCAL_DEPLOY_USAGE) });
  if (state) {
    try {
      driver.importState(state);
    } catch (error) {
      throw new UsageError(`${stateFile}: ${(error as Error).message}; delete it to start over`);
    }
  }
  const destroy = parsed.switches.has('destroy');
  let failed = 0;
  // The handlers log JSON lines to stdout, as in Lambda; here they go to a file beside the state.
  const logFile = path.join(path.dirname(path.resolve(stateFile)), 'handler-logs.jsonl');
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  try {
    for (const stack of destroy ? [...selected].reverse() : selected) {
      const result = await withHandlerLogs(logFile, () => (destroy ? driver.destroy(stack.stackName) : driver.deploy(stack)));
      out(report(result, destroy));
      out(await bindingsReport(driver, stack.stackName, result, endpoint, region));
      if (!SUCCEEDED.has(result.status)) {
        failed++;
        out(`  the handlers' logs: ${path.relative(process.cwd(), logFile)}\n`);
      }
    }
  } finally {
    fs.mkdirSync(path.dirname(path.resolve(stateFile)), { recursive: true });
    fs.writeFileSync(stateFile, `${JSON.stringify(driver.exportState())}\n`);
    await driver.close();
  }
  return failed === 0 ? 0 : 1;
}

function report(result: OperationResult, destroy: boolean): string {
  const counts = new Map<string, number>();
  for (const e of result.events) {
    if (e.delivery !== 1) continue;
    const key = `${e.requestType}${e.phase === 'deploy' || e.phase === 'destroy' ? '' : ` (${e.phase})`}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  }
  const events = [...counts].map(([k, n]) => `${n} ${k}`).join(', ') || 'no events: nothing changed';
  const lines = [`${result.stackName}: ${destroy ? 'destroy' : 'deploy'} ended ${result.status} (${events})`];
  if (result.failure) lines.push(`  failure: ${result.failure}`);
  return `${lines.join('\n')}\n`;
}

/** The numbers on each group the stack declares (or declared), read from the endpoint after the step. */
async function bindingsReport(
  driver: LocalDeployDriver, stackName: string, result: OperationResult, endpoint: string, region: string,
): Promise<string> {
  const groupIds = new Set<string>();
  const collect = (properties: Record<string, unknown>) => {
    for (const entry of (properties.Bindings as Array<Record<string, unknown>> | undefined) ?? []) {
      if (typeof entry?.VoiceConnectorGroupId === 'string') groupIds.add(entry.VoiceConnectorGroupId);
    }
  };
  for (const sent of result.events) collect(sent.event.ResourceProperties as Record<string, unknown>);
  for (const r of Object.values(driver.getStack(stackName)?.resources ?? {})) {
    if (r.resourceType === BINDING_RESOURCE_TYPE) collect(r.properties);
    if (r.resourceType === GROUP_RESOURCE_TYPE) groupIds.add(r.physicalResourceId);
  }
  if (groupIds.size === 0) return '  (no groups declared)\n';
  const client = endpointClient(endpoint, region);
  try {
    const names = new Map((await listGroups(client)).map((g) => [g.id, g.name]));
    const lines: string[] = [];
    for (const g of [...groupIds].sort()) {
      const bound = [...(await listGroup(client, g, Date.now() + 10 * 60_000) ?? [])];
      const name = names.get(g);
      lines.push(`  group ${name === undefined ? `${g} (does not exist)` : `${name} (${g})`}: ${bound.length} number(s)${bound.length ? `: ${bound.sort().join(' ')}` : ''}`);
    }
    return `${lines.join('\n')}\n`;
  } finally {
    client.destroy();
  }
}

/** A client of the endpoint local-deploy writes to, with the credentials the handlers get. */
function endpointClient(endpoint: string, region: string) {
  return chimeClient({
    region,
    endpoint,
    credentials: {
      accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local',
      secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
      sessionToken: process.env.AWS_SESSION_TOKEN,
    },
  });
}

/** Runs `body` with the handlers' JSON log lines (stdout lines starting `{"level"`) appended to `file`. */
async function withHandlerLogs<T>(file: string, body: () => Promise<T>): Promise<T> {
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : undefined;
    if (text?.startsWith('{"level"')) {
      fs.appendFileSync(file, text.endsWith('\n') ? text : `${text}\n`);
      const callback = rest.find((r) => typeof r === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }
    return (write as (...args: unknown[]) => boolean)(chunk, ...rest);
  }) as typeof process.stdout.write;
  try {
    return await body();
  } finally {
    process.stdout.write = write;
  }
}
