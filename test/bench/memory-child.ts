/**
 * Child process of the memory measurement: deploys and destroys one synthesized stack (a JSON file,
 * argv[2]) through the local deploy driver and the real bundle, then prints its peak RSS as JSON.
 * The emulator runs in the parent; AWS_ENDPOINT_URL_CHIME_SDK_VOICE points at it.
 */
import * as fs from 'node:fs';
import { PEAK_RSS_KB_SOURCE } from './measure';
import { LIBRARY_HANDLERS, LocalDeployDriver, type StackTemplate } from '../../tools/local-deploy';

// eslint-disable-next-line no-eval
const peak = eval(PEAK_RSS_KB_SOURCE) as () => number;

async function main(): Promise<void> {
  const stack = JSON.parse(fs.readFileSync(process.argv[2], 'utf8')) as StackTemplate;
  const base = peak();
  const driver = new LocalDeployDriver({ handlers: LIBRARY_HANDLERS, env: { LOG_LEVEL: 'ERROR' } });
  const created = await driver.deploy(stack);
  const destroyed = await driver.destroy(stack.stackName);
  const status = created.failure ?? destroyed.failure ?? `${created.status}/${destroyed.status}`;
  process.stdout.write(`\n${JSON.stringify({ status, base, max: peak() })}\n`);
  process.exit(0); // the SDK's keep-alive sockets would hold the process open
}

main().catch((error) => {
  process.stdout.write(`\n${JSON.stringify({ status: String((error as Error).message), base: 0, max: peak() })}\n`);
  process.exit(1);
});
