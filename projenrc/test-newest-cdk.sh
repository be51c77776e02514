#!/usr/bin/env bash
# Runs the construct, security (cdk-nag 2 and 3) and synth tests against the newest aws-cdk-lib on the npm
# registry. It works in a scratch copy of the repository, so the repository's own lockfile, which pins the
# floor this library supports (the aws-cdk-lib devDependency), stays as it is.
# Needs: a built tree (assets/ from `npx projen bundle`), node_modules from `npm ci`, and the npm registry.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
scratch="$(mktemp -d)"
trap 'rm -rf "$scratch"' EXIT

cd "$root"
tar --exclude=./.git --exclude=./lib --exclude=./dist --exclude=./coverage --exclude=./test-reports \
  --exclude='./test/cdk-integ.out.*' --exclude='./cdk.out' -cf - . | tar -xf - -C "$scratch"
cd "$scratch"

# The newest of each: aws-cdk-lib, constructs, cdk-nag 2 (as cdk-nag) and cdk-nag 3 (as cdk-nag-v3).
# integ-tests-alpha pins the floor aws-cdk-lib exactly, and none of these suites uses it.
npm install --no-save --no-audit --no-fund --legacy-peer-deps \
  aws-cdk-lib@latest constructs@latest cdk-nag@2 cdk-nag-v3@npm:cdk-nag@3 >/dev/null
node -e '
const v = (m) => require(`${m}/package.json`).version;
console.log(`aws-cdk-lib ${v("aws-cdk-lib")}, constructs ${v("constructs")}, cdk-nag ${v("cdk-nag")}, cdk-nag-v3 ${v("cdk-nag-v3")}`);
'

# --testPathIgnorePatterns replaces the default one, which keeps test/newest-cdk/ out of the floor run.
suites=(test/construct.test.ts test/drift-construct.test.ts test/security.test.ts test/runtimes.test.ts
  test/voice-connector-group.test.ts test/voice-connector-group-example.test.ts test/newest-cdk/
  test/bindings.test.ts test/local-deploy/driver.test.ts test/e2e/lifecycle.test.ts test/e2e/refactor.test.ts test/cli/)
if [ "$#" -gt 0 ]; then suites=("$@"); fi
npx jest --ci --coverage=false "${suites[@]}" --testPathIgnorePatterns=/node_modules/
