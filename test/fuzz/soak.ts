/**
 * Lifecycle fuzzing for longer than CI does: `npx projen soak [--seconds N] [--seed S] [--steps K] [--fault-weight 0..10]`.
 *
 * Runs random sequences (the same model and commands as test/fuzz/lifecycle.test.ts) for N seconds
 * (default 60), prints sequences run per second and what was injected, and on a broken invariant prints
 * the shrunk counterexample and exits 1.
 */
import fc from 'fast-check';
import { newStats, runSequence, sequenceArbitrary, Violation } from './model';
import { World } from './world';

function arg(name: string): string | undefined {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  if (i >= 0) return args[i + 1];
  const inline = args.find((a) => a.startsWith(`--${name}=`));
  return inline?.slice(name.length + 3);
}

function integerArg(name: string, fallback: number): number {
  const raw = arg(name);
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value)) throw new Error(`--${name} must be an integer, got ${JSON.stringify(raw)}`);
  return value;
}

async function main(): Promise<number> {
  const seconds = integerArg('seconds', 60);
  const seed = integerArg('seed', Date.now() % 2 ** 31);
  const maxSteps = integerArg('steps', 6);
  const faultWeight = integerArg('fault-weight', 3);
  const stats = newStats();
  const world = await World.start(seed);
  const started = Date.now();
  console.log(`soak: seed ${seed}, ${seconds} s, up to ${maxSteps} steps per sequence`);
  const progress = setInterval(() => {
    const elapsed = (Date.now() - started) / 1000;
    console.log(`  ${stats.sequences} sequences, ${stats.steps} steps in ${elapsed.toFixed(0)} s (${(stats.sequences / elapsed).toFixed(1)} sequences/s)`);
  }, 10_000);
  try {
    const result = await fc.check(
      fc.asyncProperty(sequenceArbitrary({ maxSteps, faultWeight }), fc.integer({ min: 1, max: 2 ** 30 }), async (steps, faultSeed) => {
        await runSequence(world, steps, { stats, faultSeed });
      }),
      { seed, numRuns: Number.MAX_SAFE_INTEGER, interruptAfterTimeLimit: seconds * 1000, markInterruptAsFailure: false },
    );
    const elapsed = (Date.now() - started) / 1000;
    console.log(`soak: ${result.numRuns} sequences (${stats.sequences} runs incl. shrinking), ${stats.steps} steps, ${stats.events} handler events `
      + `in ${elapsed.toFixed(1)} s: ${(stats.sequences / elapsed).toFixed(1)} sequences/s`);
    console.log(`  deploys ${stats.deploys}, destroys ${stats.destroys}, expected failures ${stats.expectedFailures}, `
      + `rollbacks ${stats.rollbacks} (exact rollbacks of adopted or taken numbers ${stats.exactRollbacks}), `
      + `duplicate-delivery steps ${stats.duplicateSteps}, cancelled in-flight steps ${stats.cancelledSteps}, refactors ${stats.refactors}`);
    console.log(`  steps with faults ${stats.faultySteps} (${JSON.stringify(stats.faultKinds)}); failures the retries did not absorb ${stats.faultFailures}`);
    if (result.failed) {
      const error = result.errorInstance;
      console.log(`\nCOUNTEREXAMPLE (seed ${result.seed}, path ${JSON.stringify(result.counterexamplePath)}, shrunk ${result.numShrinks} times):`);
      console.log(JSON.stringify(result.counterexample, null, 1));
      console.log(error instanceof Violation ? error.message : String(error));
      return 1;
    }
    return 0;
  } finally {
    clearInterval(progress);
    await world.close();
  }
}

main().then((code) => process.exit(code), (error) => {
  console.error(error);
  process.exit(2);
});
