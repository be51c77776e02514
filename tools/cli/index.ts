#!/usr/bin/env node
/**
 * `cdk-chime-vcg`: the package's command line, for platform teams taking the library on.
 *
 *   plan          what the next deploy of a synthesized app would do to its bindings (read-only)
 *   import        stack code that declares what is bound to a group today
 *   emulator      the local Chime SDK Voice emulator
 *   local-deploy  plays a synthesized app's bindings through CloudFormation's lifecycle, on this machine
 *
 * Bundled at build time into assets/cli/cdk-chime-vcg.js (the package's `bin`).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { all, helpHint, one, parameters, parseFlags, UsageError } from './args';
import { loadAssembly, selectStacks } from './assembly';
import { chimeClient, describeAwsError, regionOf } from './aws';
import { EMULATOR_USAGE, emulatorCommand } from './emulator';
import { readGroups, render, type Language } from './import';
import { LOCAL_DEPLOY_USAGE, localDeployCommand, readState } from './local-deploy';
import { cloudFormationSource, formatPlan, localStateSource, mergePlans, plan, planExitCode, type PlanResult } from './plan';
import { awsReaders, describeStackParameters } from '../../lambda/shared/control-plane';
import { DRIVER_STATE_VERSION } from '../local-deploy/driver';

const PLAN_USAGE = 'usage: cdk-chime-vcg plan --app <cdk.out> [--stack NAME]... [--json] [--parameter Name=Value]... [--local-state FILE]';
const IMPORT_USAGE = 'usage: cdk-chime-vcg import (--group <id>... | --all) [--language typescript|python] [--construct-id ID] [--stack-class NAME]';

export const HELP = `cdk-chime-vcg: phone-number bindings to Amazon Chime SDK Voice Connector groups, for CDK apps

Commands:
  plan          What the next deploy of a synthesized app would do to its bindings: numbers to bind,
                unbind, move or take, numbers it would refuse and why, and numbers bound to a declared
                group that nothing declares. Reads only. Exit 0: the deploy would succeed; 1: it would
                fail; 2: bad input; 3: some values are tokens the plan cannot resolve (named in the output);
                4 (every command): an AWS call failed on the way, such as throttling.
                ${PLAN_USAGE.replace('usage: ', '')}
  import        Prints stack code that declares exactly what is bound to a group today; deploying it
                adopts the bindings without a write.
                ${IMPORT_USAGE.replace('usage: ', '')}
  emulator      Serves the local Chime SDK Voice emulator on 127.0.0.1.
                ${EMULATOR_USAGE.replace(/usage: /g, '')}
  local-deploy  Deploys (or destroys) a synthesized app's bindings through CloudFormation's lifecycle on
                this machine, against the emulator, and prints the bindings after each stack.
                ${LOCAL_DEPLOY_USAGE.replace('usage: ', '')}

AWS access: the default credentials and region (AWS_PROFILE, AWS_REGION, ...), and
AWS_ENDPOINT_URL_CHIME_SDK_VOICE / AWS_ENDPOINT_URL_CLOUDFORMATION when set. plan and import only read.
`;

async function planCommand(argv: readonly string[], out: (text: string) => void): Promise<number> {
  const parsed = parseFlags(argv, {
    'app': { value: true }, 'stack': { value: true, repeat: true }, 'json': {}, 'parameter': { value: true, repeat: true }, 'local-state': { value: true },
  }, PLAN_USAGE);
  const app = one(parsed, 'app');
  const assembly = loadAssembly(app);
  const named = all(parsed, 'stack');
  const selected = selectStacks(assembly, named, app!);
  // Every stack of the app is read, so that a move from an unselected stack is recognised.
  const stacks = assembly;
  const statePath = one(parsed, 'local-state');
  let source;
  if (statePath !== undefined) {
    // No file yet: nothing has been deployed locally, so every stack is planned as a first deploy.
    source = localStateSource(readState(statePath) ?? { version: DRIVER_STATE_VERSION, stacks: [], executions: [] });
  }
  const parameterValues = parameters(parsed, PLAN_USAGE);
  // Named stacks are shown even with nothing to plan; otherwise only stacks with bindings, new or deployed.
  const only = named.length > 0 ? new Set(selected.map((st) => st.stackName)) : undefined;
  // Numbers, groups and stacks are regional: each region's stacks are planned with a client of their own.
  const defaultClient = chimeClient();
  let configured: string | undefined;
  try {
    configured = await regionOf(defaultClient);
  } catch (error) {
    if (stacks.some((st) => st.region === undefined)) throw error;
  } finally {
    defaultClient.destroy();
  }
  const regions = [...new Set(stacks.map((st) => st.region ?? configured!))].sort();
  const results: PlanResult[] = [];
  for (const region of regions) {
    const client = chimeClient({ region });
    try {
      let regionSource = source;
      if (!regionSource) {
        const env = { ...process.env, AWS_REGION: region };
        const readers = awsReaders(env);
        regionSource = cloudFormationSource({
          describe: (stack) => describeStackParameters(env, stack),
          getTemplate: (stack) => readers.getTemplate(stack),
          physicalIdOf: (stack, logicalId) => readers.physicalIdOf(stack, logicalId),
        });
      }
      const inRegion = stacks.filter((st) => (st.region ?? configured) === region);
      results.push(await plan(inRegion, { client, region, source: regionSource, parameters: parameterValues, only }));
    } finally {
      client.destroy();
    }
  }
  const result = mergePlans(results);
  out(parsed.switches.has('json') ? `${JSON.stringify({ ...result, exitCode: planExitCode(result) }, null, 2)}\n` : formatPlan(result));
  return planExitCode(result);
}

async function importCommand(argv: readonly string[], out: (text: string) => void): Promise<number> {
  const parsed = parseFlags(argv, {
    'group': { value: true, repeat: true }, 'all': {}, 'language': { value: true }, 'construct-id': { value: true }, 'stack-class': { value: true },
  }, IMPORT_USAGE);
  const language = (one(parsed, 'language') ?? 'typescript') as Language;
  if (language !== 'typescript' && language !== 'python') throw new UsageError(`--language must be typescript or python; got '${language}'; ${helpHint(IMPORT_USAGE)}`);
  const client = chimeClient();
  try {
    const region = await regionOf(client);
    const groups = await readGroups(client, { groupIds: all(parsed, 'group'), all: parsed.switches.has('all'), constructId: one(parsed, 'construct-id'), region });
    out(render(groups, language, region, one(parsed, 'stack-class')));
    return 0;
  } finally {
    client.destroy();
  }
}

/** One command's part of HELP: its description and usage. */
const COMMAND_HELP: Record<string, string> = Object.fromEntries(
  ['plan', 'import', 'emulator', 'local-deploy'].map((name) => {
    const start = HELP.indexOf(`\n  ${name.padEnd(14)}`);
    const next = HELP.slice(start + 1).search(/\n {2}[a-z][a-z-]* +[A-Z]|\n\n/);
    return [name, `cdk-chime-vcg ${HELP.slice(start + 3, next < 0 ? undefined : start + 1 + next).trim()}\n`];
  }),
);

const COMMANDS: Record<string, (argv: readonly string[], out: (text: string) => void) => Promise<number>> = {
  'plan': planCommand,
  'import': importCommand,
  'emulator': emulatorCommand,
  'local-deploy': localDeployCommand,
};

/** The package's version, from the package.json two directories up (from tools/cli and from assets/cli alike). */
function version(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export async function main(
  argv: readonly string[],
  out: (text: string) => void = (t) => process.stdout.write(t),
  err: (text: string) => void = (t) => process.stderr.write(t),
): Promise<number> {
  const [command, ...rest] = argv;
  if (command === '--help' || command === '-h' || command === 'help') {
    out(HELP);
    return 0;
  }
  if (command === undefined) {
    err(HELP);
    return 2;
  }
  if (command === '--version') {
    out(`${version()}\n`);
    return 0;
  }
  const run = COMMANDS[command];
  if (!run) throw new UsageError(`unknown command '${command}'; the commands are ${Object.keys(COMMANDS).join(', ')} (see --help)`);
  if (rest.includes('--help') || rest.includes('-h')) {
    out(COMMAND_HELP[command]);
    return 0;
  }
  return run(rest, out);
}

/**
 * The SDK warns, once per bundled copy, that its 2027 releases need Node.js 22. The SDK inside this package
 * is pinned, so the warning is not this command's user's to act on, and it buries one-line answers. The
 * SDK's own switch turns it off; a user who sets it keeps their value.
 */
function quietSdkNodeWarning(): void {
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
}

if (require.main === module) {
  quietSdkNodeWarning();
  main(process.argv.slice(2)).then((code) => {
    process.exitCode = code;
  }, (error: unknown) => {
    const known = error instanceof UsageError ? error.message : describeAwsError(error);
    process.stderr.write(`cdk-chime-vcg: ${known ?? (error instanceof Error ? `${error.name}: ${error.message}` : String(error))}\n`);
    // 2: the input or the setup is wrong; 4: something else went wrong on the way (throttling, a service error).
    process.exitCode = known !== undefined ? 2 : 4;
  });
}
