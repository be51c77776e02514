import * as fs from 'fs';
import * as path from 'path';
import * as lambda from 'aws-cdk-lib/aws-lambda';

/** The handler bundles the build writes to `assets/`: beside `lib/` in the package, beside `src/` in the repository. */
export type HandlerAsset = 'phone-numbers-handler' | 'voice-connector-group-handler';

/** Code of a bundled handler, with a clear error when the bundle was never built. */
export function bundledHandlerCode(asset: HandlerAsset): lambda.Code {
  const directory = path.join(__dirname, '..', 'assets', asset);
  if (!fs.existsSync(path.join(directory, 'index.js'))) {
    throw new Error(
      `The bundled handler is missing at ${directory}. In a clone of the repository, run 'npx projen bundle' ` +
      '(or any build or test task); an installed package ships it, so reinstall cdk-chime-voice-connector-groups.',
    );
  }
  return lambda.Code.fromAsset(directory);
}
