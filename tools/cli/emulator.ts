/**
 * `cdk-chime-vcg emulator`: the local Chime SDK Voice emulator, served on loopback until stopped. With
 * `--background` it starts a detached copy of itself, waits until it listens, prints how to use it and
 * returns; `--stop` ends the one on a port.
 */
import { spawn } from 'node:child_process';
import { helpHint, integer, list, one, parseFlags, UsageError, type FlagSpec } from './args';
import { normalizeE164, E164_PATTERN } from '../../src/binding-properties';
import { startEmulator } from '../emulator';

export const EMULATOR_USAGE = 'usage: cdk-chime-vcg emulator [--port N] [--seed S] [--seed-numbers +1...,...] [--group NAME] [--bind +1...,...] [--background]\n' +
  '       cdk-chime-vcg emulator --stop --port N';

const FLAGS: Record<string, FlagSpec> = {
  'port': { value: true },
  'seed': { value: true },
  'seed-numbers': { value: true, repeat: true },
  'group': { value: true },
  'bind': { value: true, repeat: true },
  'background': {},
  'stop': {},
};

/** Set in the detached child: it stops writing once it has said it is ready (nobody reads it after). */
const DETACHED_ENV = 'CDK_CHIME_VCG_DETACHED';

export async function emulatorCommand(argv: readonly string[], out: (text: string) => void): Promise<number> {
  const parsed = parseFlags(argv, FLAGS, EMULATOR_USAGE);
  const port = integer(parsed, 'port', 0, EMULATOR_USAGE);
  if (parsed.switches.has('stop')) {
    if (port === 0) throw new UsageError(`--stop needs the --port the emulator listens on; ${helpHint(EMULATOR_USAGE)}`);
    let response: Response;
    try {
      response = await fetch(`http://127.0.0.1:${port}/_emulator/shutdown`, { method: 'POST', signal: AbortSignal.timeout(5_000) });
    } catch {
      throw new UsageError(`no emulator answers on port ${port}`);
    }
    if (!response.ok) throw new UsageError(`what listens on port ${port} is not a cdk-chime-vcg emulator (HTTP ${response.status})`);
    out(`emulator on port ${port} stopped\n`);
    return 0;
  }
  const seed = integer(parsed, 'seed', 1, EMULATOR_USAGE);
  const bind = list(parsed, 'bind');
  const numbers = [...new Set([...list(parsed, 'seed-numbers'), ...bind])];
  for (const n of numbers) {
    if (!E164_PATTERN.test(n)) throw new UsageError(`'${n}' is not an E.164 phone number ('+', then 2 to 15 digits, the first not 0); ${helpHint(EMULATOR_USAGE)}`);
  }
  const groupName = one(parsed, 'group');
  if (bind.length > 0 && groupName === undefined) throw new UsageError(`--bind binds numbers to the --group it creates: give --group NAME; ${helpHint(EMULATOR_USAGE)}`);

  if (parsed.switches.has('background')) {
    if (port === 0) throw new UsageError(`--background needs a fixed --port, so that later commands (and --stop) can find it; ${helpHint(EMULATOR_USAGE)}`);
    return background(argv.filter((a) => a !== '--background'), out);
  }

  let stopping = false;
  let emu: Awaited<ReturnType<typeof startEmulator>>;
  try {
    emu = await startEmulator({ port, seed, onShutdown: () => stop('shutdown requested') });
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error;
    throw new UsageError(`port ${port} is already in use on 127.0.0.1: stop what listens there (an emulator: npx cdk-chime-vcg emulator --stop --port ${port}), or pick another --port`);
  }
  emu.control.seedNumbers(numbers);
  const group = groupName === undefined ? undefined : emu.control.createGroup({ name: groupName });
  for (const n of bind) emu.control.bind(normalizeE164(n), 'VoiceConnectorGroupId', group!.VoiceConnectorGroupId!);

  const lines = [
    `Chime SDK Voice emulator listening on ${emu.url} (seed ${seed}, pid ${process.pid})`,
    `${numbers.length} phone number(s) in its inventory${group ? `; group '${group.Name}' has id ${group.VoiceConnectorGroupId}${bind.length ? ` with ${bind.length} number(s) bound` : ''}` : ''}`,
    'Point the AWS SDK, the AWS CLI and cdk-chime-vcg at it with:',
    `  export AWS_ENDPOINT_URL_CHIME_SDK_VOICE=${emu.url} AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local`,
    `Its state as JSON: curl ${emu.url}/_emulator/bindings`,
    process.env[DETACHED_ENV] ? `Stop it with: npx cdk-chime-vcg emulator --stop --port ${emu.port}` : 'Ctrl-C stops it.',
  ];
  out(`${lines.join('\n')}\n`);
  const detached = process.env[DETACHED_ENV] === '1';

  function stop(why: string): void {
    if (stopping) return;
    stopping = true;
    if (!detached) out(`${why}: stopping the emulator\n`);
    emu.close().then(() => process.exit(0), () => process.exit(1));
  }
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return new Promise<number>(() => undefined); // serves until stopped
}

/** Starts a detached copy, relays its first lines once it listens, and returns. */
async function background(argv: readonly string[], out: (text: string) => void): Promise<number> {
  // Run from source (`npx projen emulator`), the entry point is TypeScript: the copy needs ts-node too.
  const fromSource = process.argv[1].endsWith('.ts') ? ['-r', 'ts-node/register/transpile-only'] : [];
  const child = spawn(process.execPath, [...fromSource, process.argv[1], 'emulator', ...argv], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, [DETACHED_ENV]: '1', NODE_OPTIONS: [process.env.NODE_OPTIONS, '--no-warnings'].filter(Boolean).join(' ') },
  });
  let text = '';
  let errors = '';
  const ready = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 30_000);
    child.stdout!.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('Stop it with')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    child.stderr!.on('data', (chunk: Buffer) => { errors += chunk.toString(); });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (!ready) {
    child.kill();
    const last = (errors || text).trim().split('\n').pop() ?? 'no output';
    throw new UsageError(`the emulator did not start: ${last.replace(/^cdk-chime-vcg: /, '')}`);
  }
  child.stdout!.destroy();
  child.stderr!.destroy();
  child.unref();
  out(text);
  return 0;
}
