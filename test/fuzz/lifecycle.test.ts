/**
 * Lifecycle fuzzing: random sequences of CloudFormation operations (creates, updates with random adds and
 * removes, numbers moving between constructs and groups, constructs renamed, moved, merged and split,
 * groups through tokens, forceAssociate on and off, RETAIN, failed deploys and their exact rollbacks,
 * in-flight work finished or cancelled, replaced ids on rollback, duplicate deliveries, destroys) on a
 * stack of 1..3 VoiceConnectorGroupPhoneNumbers over 2 groups, deployed through the local CloudFormation
 * driver and the real handler bundle against the emulator, with random faults per step. The invariants are
 * checked on the emulator after every step (see model.ts). `npx projen soak` runs the same property for longer.
 */
import fc from 'fast-check';
import { FUZZ_RUNS, FUZZ_SEED } from './lifecycle-config';
import { newStats, runSequence, sequenceArbitrary } from './model';
import { World } from './world';

let world: World;
beforeAll(async () => {
  world = await World.start(FUZZ_SEED);
});
afterAll(async () => world.close());

test(`${FUZZ_RUNS} random lifecycle sequences keep every invariant (seed ${FUZZ_SEED})`, async () => {
  const stats = newStats();
  const started = Date.now();
  await fc.assert(
    fc.asyncProperty(sequenceArbitrary({ maxSteps: 3, faultWeight: 2 }), fc.integer({ min: 1, max: 2 ** 30 }), async (steps, faultSeed) => {
      await runSequence(world, steps, { stats, faultSeed });
    }),
    { seed: FUZZ_SEED, numRuns: FUZZ_RUNS },
  );
  const seconds = (Date.now() - started) / 1000;
  // The run must have exercised what it claims to.
  expect(stats.sequences).toBeGreaterThanOrEqual(FUZZ_RUNS);
  expect(stats.expectedFailures).toBeGreaterThan(10);
  expect(stats.rollbacks).toBeGreaterThan(10);
  expect(stats.duplicateSteps).toBeGreaterThan(10);
  expect(stats.faultySteps).toBeGreaterThan(10);
  expect(stats.destroys).toBeGreaterThan(10);
  expect(stats.refactors).toBeGreaterThan(10);
  expect(stats.cancelledSteps).toBeGreaterThan(10);
  expect(stats.exactRollbacks).toBeGreaterThan(5);
  process.stdout.write(`lifecycle fuzzing: ${JSON.stringify({ seconds, ...stats })}\n`);
}, 600_000);
