/** Bundle size, module initialisation time, memory and synth-scale measurements. */
import { spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { App, Stack } from 'aws-cdk-lib';
import { benchNumber } from './workload';
import { VoiceConnectorGroupPhoneNumbers } from '../../src';
import { BINDING_RESOURCE_TYPE } from '../../src/binding-properties';
import type { Emulator } from '../emulator';
import { buildEvent, LIBRARY_HANDLERS, LocalDeployDriver, PHONE_NUMBERS_HANDLER_ASSET, stringifyProperties, synthApp, type StackTemplate } from '../local-deploy';

export const REPO_ROOT = path.join(__dirname, '..', '..');

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
  try {
    const [logicalId, resource] = Object.entries(stack.template.Resources ?? {}).find(([, r]) => r.Type === BINDING_RESOURCE_TYPE)!;
    const properties = stringifyProperties({ ...resource.Properties, ServiceToken: 'arn:aws:lambda:us-east-1:123456789012:function:bench' }) as Record<string, unknown>;
    const createEvent = buildEvent({ requestType: 'Create', logicalResourceId: logicalId, resourceType: resource.Type, properties });
    const eventFile = path.join(dir, 'event.json');
    fs.writeFileSync(eventFile, JSON.stringify(createEvent));
    const lambdaLike = [
      'const fs=require("fs");',
      'const base=process.resourceUsage().maxRSS;',
      `const {handler}=require(${JSON.stringify(PHONE_NUMBERS_HANDLER_ASSET)});`,
      `const create=JSON.parse(fs.readFileSync(${JSON.stringify(eventFile)},"utf8"));`,
      'const ctx={getRemainingTimeInMillis:()=>600000};',
      '(async()=>{const r=await handler(create,ctx);',
      'await handler({...create,RequestType:"Delete",PhysicalResourceId:r.PhysicalResourceId},ctx);',
      'process.stdout.write(JSON.stringify({status:"ok",base,max:process.resourceUsage().maxRSS}));process.exit(0);})()',
      '.catch((e)=>{process.stdout.write(JSON.stringify({status:String(e&&e.message),base,max:process.resourceUsage().maxRSS}));process.exit(1);});',
    ].join('');
    const results: MemoryResult[] = [];
    emu.control.reset();
    emu.control.seedNumbers(numbers);
    emu.control.createGroup({ name: 'memory', id: groupId });
    emu.control.setFaults({ latencyMs: 20 });
    results.push(parseMemory(n, 'lambda-like (node + bundle)', await runChild(process.execPath, ['-e', lambdaLike], env, REPO_ROOT)));

    const templateFile = path.join(dir, 'template.json');
    fs.writeFileSync(templateFile, JSON.stringify(stack));
    emu.control.clearCalls();
    const child = await runChild(process.execPath, ['-r', 'ts-node/register/transpile-only', path.join(__dirname, 'memory-child.ts'), templateFile],
      { ...env, TS_NODE_PROJECT: path.join(REPO_ROOT, 'test', 'tsconfig.json') }, REPO_ROOT);
    results.push(parseMemory(n, 'driver + bundle (ts-node)', child));
    return results;
  } finally {
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
