/**
 * `npx projen bench`: performance and scale of the reconciling handler against the local Chime SDK
 * Voice emulator (issue 5). Prints tables and writes them to test/bench/results.json and
 * docs/benchmark.md. It reports figures and checks them against the targets; it never fails on
 * timing (only on a crash), so a slow machine cannot break CI.
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CLI_PLAN_HEADER, CLI_PLAN_SIZES, formatCliPlan, runCliPlan, type CliPlanRow } from './cli-plan';
import { measureInit, measureMemory, measureSynthScale, REPO_ROOT, synthOne, type InitTiming } from './measure';
import { callSummary, fmtBytes, fmtMs, fmtRatio, Report, type Cell } from './report';
import { runScenario, type Approach, type PhaseResult, type ScenarioResult } from './scale';
import { runStackScale, STACK_SCALE_SIZES, stackScaleLimits, type StackScaleResult } from './stack-scale';
import { workload } from './workload';
import { settingsFromEnvironment } from '../../lambda/phone-numbers/settings';
import { shardOf } from '../../src/binding-properties';
import { READ_ONE_BY_ONE_UP_TO } from '../../tools/cli/plan';
import { startEmulator } from '../../tools/emulator';
import { PHONE_NUMBERS_HANDLER_ASSET } from '../../tools/local-deploy';

const LATENCY_MS = 20;
const TPS = 5;
const SIZES = [10, 100, 1_000, 5_000];
/** Under 5 TPS, sizes whose estimated run (calls / TPS) exceeds this are skipped to keep the bench short. */
const TPS_BUDGET_S = 120;
const SIDE_BY_SIDE = [100, 1_000];
const INIT_RUNS = 11;
const TARGETS = { latencyRatioAt1000: 1.5, tpsRatio: 1.2, bundleBytes: 400 * 1024, initShare: 0.25, dataBytes: 4096 };
const PEER_PACKAGE = 'cdk-amazon-chime-resources';
const PEER_BUNDLE_PATH = path.join('assets', 'resources', 'pstn', 'index.js');

// The handler's own defaults, read from its settings rather than copied here.
const HANDLER_DEFAULTS = settingsFromEnvironment({ LOG_LEVEL: 'ERROR' });
const CONCURRENCY = HANDLER_DEFAULTS.concurrency;
const BATCH = HANDLER_DEFAULTS.batchSize;

interface BoundedPhase extends PhaseResult {
  readonly boundMs: number;
  readonly ratio: number;
}

function latencyBound(phase: PhaseResult): number {
  return (phase.totalCalls * LATENCY_MS) / CONCURRENCY;
}

function rateBound(phase: PhaseResult): number {
  return (phase.totalCalls / TPS) * 1000;
}

function withBound(result: ScenarioResult, bound: (p: PhaseResult) => number): BoundedPhase[] {
  return result.phases.map((p) => {
    const boundMs = bound(p);
    return { ...p, boundMs, ratio: boundMs > 0 ? p.wallMs / boundMs : Number.NaN };
  });
}

/**
 * An update's call budget. Each binding resource (shard) of the stack writes its own part of the change:
 * at most ceil(added in the shard / batch) + ceil(removed in the shard / batch) writes; and reads at most
 * one GetPhoneNumber per touched number (a shard lists the group instead only when it touches more than 50).
 */
function updateTarget(result: ScenarioResult, update: PhaseResult): { writes: number; reads: number; ok: boolean } {
  const work = workload(result.n);
  const perShard = (numbers: readonly string[]) => {
    const counts = new Map<number, number>();
    for (const n of numbers) counts.set(shardOf(n), (counts.get(shardOf(n)) ?? 0) + 1);
    return [...counts.values()].reduce((sum, c) => sum + Math.ceil(c / BATCH), 0);
  };
  const writes = perShard(work.added) + perShard(work.removed);
  const reads = work.added.length + work.removed.length;
  return { writes, reads, ok: update.writeCalls <= writes && update.readCalls <= reads };
}

function findPeerBundle(): { file?: string; note: string } {
  const override = process.env.BENCH_PEER_BUNDLE;
  if (override) return fs.existsSync(override) ? { file: override, note: `BENCH_PEER_BUNDLE=${override}` } : { note: `BENCH_PEER_BUNDLE=${override} does not exist` };
  const dir = path.join(os.tmpdir(), 'bench-peer');
  const existing = path.join(dir, 'package', PEER_BUNDLE_PATH);
  if (!fs.existsSync(existing)) {
    try {
      fs.mkdirSync(dir, { recursive: true });
      const tarball = execFileSync('npm', ['pack', PEER_PACKAGE, '--silent'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim().split('\n').pop()!;
      execFileSync('tar', ['xzf', tarball], { cwd: dir });
    } catch (error) {
      return { note: `could not npm pack ${PEER_PACKAGE}: ${(error as Error).message.split('\n')[0]}` };
    }
  }
  if (!fs.existsSync(existing)) return { note: `${PEER_PACKAGE} has no ${PEER_BUNDLE_PATH}` };
  const version = (JSON.parse(fs.readFileSync(path.join(dir, 'package', 'package.json'), 'utf8')) as { version: string }).version;
  return { file: existing, note: `${PEER_PACKAGE}@${version} ${PEER_BUNDLE_PATH} (its PSTN handler: PhoneAssociation, PhoneNumber, VoiceConnector, SipMediaApp...)` };
}

async function main(): Promise<void> {
  const started = Date.now();
  const report = new Report();
  const emu = await startEmulator({ seed: 1 });
  const results: Record<string, unknown> = {
    generatedAt: new Date().toISOString(),
    machine: { node: process.version, cpus: os.cpus().length, platform: `${os.platform()} ${os.arch()}` },
    settings: { latencyMs: LATENCY_MS, tpsLimit: TPS, handlerConcurrency: CONCURRENCY, handlerBatchSize: BATCH, targets: TARGETS },
  };
  try {
    console.log(`Handler defaults (lambda/index.ts settingsFromEnvironment): concurrency ${CONCURRENCY}, batch ${BATCH}. Emulator at ${emu.url}.`);

    // 1. Latency profile.
    const latency: ScenarioResult[] = [];
    for (const n of SIZES) {
      latency.push(await runScenario(emu, 'library', workload(n), { name: `latency ${LATENCY_MS} ms`, faults: { latencyMs: LATENCY_MS } }));
    }
    report.heading(`Latency ${LATENCY_MS} ms per call: wall time vs calls x ${LATENCY_MS} ms / concurrency ${CONCURRENCY}`);
    const latencyRows: Cell[][] = [];
    const latencyJson: unknown[] = [];
    for (const result of latency) {
      for (const p of withBound(result, latencyBound)) {
        const target = result.n === 1_000 ? (p.ratio <= TARGETS.latencyRatioAt1000 ? 'met' : 'MISSED') : '';
        latencyRows.push([result.n, p.phase, callSummary(p.calls), p.totalCalls, p.throttled, fmtMs(p.wallMs), fmtMs(p.boundMs), fmtRatio(p.ratio),
          target, p.status, p.stale, p.missing]);
        latencyJson.push({ n: result.n, added: result.added, removed: result.removed, ...p });
      }
    }
    report.table(['N', 'phase', 'calls by operation', 'calls', '429s', 'wall', 'bound', 'ratio', `<=${TARGETS.latencyRatioAt1000}x @1000`, 'status', 'stale', 'missing'], latencyRows);
    results.latency = latencyJson;

    report.heading(`Update call budget: per binding resource, at most ceil(added/${BATCH}) + ceil(removed/${BATCH}) writes; one read per touched number`);
    const budgetRows = latency.map((result) => {
      const update = result.phases.find((p) => p.phase === 'Update')!;
      const t = updateTarget(result, update);
      return [result.n, `+${result.added} / -${result.removed}`, update.writeCalls, t.writes, update.readCalls, t.reads, t.ok ? 'met' : 'MISSED'];
    });
    report.table(['N', 'touched', 'writes', 'max writes', 'reads', 'max reads', 'target'], budgetRows);
    results.updateBudget = budgetRows.map(([n, touched, writes, maxWrites, reads, maxReads, target]) => ({
      n, touched, writes, maxWrites, reads, maxReads, target,
    }));

    // 2. Rate-limit profile.
    const tps: ScenarioResult[] = [];
    const skipped: string[] = [];
    for (const n of SIZES) {
      const estimateS = latency.find((r) => r.n === n)!.phases.reduce((sum, p) => sum + p.totalCalls, 0) / TPS;
      if (estimateS > TPS_BUDGET_S) {
        skipped.push(`N=${n.toLocaleString('en-US')} skipped under ${TPS} TPS: ~${Math.round(estimateS * TPS)} calls would take at least ${Math.round(estimateS)} s (bench budget ${TPS_BUDGET_S} s).`);
        continue;
      }
      tps.push(await runScenario(emu, 'library', workload(n), { name: `${TPS} TPS`, faults: { latencyMs: LATENCY_MS, tpsLimit: TPS } }));
    }
    report.heading(`Rate limit ${TPS} TPS (and ${LATENCY_MS} ms latency): wall time vs calls / ${TPS} TPS`);
    const tpsRows: Cell[][] = [];
    const tpsJson: unknown[] = [];
    for (const result of tps) {
      for (const p of withBound(result, rateBound)) {
        tpsRows.push([result.n, p.phase, callSummary(p.calls), p.totalCalls, p.throttled, fmtMs(p.wallMs), fmtMs(p.boundMs), fmtRatio(p.ratio),
          p.ratio <= TARGETS.tpsRatio ? 'met' : 'MISSED', p.status, p.stale, p.missing]);
        tpsJson.push({ n: result.n, added: result.added, removed: result.removed, ...p });
      }
    }
    report.table(['N', 'phase', 'calls by operation', 'calls', '429s', 'wall', 'bound', 'ratio', `<=${TARGETS.tpsRatio}x`, 'status', 'stale', 'missing'], tpsRows);
    skipped.forEach((s) => report.note(s));
    results.tps = tpsJson;
    results.tpsSkipped = skipped;

    // 3. Side by side.
    report.heading(`Side by side (${LATENCY_MS} ms latency, same numbers, same update)`);
    const sideRows: Cell[][] = [];
    const sideJson: unknown[] = [];
    for (const n of SIDE_BY_SIDE) {
      const byApproach = new Map<Approach, ScenarioResult>([['library', latency.find((r) => r.n === n)!]]);
      for (const approach of ['per-number', 'aws-custom-resource'] as const) {
        try {
          byApproach.set(approach, await runScenario(emu, approach, workload(n), { name: `latency ${LATENCY_MS} ms`, faults: { latencyMs: LATENCY_MS } }));
        } catch (error) {
          // One resource per number cannot hold 1,000 numbers: CloudFormation takes 500 resources per template.
          sideRows.push([n, approach, '-', '-', '-', '-', '-', '-', '-', `cannot deploy: ${(error as Error).message.split('\n').slice(-1)[0].trim()}`]);
          sideJson.push({ n, approach, error: (error as Error).message });
        }
      }
      for (const [approach, result] of byApproach) {
        const [create, update, destroy] = result.phases;
        sideRows.push([n, approach,
          `${create.invocations} / ${update.invocations} / ${destroy.invocations}`,
          `${create.totalCalls} / ${update.totalCalls} / ${destroy.totalCalls}`,
          `${fmtMs(create.wallMs)} / ${fmtMs(update.wallMs)} / ${fmtMs(destroy.wallMs)}`,
          `+${result.added} / -${result.removed}`, update.stale, update.missing, destroy.stale, [create, update, destroy].every((p) => !p.failure) ? 'ok' : 'FAILED']);
        sideJson.push({ n, approach, added: result.added, removed: result.removed, phases: result.phases });
      }
    }
    report.table(['N', 'approach', 'invocations C/U/D', 'API calls C/U/D', 'wall C/U/D', 'update', 'stale after update', 'missing', 'left after delete', 'result'], sideRows);
    report.note('per-number: one resource per number keyed by position (the cdk-amazon-chime-resources pattern); a slot whose number changes is Updated (associate new, old stays bound).');
    report.note('aws-custom-resource: one Associate of the whole list on Create/Update (ForceAssociate, no diff), one Disassociate of the whole list on Delete.');
    report.note('The driver adds no CloudFormation per-resource overhead: in a real stack each per-number resource costs a Provider round trip (seconds), and a template holds at most 500 resources.');
    results.sideBySide = sideJson;

    // 3b. Stack scale: binding resources (shards) at up to 20,000 numbers in one stack.
    report.heading(`Stack scale: one stack, two groups, ${LATENCY_MS} ms latency (create, move 100 numbers from group a to b, delete)`);
    const stackScale: StackScaleResult[] = [];
    for (const n of STACK_SCALE_SIZES) stackScale.push(await runStackScale(emu, n, LATENCY_MS));
    report.table(['N', 'binding resources', 'template', 'phase', 'status', 'wall', 'events', 'API calls', 'largest event', 'largest waiter input', 'largest Data', 'largest physical id', 'wrong bindings'],
      stackScale.flatMap((r) => r.phases.map((p) => [
        r.n, r.shards, fmtBytes(r.templateBytes), p.phase, p.status, fmtMs(p.wallMs), p.events, p.calls,
        `${p.maxEventBytes} B`, `${p.maxWaiterInputBytes} B`, `${p.maxDataBytes} B`, `${p.maxPhysicalIdBytes} B`, p.wrong,
      ])));
    report.note(stackScaleLimits());
    report.note('One resource per number cannot hold these stacks: CloudFormation takes at most 500 resources per template.');
    report.note(`At an assumed ${TPS} requests per second for the account, the API calls above bound the wall time from below at calls / ${TPS} s.`);
    results.stackScale = stackScale;

    // 3c. The command line's plan at stack scale.
    report.heading(`cdk-chime-vcg plan: one stack, two groups, ${LATENCY_MS} ms latency (reads only; each plan then deployed and compared)`);
    const cliPlan: CliPlanRow[] = [];
    for (const n of CLI_PLAN_SIZES) cliPlan.push(...await runCliPlan(emu, n, LATENCY_MS));
    report.table(CLI_PLAN_HEADER, formatCliPlan(cliPlan));
    report.note(`A first deploy with more than ${READ_ONE_BY_ONE_UP_TO} numbers to read lists the inventory (100 a page) instead of reading each number.`);
    results.cliPlan = cliPlan;

    // 4. Bundle and module initialisation.
    report.heading('Handler bundle and module initialisation (fresh node processes, median)');
    const bundleBytes = fs.statSync(PHONE_NUMBERS_HANDLER_ASSET).size;
    const peer = findPeerBundle();
    const timings = measureInit([
      { label: 'bare node -e 0' },
      { label: 'this library', file: PHONE_NUMBERS_HANDLER_ASSET },
      ...(peer.file ? [{ label: PEER_PACKAGE, file: peer.file }] : []),
    ], INIT_RUNS);
    const [bare, ours, theirs] = timings as [InitTiming, InitTiming, InitTiming | undefined];
    report.table(['subject', 'bytes', 'process wall', 'process - bare', 'require() alone'], timings.map((t) => [
      t.label, t.bytes === undefined ? '-' : `${t.bytes} (${fmtBytes(t.bytes)})`, `${t.processMs.toFixed(1)} ms`, `${(t.processMs - bare.processMs).toFixed(1)} ms`, `${t.requireMs.toFixed(1)} ms`,
    ]));
    report.note(`Bundle: ${bundleBytes} bytes (${fmtBytes(bundleBytes)}); target <= ${fmtBytes(TARGETS.bundleBytes)}: ${bundleBytes <= TARGETS.bundleBytes ? 'met' : 'MISSED'}.`);
    report.note(`Peer bundle: ${peer.file ?? '-'}: ${peer.note}.`);
    let init: Record<string, number> | undefined;
    if (theirs) {
      init = {
        netRatio: (ours.processMs - bare.processMs) / (theirs.processMs - bare.processMs),
        plainRatio: ours.processMs / theirs.processMs,
        requireRatio: ours.requireMs / theirs.requireMs,
      };
      report.note(`Init ratio ours/peer: (ours - bare)/(peer - bare) = ${init.netRatio.toFixed(2)}; plain process ratio = ${init.plainRatio.toFixed(2)}; require() alone = ${init.requireRatio.toFixed(2)}; `
        + `target <= ${TARGETS.initShare}: net ${init.netRatio <= TARGETS.initShare ? 'met' : 'MISSED'}, plain ${init.plainRatio <= TARGETS.initShare ? 'met' : 'MISSED'}, require() ${init.requireRatio <= TARGETS.initShare ? 'met' : 'MISSED'}.`);
    }
    results.bundle = { bytes: bundleBytes, targetBytes: TARGETS.bundleBytes, peer: peer.note, timings, init };

    // 5. Synth scale and the 5,000-number construct.
    report.heading('Synth scale');
    const scale = await measureSynthScale(emu, 200, 5, 4);
    const big = latency.find((r) => r.n === 5_000)!;
    const bigT0 = process.hrtime.bigint();
    const bigStack = synthOne('00000000-0000-4000-8000-000000000001', workload(5_000).initial);
    const bigSynthMs = Number(process.hrtime.bigint() - bigT0) / 1e6;
    const bigData = Math.max(...big.phases.map((p) => p.dataBytes));
    report.table(['stack', 'synth', 'Lambda functions', 'resources', 'template bytes', 'deploy (driver+emulator)', 'destroy'], [
      [`${scale.constructs} constructs x ${scale.numbersPerConstruct} numbers, ${scale.groups} groups`, fmtMs(scale.synthMs), scale.lambdaFunctions, scale.resources,
        `${scale.templateBytes} (${fmtBytes(scale.templateBytes)})`,
        `${scale.deploy!.status}, ${scale.deploy!.invocations} inv, ${scale.deploy!.calls} calls, ${fmtMs(scale.deploy!.wallMs)}, ${scale.deploy!.bound} bound`,
        `${scale.destroy!.status}, ${scale.destroy!.calls} calls, ${fmtMs(scale.destroy!.wallMs)}, ${scale.destroy!.leftBound} left`],
      ['1 construct x 5,000 numbers', fmtMs(bigSynthMs), Object.values(bigStack.template.Resources ?? {}).filter((r) => r.Type === 'AWS::Lambda::Function').length,
        Object.keys(bigStack.template.Resources ?? {}).length,
        `${Buffer.byteLength(JSON.stringify(bigStack.template), 'utf8')} (${fmtBytes(Buffer.byteLength(JSON.stringify(bigStack.template), 'utf8'))})`,
        `${big.phases[0].status}, ${big.phases[0].invocations} inv, ${big.phases[0].totalCalls} calls, ${fmtMs(big.phases[0].wallMs)}, ${5_000 - big.phases[0].missing} bound`,
        `${big.phases[2].status}, ${big.phases[2].totalCalls} calls, ${fmtMs(big.phases[2].wallMs)}, ${big.phases[2].stale} left`],
    ]);
    report.note(`Lambda functions: the reconciling handler plus the Provider framework's functions, once per stack (the count does not grow with the number of constructs). Response Data of the 5,000-number resource: ${bigData} bytes (target < ${TARGETS.dataBytes}: ${bigData < TARGETS.dataBytes ? 'met' : 'MISSED'}).`);
    results.synthScale = { ...scale, fiveThousand: { synthMs: bigSynthMs, templateBytes: Buffer.byteLength(JSON.stringify(bigStack.template), 'utf8'), dataBytes: bigData } };

    // 6. Memory.
    report.heading('Peak memory, Create then Delete (child processes, maxRSS): the largest binding resource alone, and a 5,000-number stack through the driver');
    const memory = await measureMemory(emu, '00000000-0000-4000-8000-00000000beef', 5_000);
    report.table(['mode', 'status', 'maxRSS before first event', 'peak maxRSS', 'growth'], memory.map((m) => [
      m.mode, m.status, `${(m.baselineMaxRssKb / 1024).toFixed(1)} MB`, `${(m.maxRssKb / 1024).toFixed(1)} MB`, `${((m.maxRssKb - m.baselineMaxRssKb) / 1024).toFixed(1)} MB`,
    ]));
    report.note('The construct gives the function 256 MB.');
    results.memory = memory;

    const totalS = (Date.now() - started) / 1000;
    report.note(`\nBench took ${totalS.toFixed(0)} s on ${os.cpus().length} CPUs, node ${process.version}.`);
    results.totalSeconds = totalS;
  } finally {
    await emu.close();
  }
  const outDir = path.join(REPO_ROOT, 'test', 'bench');
  fs.writeFileSync(path.join(outDir, 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  // The table goes with the docs (docs/ ships in the package); the raw figures stay beside the bench.
  const markdown = path.join(REPO_ROOT, 'docs', 'benchmark.md');
  fs.writeFileSync(markdown, report.toMarkdown([
    '## Benchmark results',
    '',
    `Generated by \`npx projen bench\` (test/bench/run.ts) on ${String(results.generatedAt).slice(0, 10)}: local Chime SDK Voice emulator, `
      + `${LATENCY_MS} ms added latency per call; handler defaults concurrency ${CONCURRENCY}, batch ${BATCH}. `
      + 'Bounds: latency bound = calls x latency / concurrency; rate bound = calls / TPS. "calls" counts answered (2xx) requests; 429s are listed separately.',
  ].join('\n')));
  console.log(`\nWrote ${path.relative(REPO_ROOT, path.join(outDir, 'results.json'))} and ${path.relative(REPO_ROOT, markdown)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
