/**
 * Standalone emulator for demos and for driving from another process:
 *
 *   ts-node --project test/tsconfig.json test/emulator/cli.ts [--port N] [--seed S] \
 *     [--seed-numbers +12065550100,+12065550101] [--group NAME]
 *
 * Prints the URL, the created group id and example commands, then serves until SIGINT/SIGTERM.
 * Everything else (faults, bindings, call log) is driven through the `/_emulator/...` endpoints.
 */
import { CONTROL_PREFIX, startEmulator } from './index';

interface CliOptions {
  port: number;
  seed: number;
  numbers: string[];
  group?: string;
}

const USAGE = 'usage: cli.ts [--port N] [--seed S] [--seed-numbers +12065550100,...] [--group NAME]';

function parseArgs(argv: readonly string[]): CliOptions {
  const options: CliOptions = { port: 0, seed: 1, numbers: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const [flag, value] = [argv[i], argv[i + 1]];
    if (value === undefined) throw new Error(`${flag} needs a value\n${USAGE}`);
    switch (flag) {
      case '--port': options.port = integer(flag, value); break;
      case '--seed': options.seed = integer(flag, value); break;
      case '--seed-numbers': options.numbers = value.split(',').map((n) => n.trim()).filter((n) => n.length > 0); break;
      case '--group': options.group = value; break;
      default: throw new Error(`unknown option ${flag}\n${USAGE}`);
    }
  }
  return options;
}

function integer(flag: string, value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${flag} must be a non-negative integer; got ${value}`);
  return n;
}

async function main(): Promise<void> {
  const options = parseArgs(process.argv.slice(2));
  const emu = await startEmulator({ port: options.port, seed: options.seed });
  emu.control.seedNumbers(options.numbers);
  const group = options.group === undefined ? undefined : emu.control.createGroup({ name: options.group });

  const env = `AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_REGION=us-east-1 AWS_ENDPOINT_URL_CHIME_SDK_VOICE=${emu.url}`;
  const lines = [
    `Chime SDK Voice emulator listening on ${emu.url} (seed ${options.seed})`,
    `Seeded ${options.numbers.length} phone number(s)${group ? `; group '${group.Name}' has id ${group.VoiceConnectorGroupId}` : ''}`,
    '',
    'Try:',
    `  AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x aws chime-sdk-voice list-phone-numbers --endpoint-url ${emu.url} --region us-east-1`,
    ...(group
      ? [`  AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x aws chime-sdk-voice get-voice-connector-group --voice-connector-group-id ${group.VoiceConnectorGroupId} --endpoint-url ${emu.url} --region us-east-1`]
      : []),
    `  curl ${emu.url}${CONTROL_PREFIX}/bindings`,
    `SDK clients (and the handler) follow: export ${env}`,
    'Ctrl-C to stop.',
  ];
  process.stdout.write(`${lines.join('\n')}\n`);

  const stop = (signal: string) => {
    process.stdout.write(`${signal}: stopping emulator\n`);
    emu.close().then(() => process.exit(0), (err: unknown) => {
      process.stderr.write(`${String(err)}\n`);
      process.exit(1);
    });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
