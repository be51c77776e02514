/**
 * Counterexamples the lifecycle fuzzer found, replayed exactly: handler bugs since fixed, and causes that
 * were not in the handler (CloudFormation semantics the model first got wrong, sanitising gaps in the
 * model). Patterns the handler cannot get right from the event alone are kept out of generated sequences
 * by KNOWN_ISSUES (lifecycle-config.ts) and documented as limits in the README.
 */
import { FUZZ_MODEL_OPTIONS } from './lifecycle-config';
import { declsFor, describeDecls, DeployStep, runSequence, Step } from './model';
import { World } from './world';

let world: World;
beforeAll(async () => {
  world = await World.start(7);
});
afterAll(async () => world.close());

const NO = [false, false, false];

/** owners: per declarable number (p0..p4, onOtherGroup, onVoiceConnector, wrongProduct, notInInventory), 0 = none or construct 1..3. */
function deploy(owners: number[], extra: Partial<DeployStep> = {}): DeployStep {
  return { kind: 'deploy', owners, groups: [0, 0, 0], force: NO, retain: NO, order: 'topological', duplicate: false, faults: null, ...extra };
}

test('a RETAIN construct created by a deploy that fails keeps what it bound (DeletionPolicy Retain holds on rollback too)', async () => {
  const steps: Step[] = [deploy([0, 0, 0, 0, 3, 0, 0, 0, 1], { force: [true, false, false], retain: [true, false, true], order: 'reverse' })];
  const { trace } = await runSequence(world, steps, FUZZ_MODEL_OPTIONS);
  expect(trace.join('\n')).toContain('ROLLBACK_COMPLETE');
  expect(world.emu.control.getBinding(world.account.pool[4])).toEqual({ name: 'VoiceConnectorGroupId', value: world.account.groups.a });
});

test('a number moving out of a construct that another dropped number empties is sanitised too (fixpoint)', async () => {
  const steps: Step[] = [
    deploy([2, 2, 3, 0, 0, 0, 0, 0, 0], { duplicate: true }),
    deploy([0, 3, 1, 0, 0, 0, 0, 0, 0], { retain: [false, true, false] }),
  ];
  world.reset(1);
  const first = declsFor(steps[0] as DeployStep, { bindings: world.bindings(), stack: null }, world, FUZZ_MODEL_OPTIONS);
  const second = declsFor(steps[1] as DeployStep, { bindings: world.bindings(), stack: first }, world, FUZZ_MODEL_OPTIONS);
  // p1 moves out of deleted C2 into C3 on the same group (dropped), which empties C3, so p2 moving out of the
  // now deleted C3 into C1 is the same documented limitation: nothing is left to deploy.
  expect(describeDecls(second, world)).toBe('(no constructs)');
  await runSequence(world, steps, FUZZ_MODEL_OPTIONS);
});

test('a number moving out of a construct emptied by another avoidance rule is sanitised too (fixpoint)', async () => {
  const steps: Step[] = [
    deploy([0, 3, 0, 0, 1, 0, 0, 0, 0], { groups: [1, 0, 0], force: [false, false, true], faults: { strictDisassociate: true } }),
    deploy([0, 1, 0, 0, 0, 0, 3, 0, 0], { force: [true, false, true] }),
  ];
  await runSequence(world, steps, FUZZ_MODEL_OPTIONS);
});

describe('handler bugs the fuzzer found, fixed (each fails against the handler before its fix)', () => {
  test('a rollback Delete under a rate limit shared with a failing sibling completes (throttledClientGivesUp)', async () => {
    world.reset(1);
    const steps: Step[] = [
      deploy([0, 0, 1, 2, 0, 0, 0, 0, 1], { retain: [true, false, true], order: 'parallel', faults: { tpsLimit: 6 } }),
      deploy([0, 0, 0, 0, 0, 1, 0, 0, 0], { force: [true, false, true], duplicate: true }),
    ];
    await runSequence(world, steps, FUZZ_MODEL_OPTIONS);
  });
});
