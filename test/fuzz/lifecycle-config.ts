/**
 * What the CI fuzzing run generates. Nothing is kept out any more: since bindings are owned per stack and
 * number, the patterns earlier versions had to avoid (adopted or forcibly taken numbers in a deploy that
 * rolls back, moves off a replaced construct, moves with a group change) are all generated, and all must
 * roll back exactly. Override the run with FUZZ_RUNS / FUZZ_SEED (e.g. for a longer local run).
 */

/** The fixed seed of the CI run. */
export const FUZZ_SEED = Number(process.env.FUZZ_SEED ?? 20251202);
export const FUZZ_RUNS = Number(process.env.FUZZ_RUNS ?? 200);
