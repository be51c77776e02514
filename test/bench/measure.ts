/** Bundle size, module initialisation time, memory and synth-scale measurements. */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { benchNumber } from './workload';
import { VoiceConnectorGroupPhoneNumbers } from '../../src';
import { BINDING_RESOURCE_TYPE, shardOf } from '../../src/binding-properties';
import { MAX_NUMBERS_PER_SHARD } from '../../src/phone-number-bindings';
import type { Emulator } from '../../tools/emulator';
import {
  buildEvent, ControlPlaneServer, LIBRARY_HANDLERS, LocalDeployDriver, PHONE_NUMBERS_HANDLER_ASSET, stackIdFor, stringifyProperties, synthApp,
  type StackTemplate,
} from '../../tools/local-deploy';

export const REPO_ROOT = path.join(__dirname, '..', '..');

/**
 * The process's peak resident set in KB, as source text for a child. Linux's VmHWM belongs to the address
 * space exec made, whereas getrusage's maxRSS (process.resourceUsage) keeps the peak of the parent the
 * child was forked from; elsewhere, maxRSS is all there is.
 */
export const PEAK_RSS_KB_SOURCE = '() => { try { return Number(/VmHWM:\\s+(\\d+)/.exec(require("fs").readFileSync("/proc/self/status", "utf8"))[1]); } '
  + 'catch { return process.resourceUsage().maxRSS; } }';

const CHILD_ENV = { ...process.env, NODE_OPTIONS: '--no-warnings', AWS_REGION: 'us-east-1' };

export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

export interface InitTiming {
  readonly label: string;
  readonly file?: string;
  readonly bytes?: number;
  /** Median wall time of a fresh `node` process that requires the module (or does nothing), ms. */
  readonly processMs: number;
  /** Median time of the `require` call alone, measured inside the process, ms. */
  readonly requireMs: number;
  readonly runs: number;
}

/** Fresh node processes, interleaved so that machine noise hits every subject alike. */
export function measureInit(subjects: readonly { label: string; file?: string }[], runs: number): InitTiming[] {
  const samples = subjects.map(() => ({ process: [] as number[], require: [] as number[] }));
  const script = 'const t=process.hrtime.bigint();const f=process.argv[1];if(f)require(f);'
    + 'process.stdout.write(String(Number(process.hrtime.bigint()-t)/1e6))';
  for (let run = 0; run < runs + 1; run++) {
    subjects.forEach((subject, i) => {
      const started = process.hrtime.bigint();
      const out = spawnSync(process.execPath, ['-e', script, ...(subject.file ? [subject.file] : [])], { env: CHILD_ENV, encoding: 'utf8' });
      const wall = Number(process.hrtime.bigint() - started) / 1e6;
      if (out.status !== 0) throw new Error(`init measurement of ${subject.label} failed: ${out.stderr}`);
      if (run === 0) return; // warm the file cache first
      samples[i].process.push(wall);
      samples[i].require.push(Number(out.stdout));
    });
  }
  return subjects.map((subject, i) => ({
    label: subject.label,
    file: subject.file,
    bytes: subject.file ? fs.statSync(subject.file).size : undefined,
    processMs: median(samples[i].process),
    requireMs: median(samples[i].require),
    runs,
  }));
}

export interface MemoryResult {
  readonly n: number;
  readonly mode: string;
  readonly status: string;
  /** process.resourceUsage().maxRSS before the first event, KB. */
  readonly baselineMaxRssKb: number;
  /** process.resourceUsage().maxRSS after Create and Delete of N numbers, KB. */
  readonly maxRssKb: number;
}

/**
 * Peak RSS of the handler reconciling N numbers, in child processes:
 * - `lambda-like`: bare node requiring the bundle and calling it with Create then Delete events
 *   (what a Lambda container holds);
 * - `driver+bundle`: the local deploy driver (ts-node, aws-cdk-lib loaded) deploying and destroying.
 */
export async function measureMemory(emu: Emulator, groupId: string, n: number): Promise<MemoryResult[]> {
  const numbers = Array.from({ length: n }, (_, i) => benchNumber(i));
  const stack = synthOne(groupId, numbers);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-memory-'));
  const env = {
    ...CHILD_ENV,
    AWS_ENDPOINT_URL_CHIME_SDK_VOICE: emu.url,
    AWS_ACCESS_KEY_ID: 'bench',
    AWS_SECRET_ACCESS_KEY: 'bench',
    LOG_LEVEL: 'ERROR',
  };
  // One invocation holds one binding resource: the lambda-like mode measures the largest one allowed, a
  // shard of MAX_NUMBERS_PER_SHARD numbers, against a control plane that shows its stack being created.
  const shardNumbers: string[] = [];
  for (let i = 0; shardNumbers.length < MAX_NUMBERS_PER_SHARD; i++) if (shardOf(benchNumber(i)) === 0) shardNumbers.push(benchNumber(i));
  const shardStack = synthOne(groupId, shardNumbers);
  const stackId = stackIdFor(shardStack.stackName);
  const plane = new ControlPlaneServer({
    stack: (nameOrId) => (nameOrId === stackId || nameOrId === shardStack.stackName
      ? { stackName: shardStack.stackName, stackId, status: 'CREATE_IN_PROGRESS', template: shardStack.template, resources: new Map() }
      : undefined),
    executions: () => [],
  });
  const planeUrl = await plane.endpoint();
  try {
    const [logicalId, resource] = Object.entries(shardStack.template.Resources ?? {}).find(([, r]) => r.Type === BINDING_RESOURCE_TYPE)!;
    const properties = stringifyProperties({ ...resource.Properties, ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:bench' }) as Record<string, unknown>;
    const createEvent = buildEvent({ requestType: 'Create', logicalResourceId: logicalId, resourceType: resource.Type, properties, stackId });
    const eventFile = path.join(dir, 'event.json');
    fs.writeFileSync(eventFile, JSON.stringify(createEvent));
    const lambdaLike = [
      'const fs=require("fs");',
      `const peak=${PEAK_RSS_KB_SOURCE};`,
      'const base=peak();',
      `const {handler}=require(${JSON.stringify(PHONE_NUMBERS_HANDLER_ASSET)});`,
      `const create=JSON.parse(fs.readFileSync(${JSON.stringify(eventFile)},"utf8"));`,
      'const ctx={getRemainingTimeInMillis:()=>600000};',
      '(async()=>{const r=await handler(create,ctx);',
      'await handler({...create,RequestType:"Delete",PhysicalResourceId:r.PhysicalResourceId},ctx);',
      'process.stdout.write(JSON.stringify({status:"ok",base,max:peak()}));process.exit(0);})()',
      '.catch((e)=>{process.stdout.write(JSON.stringify({status:String(e&&e.message),base,max:peak()}));process.exit(1);});',
    ].join('');
    const results: MemoryResult[] = [];
    emu.control.reset();
    emu.control.seedNumbers([...new Set([...numbers, ...shardNumbers])]);
    emu.control.createGroup({ name: 'memory', id: groupId });
    emu.control.setFaults({ latencyMs: 20 });
    const lambdaEnv = { ...env, AWS_ENDPOINT_URL_CLOUDFORMATION: planeUrl, AWS_ENDPOINT_URL_SFN: planeUrl };
    results.push(parseMemory(MAX_NUMBERS_PER_SHARD, `lambda-like (node + bundle), one binding resource of ${MAX_NUMBERS_PER_SHARD}`,
      await runChild(process.execPath, ['-e', lambdaLike], lambdaEnv, REPO_ROOT)));

    const templateFile = path.join(dir, 'template.json');
    fs.writeFileSync(templateFile, JSON.stringify(stack));
    emu.control.clearCalls();
    const child = await runChild(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'memory-child.ts'), templateFile],
      { ...env, TS_NODE_PROJECT: path.join(REPO_ROOT, 'test', 'tsconfig.json') }, REPO_ROOT);
    results.push(parseMemory(n, `driver + bundle (ts-node), the stack of ${n}`, child));
    return results;
  } finally {
    await plane.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

interface ChildOutput {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Asynchronous on purpose: the emulator lives in this process and must keep answering the child. */
function runChild(command: string, args: readonly string[], env: NodeJS.ProcessEnv, cwd: string): Promise<ChildOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

function parseMemory(n: number, mode: string, out: ChildOutput): MemoryResult {
  const text = out.stdout;
  const line = text.trim().split('\n').pop() ?? '';
  try {
    const parsed = JSON.parse(line) as { status: string; base: number; max: number };
    return { n, mode, status: parsed.status, baselineMaxRssKb: parsed.base, maxRssKb: parsed.max };
  } catch {
    return { n, mode, status: `child failed (exit ${out.status}): ${out.stderr.slice(0, 300)}`, baselineMaxRssKb: 0, maxRssKb: 0 };
  }
}

export function synthOne(groupId: string, numbers: readonly string[]): StackTemplate {
  const app = new App();
  const stack = new Stack(app, 'BenchStack');
  new VoiceConnectorGroupPhoneNumbers(stack, 'Numbers', { voiceConnectorGroupId: groupId, phoneNumbers: [...numbers] });
  return synthApp(app)[0];
}

export interface StackRun {
  readonly status: string;
  readonly invocations: number;
  readonly calls: number;
  readonly wallMs: number;
}

export interface SynthScale {
  readonly constructs: number;
  readonly numbersPerConstruct: number;
  readonly groups: number;
  readonly synthMs: number;
  readonly lambdaFunctions: number;
  readonly resources: number;
  readonly templateBytes: number;
  /** Deploy and destroy of that stack through the driver and emulator. */
  readonly deploy?: StackRun & { readonly bound: number };
  readonly destroy?: StackRun & { readonly leftBound: number };
}

/** One stack with many constructs, each binding distinct numbers, spread over a few groups. */
export async function measureSynthScale(emu: Emulator, constructs: number, perConstruct: number, groups: number): Promise<SynthScale> {
  emu.control.reset();
  const groupIds = Array.from({ length: groups }, (_, g) => emu.control.createGroup({ name: `scale-${g}` }).VoiceConnectorGroupId!);
  const all = Array.from({ length: constructs * perConstruct }, (_, i) => benchNumber(i));
  emu.control.seedNumbers(all);

  const started = process.hrtime.bigint();
  const app = new App();
  const stack = new Stack(app, 'ScaleStack');
  for (let c = 0; c < constructs; c++) {
    new VoiceConnectorGroupPhoneNumbers(stack, `Line${c}`, {
      voiceConnectorGroupId: groupIds[c % groups],
      phoneNumbers: all.slice(c * perConstruct, (c + 1) * perConstruct),
    });
  }
  const [synthed] = synthApp(app);
  const synthMs = Number(process.hrtime.bigint() - started) / 1e6;
  const resources = Object.values(synthed.template.Resources ?? {});

  emu.control.setFaults({ latencyMs: 20 });
  const driver = new LocalDeployDriver({
    handlers: LIBRARY_HANDLERS,
    env: { AWS_ENDPOINT_URL_CHIME_SDK_VOICE: emu.url, AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', LOG_LEVEL: 'ERROR' },
    order: 'parallel',
  });
  emu.control.clearCalls();
  let t = process.hrtime.bigint();
  const deployed = await driver.deploy(synthed);
  const deployMs = Number(process.hrtime.bigint() - t) / 1e6;
  const deployCalls = emu.control.getCalls().length;
  const bound = groupIds.reduce((sum, g) => sum + emu.control.groupNumbers(g).length, 0);
  emu.control.clearCalls();
  t = process.hrtime.bigint();
  const destroyed = await driver.destroy('ScaleStack');
  const destroyMs = Number(process.hrtime.bigint() - t) / 1e6;
  const leftBound = groupIds.reduce((sum, g) => sum + emu.control.groupNumbers(g).length, 0);
  return {
    constructs,
    numbersPerConstruct: perConstruct,
    groups,
    synthMs,
    lambdaFunctions: resources.filter((r) => r.Type === 'AWS::Lambda::Function').length,
    resources: resources.length,
    templateBytes: Buffer.byteLength(JSON.stringify(synthed.template), 'utf8'),
    deploy: { status: deployed.status, invocations: deployed.events.length, calls: deployCalls, wallMs: deployMs, bound },
    destroy: { status: destroyed.status, invocations: destroyed.events.length, calls: emu.control.getCalls().length, wallMs: destroyMs, leftBound },
  };
}
