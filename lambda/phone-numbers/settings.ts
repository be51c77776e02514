import type { ExecutorSettings } from './execute';
import { createLogger } from '../shared/log';

/** The handler's tunables, from the function's environment. */
export type HandlerSettings = ExecutorSettings;

/** Tunables the construct sets on the function; a bad value fails loudly instead of deploying oddly. */
export function settingsFromEnvironment(env: Record<string, string | undefined>): HandlerSettings {
  return {
    batchSize: positiveInteger(env, 'BATCH_SIZE', 10, 100),
    concurrency: positiveInteger(env, 'CONCURRENCY', 4, 32),
    numberAttempts: positiveInteger(env, 'NUMBER_ATTEMPTS', 8, 50),
    log: createLogger(env.LOG_LEVEL),
  };
}

function positiveInteger(env: Record<string, string | undefined>, name: string, fallback: number, max: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > max) {
    throw new Error(`Environment variable ${name}=${JSON.stringify(raw)} must be an integer from 1 to ${max}.`);
  }
  return value;
}
