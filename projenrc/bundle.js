// Bundles the Lambda handlers (lambda/) into assets/, once, at build time: the assets ship in the npm
// package and users never run esbuild. Run by the `bundle` task (see .projenrc.ts) from the repository root.
// One esbuild run for the handlers, one entry point each, each bundled on its own; then one for the command line. It uses esbuild's JS API because
// its command line takes no plugins.
const fs = require('node:fs');
const esbuild = require('esbuild');

/** The handlers' client module, `@aws-sdk/client-chime-sdk-voice`'s schemas, that `literalSchemaKeys` rewrites. */
const SCHEMAS = /[\\/]@aws-sdk[\\/]client-chime-sdk-voice[\\/]dist-es[\\/]schemas[\\/]schemas_0\.js$/;

/**
 * The client's schemas module declares every operation of the service, and esbuild keeps them all: their
 * traits use computed keys (`{ [_h]: ... }` with `const _h = "http"`), which it cannot prove free of side
 * effects. Writing those keys as the string literals they name lets tree shaking drop the operations the
 * handlers never send (~30 KB of the bundle, all of it parsed and evaluated at module load). If a new SDK
 * release writes the module differently, the build fails here rather than quietly growing the bundle.
 */
const literalSchemaKeys = {
  name: 'literal-schema-keys',
  setup(build) {
    build.onLoad({ filter: SCHEMAS }, ({ path }) => {
      const code = fs.readFileSync(path, 'utf8');
      const names = new Map([...code.matchAll(/^const (_\w+) = ("[^"\n]*");$/gm)].map((m) => [m[1], m[2]]));
      let rewritten = 0;
      const contents = code.replace(/\[(_\w+)\]:/g, (key, name) => {
        if (!names.has(name)) return key;
        rewritten += 1;
        return `${names.get(name)}:`;
      });
      if (rewritten === 0) {
        throw new Error(`${path}: no computed schema keys found to rewrite; the SDK changed shape, update projenrc/bundle.js`);
      }
      return { loader: 'js', contents };
    });
  },
};

/** What every bundle here shares: one CommonJS file per entry point, minified, for Node.js. */
const common = {
  bundle: true,
  minify: true,
  platform: 'node',
  format: 'cjs',
  legalComments: 'none',
  // ESM entry points tree-shake far better than the SDK's CommonJS builds.
  mainFields: ['module', 'main'],
  // The SDK's ESM code loads node:http and node:async_hooks with import(); as require() the bundle
  // behaves the same in Lambda and also loads in test runners that forbid dynamic import.
  supported: { 'dynamic-import': false },
  outdir: 'assets',
  logLevel: 'info',
};

esbuild.build({
  ...common,
  entryPoints: {
    'phone-numbers-handler/index': 'lambda/phone-numbers/index.ts',
    'drift-check-handler/index': 'lambda/drift-check/index.ts',
    'voice-connector-group-handler/index': 'lambda/voice-connector-group/index.ts',
  },
  target: 'node22',
  // esbuild wraps every module reached by an import() in a lazy initialiser, and everything that module
  // imports too; through the SDK's credential chain and its event-stream support that was nearly the whole
  // SDK, which then also escaped tree shaking. Without those two import()s the bundle is ~120 KB smaller
  // and loads about a third faster:
  alias: {
    // - the credential chain is lambda/credentials.ts: the SDK's default chain without the links that read
    //   ~/.aws files or run other processes, which a Lambda function has no use for;
    '@aws-sdk/credential-provider-node': './lambda/shared/credentials.ts',
    // - Chime SDK Voice has no event-stream operations: the protocol's lazy event-stream support is a stub.
    '@smithy/core/event-streams': 'data:text/javascript,'
      + 'const e=()=>{throw new Error("event streams are not bundled: Chime SDK Voice has none")};'
      + 'export const eventStreamSerdeProvider=e;export class EventStreamSerde{constructor(){e()}}',
  },
  plugins: [literalSchemaKeys],
}).then(() => esbuild.build({
  ...common,
  // The `cdk-chime-vcg` command line (the package's `bin`), with the emulator and deploy driver it serves.
  // Unlike the handlers it runs on the user's machine, so it keeps the SDK's whole credential chain
  // (profiles, SSO, credential_process). aws-cdk-lib stays outside: only the test helpers use it.
  entryPoints: { 'cli/cdk-chime-vcg': 'tools/cli/index.ts' },
  target: 'node20',
  external: ['aws-cdk-lib', 'aws-cdk-lib/*', 'constructs'],
})).then(() => {
  const cli = 'assets/cli/cdk-chime-vcg.js';
  const code = fs.readFileSync(cli, 'utf8');
  if (/require\("aws-cdk-lib/.test(code)) throw new Error(`${cli} requires aws-cdk-lib; the command line must not load it`);
  fs.chmodSync(cli, 0o755);
}).catch((error) => {
  console.error(error);
  process.exit(1);
});
