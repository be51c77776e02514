/**
 * The packed package, as a user gets it: the tarball `npx projen build` writes to dist/js is installed into
 * a scratch CDK app, and its `cdk-chime-vcg` command is run from there against its own emulator. The
 * README's "Onboarding existing bindings" and "Testing your stacks locally" sections run exactly as
 * written. Run by `npx projen test:package`, which `build` runs after packing.
 */
import { execFileSync, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

const ROOT = path.join(__dirname, '..', '..');
const DIST = path.join(ROOT, 'dist', 'js');

jest.setTimeout(600_000);

let app: string;
let home: string;

/** Versions of the scratch app's dependencies: the ones this repository's lockfile installed (npm's cache has them). */
function installedVersion(name: string): string {
  return (JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules', name, 'package.json'), 'utf8')) as { version: string }).version;
}

/** A clean environment: no AWS settings of the machine running the tests leak in. */
function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('AWS_') && !key.startsWith('CDK_') && !key.startsWith('JEST') && key !== 'NODE_OPTIONS') env[key] = value;
  }
  return {
    ...env,
    // No ~/.aws of the machine, no instance metadata: credentials come only from what a test sets.
    AWS_CONFIG_FILE: path.join(home, 'aws-config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'aws-credentials'),
    AWS_EC2_METADATA_DISABLED: 'true',
    ...extra,
  };
}

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = cleanEnv()): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd: app, env, encoding: 'utf8', timeout: 300_000 });
}

function cli(args: readonly string[], extra: Record<string, string> = {}): SpawnSyncReturns<string> {
  return run('npx', ['--no-install', 'cdk-chime-vcg', ...args], cleanEnv(extra));
}

beforeAll(() => {
  const tarballs = fs.existsSync(DIST) ? fs.readdirSync(DIST).filter((f) => f.endsWith('.tgz')) : [];
  if (tarballs.length !== 1) {
    throw new Error(`expected one packed tarball in ${DIST}, found ${tarballs.length}: run \`npx projen build\` (or \`npx projen package\`) first`);
  }
  app = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-chime-vcg-app-'));
  home = fs.mkdtempSync(path.join(os.tmpdir(), 'cdk-chime-vcg-home-'));
  fs.writeFileSync(path.join(app, 'package.json'), JSON.stringify({ name: 'scratch-cdk-app', private: true }, null, 2));
  const deps = ['aws-cdk-lib', 'constructs', 'aws-cdk', 'typescript', 'ts-node', '@types/node'].map((name) => `${name}@${installedVersion(name)}`);
  execFileSync('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', path.join(DIST, tarballs[0]), ...deps], {
    cwd: app, stdio: 'pipe', timeout: 600_000,
  });
  // What `cdk init app --language typescript` writes: its tsconfig, from the CDK CLI just installed.
  fs.copyFileSync(path.join(app, 'node_modules', 'aws-cdk', 'lib', 'init-templates', 'app', 'typescript', 'tsconfig.json'), path.join(app, 'tsconfig.json'));
});

afterAll(() => {
  for (const port of [8123, 8124, 8125, 8126]) cli(['emulator', '--stop', '--port', String(port)]);
  if (app) fs.rmSync(app, { recursive: true, force: true });
  if (home) fs.rmSync(home, { recursive: true, force: true });
});

test('the package installs the command: --help lists every command', () => {
  const help = cli(['--help']);
  expect(help.status).toBe(0);
  for (const command of ['plan', 'import', 'emulator', 'local-deploy']) expect(help.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
  // The bin is the bundled file the package ships, not a path into a source tree.
  const bin = fs.realpathSync(path.join(app, 'node_modules', '.bin', 'cdk-chime-vcg'));
  expect(bin).toBe(path.join(fs.realpathSync(app), 'node_modules', 'cdk-chime-voice-connector-groups', 'assets', 'cli', 'cdk-chime-vcg.js'));
});

describe('bad input: one line on stderr and exit 2', () => {
  const emulatorEnv = { AWS_ENDPOINT_URL_CHIME_SDK_VOICE: 'http://127.0.0.1:8125', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' };

  beforeAll(() => {
    const started = cli(['emulator', '--background', '--port', '8125', '--group', 'only']);
    expect(started.status).toBe(0);
  });

  test.each([
    ['a cdk.out that does not exist', ['plan', '--app', 'no-such-cdk.out'], {}, /^cdk-chime-vcg: no cloud assembly at no-such-cdk\.out .*npx cdk synth/],
    ['a cdk.out that does not exist (local-deploy)', ['local-deploy', '--app', 'no-such-cdk.out'], {}, /^cdk-chime-vcg: no cloud assembly at no-such-cdk\.out/],
    ['a group id that does not exist', ['import', '--group', 'no-such-group'], emulatorEnv, /^cdk-chime-vcg: Voice Connector group 'no-such-group' does not exist in us-east-1/],
    ['missing credentials', ['import', '--all'], { AWS_ENDPOINT_URL_CHIME_SDK_VOICE: 'http://127.0.0.1:8125', AWS_REGION: 'us-east-1' }, /^cdk-chime-vcg: no AWS credentials found: set AWS_PROFILE/],
    ['missing region', ['import', '--all'], { AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' }, /^cdk-chime-vcg: no AWS region is configured: set AWS_REGION/],
    ['an unknown command', ['deploy'], {}, /^cdk-chime-vcg: unknown command 'deploy'/],
  ])('%s', (_title, args, env, message) => {
    const result = cli(args as string[], env as Record<string, string>);
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr.trim()).toMatch(message);
    expect(result.stdout).toBe('');
  });

  test('a stack that is not in the app', () => {
    fs.writeFileSync(path.join(app, 'bad-input.ts'), [
      "import { App, Stack } from 'aws-cdk-lib';",
      "import { VoiceConnectorGroup } from 'cdk-chime-voice-connector-groups';",
      'const app = new App();',
      "new VoiceConnectorGroup(new Stack(app, 'Present'), 'G', { name: 'g' });",
      '',
    ].join('\n'));
    const synth = run('npx', ['--no-install', 'cdk', 'synth', '--app', 'npx ts-node bad-input.ts', '--output', 'bad-input.out', '--quiet'], cleanEnv());
    expect({ status: synth.status, stderr: synth.status === 0 ? '' : synth.stderr }).toEqual({ status: 0, stderr: '' });
    const result = cli(['plan', '--app', 'bad-input.out', '--stack', 'Absent'], emulatorEnv);
    expect(result.status).toBe(2);
    expect(result.stderr.trim()).toBe("cdk-chime-vcg: stack 'Absent' is not in bad-input.out; its stacks are: Present");
  });

  test('an AWS error on the way is one line too, with exit 4, not the 2 of bad input', async () => {
    const faults = (forced: unknown) => fetch('http://127.0.0.1:8125/_emulator/faults', {
      method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ forcedErrors: { ListVoiceConnectorGroups: forced } }),
    });
    expect((await faults({ exception: 'UnprocessableEntityException', message: 'forced for the test' })).status).toBe(200);
    try {
      const result = cli(['import', '--all'], emulatorEnv);
      expect(result.stderr.trim()).toBe('cdk-chime-vcg: UnprocessableEntityException: forced for the test');
      expect(result.status).toBe(4);
    } finally {
      await faults(null);
    }
  });
});

test('import --language python prints code that Python parses, snippet and whole stack module alike', () => {
  const env = { AWS_ENDPOINT_URL_CHIME_SDK_VOICE: 'http://127.0.0.1:8126', AWS_REGION: 'us-east-1', AWS_ACCESS_KEY_ID: 'x', AWS_SECRET_ACCESS_KEY: 'x' };
  const started = cli(['emulator', '--background', '--port', '8126', '--group', 'py-group', '--bind', '+12065550300,+12065550301']);
  expect(started.stderr).toBe('');
  expect(started.status).toBe(0);
  for (const args of [['--all'], ['--all', '--stack-class', 'Imported']]) {
    const code = cli(['import', '--language', 'python', ...args], env);
    expect(code.status).toBe(0);
    expect(code.stdout).toContain('"+12065550300",');
    const parsed = spawnSync('python3', ['-c', 'import ast, sys; ast.parse(sys.stdin.read())'], { input: code.stdout, encoding: 'utf8' });
    expect({ status: parsed.status, stderr: parsed.stderr }).toEqual({ status: 0, stderr: '' });
  }
});

/** The ```bash blocks of one README section (from its `## ` heading to the next), joined. */
function sectionScript(title: string): string {
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf(`\n## ${title}\n`);
  expect(start).toBeGreaterThan(0);
  const end = readme.indexOf('\n## ', start + 1);
  const section = readme.slice(start, end < 0 ? undefined : end);
  const blocks = [...section.matchAll(/^```bash\n([\s\S]*?)^```$/gm)].map((m) => m[1]);
  expect(blocks.length).toBeGreaterThan(0);
  return blocks.join('\n');
}

function runSection(title: string): { status: number | null; out: string } {
  const script = `set -euo pipefail\n${sectionScript(title)}`;
  // The sections use fixed ports: one taken by something else would fail them for a reason of its own.
  for (const port of new Set([...script.matchAll(/--port (\d+)/g)].map((m) => m[1]))) {
    const probe = spawnSync('bash', ['-c', `exec 3<>/dev/tcp/127.0.0.1/${port}`], { encoding: 'utf8' });
    if (probe.status === 0) throw new Error(`port ${port}, which the README section "${title}" uses, is taken on this machine: free it first`);
  }
  const result = spawnSync('bash', ['-c', script], { cwd: app, env: cleanEnv(), encoding: 'utf8', timeout: 600_000 });
  return { status: result.status, out: `${result.stdout}\n--- stderr ---\n${result.stderr}` };
}

test('README: Onboarding existing bindings runs as written, imports, plans no change, and adopts without a write', () => {
  const { status, out } = runSection('Onboarding existing bindings');
  if (status !== 0) throw new Error(`the section's commands failed (exit ${status}):\n${out}`);
  // The imported code, as printed:
  expect(out).toContain('export class ImportedTelephony extends Stack {');
  expect(out).toMatch(/new VoiceConnectorGroupPhoneNumbers\(this, "SupportPhoneNumbers", \{\n\s+voiceConnectorGroupId: "[^"]+",\n\s+phoneNumbers: \[\n\s+"\+12065550100",\n\s+"\+12065550101",/);
  // The first plan adopts both numbers and changes nothing:
  expect(out).toMatch(/adopt +\+12065550100 /);
  expect(out).toMatch(/adopt +\+12065550101 /);
  expect(out).toContain('The deploy would succeed: no binding changes.');
  // The deploy, then a plan with nothing to do:
  expect(out).toContain('Telephony: deploy ended CREATE_COMPLETE');
  expect(out).toMatch(/group support \(\S+\): 2 number\(s\): \+12065550100 \+12065550101/);
  expect(out).toContain('2 unchanged');
  expect(out).toContain('emulator on port 8123 stopped');
});

test('README: Testing your stacks locally runs as written: create, update (planned first), destroy', () => {
  const { status, out } = runSection('Testing your stacks locally');
  if (status !== 0) throw new Error(`the section's commands failed (exit ${status}):\n${out}`);
  expect(out).toContain('LocalTelephony: deploy ended CREATE_COMPLETE');
  expect(out).toMatch(/group sales \(\S+\): 1 number\(s\): \+12065550200\n/);
  expect(out).toMatch(/bind +\+12065550201/);
  expect(out).toMatch(/bind +\+12065550202/);
  expect(out).toMatch(/unbind +\+12065550200 +no longer declared/);
  expect(out).toContain('LocalTelephony: deploy ended UPDATE_COMPLETE');
  expect(out).toMatch(/group sales \(\S+\): 2 number\(s\): \+12065550201 \+12065550202\n/);
  expect(out).toContain('LocalTelephony: destroy ended DELETE_COMPLETE');
  expect(out).toContain('emulator on port 8124 stopped');
});
