/**
 * Runs every row of the bad-input catalogue (catalogue.ts) and checks the message the code produces is
 * exactly the one recorded in messages.json, and that docs/bad-inputs.md is rendered from both.
 * BAD_INPUTS_UPDATE=1 rewrites messages.json and docs/bad-inputs.md from what the code produces now.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CATALOGUE, renderDoc } from './catalogue';
import { World } from '../fuzz/world';
import { HandlerContainers } from '../support/handler-containers';

const MESSAGES_FILE = path.join(__dirname, 'messages.json');
const DOC_FILE = path.join(__dirname, '..', '..', 'docs', 'bad-inputs.md');
const UPDATE = process.env.BAD_INPUTS_UPDATE === '1';

const recorded: Record<string, string> = fs.existsSync(MESSAGES_FILE) ? JSON.parse(fs.readFileSync(MESSAGES_FILE, 'utf8')) : {};
const produced: Record<string, string> = {};

let world: World;
beforeAll(async () => {
  world = await World.start(1, new HandlerContainers({ collect: true }));
});
afterAll(async () => {
  await world.close();
  if (UPDATE) {
    fs.writeFileSync(MESSAGES_FILE, `${JSON.stringify(produced, null, 2)}\n`);
    fs.mkdirSync(path.dirname(DOC_FILE), { recursive: true });
    fs.writeFileSync(DOC_FILE, renderDoc(produced));
  }
});

test('every row has a unique id', () => {
  expect(new Set(CATALOGUE.map((c) => c.id)).size).toBe(CATALOGUE.length);
});

describe.each(CATALOGUE.map((c, i) => [`${i + 1}. ${c.id} (${c.caughtAt})`, c] as const))('%s', (_name, row) => {
  test('produces the recorded message', async () => {
    const message = await row.run(world);
    produced[row.id] = message;
    if (!UPDATE) expect(message).toBe(recorded[row.id]);
  }, 60_000);
});

test('docs/bad-inputs.md is rendered from the catalogue and the recorded messages', () => {
  if (UPDATE) return;
  expect(Object.keys(recorded).sort()).toEqual(CATALOGUE.map((c) => c.id).sort());
  expect(fs.readFileSync(DOC_FILE, 'utf8')).toBe(renderDoc(recorded));
});
