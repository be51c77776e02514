/**
 * `npx projen demo`: the library's main job, end to end, on this machine. Synthesizes the example app,
 * starts the local Chime SDK Voice emulator, and deploys, updates and destroys the app through the real
 * bundled handler, printing the bindings and the API calls after each step. Exits non-zero if any
 * step's end state is not what the app declares.
 */
import { demoApp } from './app';
import { startEmulator, type Emulator } from '../../tools/emulator';
import { LIBRARY_HANDLERS, LocalDeployDriver, synthApp, type OperationResult } from '../../tools/local-deploy';

const INVENTORY = Array.from({ length: 8 }, (_, i) => `+1206555010${i}`);
const FOREIGN_ON_GROUP = '+12065550150';
const ON_OTHER_GROUP = '+12065550160';

interface Step {
  readonly title: string;
  readonly support?: string[];
  readonly sales?: string[];
}

const STEPS: readonly Step[] = [
  { title: 'deploy (Create)', support: [INVENTORY[0], INVENTORY[1], INVENTORY[2]], sales: [INVENTORY[3], INVENTORY[4]] },
  { title: 'change (Update: +0105 and +0106 added, +0102 removed)', support: [INVENTORY[0], INVENTORY[1], INVENTORY[5]], sales: [INVENTORY[3], INVENTORY[4], INVENTORY[6]] },
  { title: 'destroy (Delete)' },
];

async function main(): Promise<number> {
  const started = Date.now();
  const emu = await startEmulator({ seed: 1 });
  try {
    emu.control.seedNumbers([...INVENTORY, FOREIGN_ON_GROUP, ON_OTHER_GROUP]);
    const group = emu.control.createGroup({ name: 'demo-support' }).VoiceConnectorGroupId!;
    const other = emu.control.createGroup({ name: 'someone-elses' }).VoiceConnectorGroupId!;
    // Bound by hand before the app exists: the library must never touch them.
    emu.control.bind(FOREIGN_ON_GROUP, 'VoiceConnectorGroupId', group);
    emu.control.bind(ON_OTHER_GROUP, 'VoiceConnectorGroupId', other);

    console.log(`Chime SDK Voice emulator at ${emu.url}; group ${group} (demo-support), ${other} (someone-elses)`);
    console.log(`${FOREIGN_ON_GROUP} was bound to demo-support by hand, ${ON_OTHER_GROUP} to someone-elses: neither is declared.\n`);

    const driver = new LocalDeployDriver({
      handlers: LIBRARY_HANDLERS,
      env: {
        AWS_ENDPOINT_URL_CHIME_SDK_VOICE: emu.url,
        AWS_ACCESS_KEY_ID: 'demo',
        AWS_SECRET_ACCESS_KEY: 'demo',
        LOG_LEVEL: 'WARN',
      },
    });

    let failures = 0;
    for (const step of STEPS) {
      emu.control.clearCalls();
      let result: OperationResult;
      const declared = new Set([...(step.support ?? []), ...(step.sales ?? [])]);
      if (step.support && step.sales) {
        const { app } = demoApp({ voiceConnectorGroupId: group, supportNumbers: step.support, salesNumbers: step.sales });
        const [stack] = synthApp(app);
        result = await driver.deploy(stack);
      } else {
        result = await driver.destroy('Telephony');
      }
      console.log(`== ${step.title}: ${result.status}${result.failure ? ` (${result.failure})` : ''}`);
      printBindings(emu, group, other);
      printCalls(emu);
      const problems = checkEndState(emu, group, other, declared);
      if (result.failure) problems.push(result.failure);
      for (const problem of problems) console.log(`   WRONG: ${problem}`);
      failures += problems.length;
      console.log('');
    }
    console.log(failures === 0
      ? `Every step ended in the declared state (${((Date.now() - started) / 1000).toFixed(1)} s).`
      : `${failures} problem(s) found.`);
    return failures === 0 ? 0 : 1;
  } finally {
    await emu.close();
  }
}

function printBindings(emu: Emulator, group: string, other: string): void {
  const names = new Map([[group, 'demo-support'], [other, 'someone-elses']]);
  const bindings = emu.control.getBindings();
  console.log('   number         bound to');
  for (const [number, binding] of Object.entries(bindings).sort()) {
    console.log(`   ${number.padEnd(14)} ${binding ? names.get(binding.value) ?? binding.value : '-'}`);
  }
}

function printCalls(emu: Emulator): void {
  const counts = new Map<string, number>();
  for (const call of emu.calls) counts.set(call.operation, (counts.get(call.operation) ?? 0) + 1);
  const summary = [...counts].map(([operation, count]) => `${operation} x${count}`).join(', ');
  console.log(`   API calls: ${summary || 'none'}`);
}

function checkEndState(emu: Emulator, group: string, other: string, declared: ReadonlySet<string>): string[] {
  const problems: string[] = [];
  const bindings = emu.control.getBindings();
  for (const number of INVENTORY) {
    const onGroup = bindings[number]?.value === group;
    if (declared.has(number) && !onGroup) problems.push(`${number} is declared but not bound to the group`);
    if (!declared.has(number) && bindings[number]) problems.push(`${number} is not declared but is bound to ${bindings[number]!.value}`);
  }
  if (bindings[FOREIGN_ON_GROUP]?.value !== group) problems.push(`${FOREIGN_ON_GROUP} (bound by hand) was touched`);
  if (bindings[ON_OTHER_GROUP]?.value !== other) problems.push(`${ON_OTHER_GROUP} (another group's) was touched`);
  return problems;
}

main().then((code) => process.exit(code), (error) => {
  console.error(error);
  process.exit(1);
});
