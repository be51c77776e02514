/**
 * The world a fuzzed sequence runs in: one local Chime SDK Voice emulator, a freshly seeded account per
 * sequence, the local CloudFormation deploy driver, and the REAL bundled handler (in Lambda-like child
 * processes) talking to the emulator on 127.0.0.1. Nothing here reaches AWS.
 */
import { App, CfnResource, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { VoiceConnectorGroupPhoneNumbers } from '../../src';
import { BINDING_RESOURCE_TYPE } from '../../src/binding-properties';
import { Binding, Emulator, startEmulator } from '../emulator';
import { CfnTemplate, DeployOptions, LocalDeployDriver, OperationResult } from '../local-deploy';
import { emulatorEnv, phone, SeededAccount, seedAccount } from '../support/account';
import { HandlerContainers } from '../support/handler-containers';

export const STACK_NAME = 'FuzzTelephony';

/** Construct ids a sequence may declare (in this order in the stack). */
export const CONSTRUCT_IDS = ['C1', 'C2', 'C3'] as const;
export type ConstructId = typeof CONSTRUCT_IDS[number];

/** The two groups the stack declares on. */
export const GROUP_NAMES = ['a', 'b'] as const;

/** Unbound numbers in the inventory that the stack declares from. */
export const POOL_SIZE = 5;

/** The seeded account; foreignOnA and spare must never change. */
export interface Account extends SeededAccount {
  /** In the inventory with product type SipMediaApplicationDialIn: declaring it fails with BadRequest. */
  readonly wrongProduct: string;
}

/** One `VoiceConnectorGroupPhoneNumbers` of the stack under test. */
export interface Decl {
  readonly group: string;
  /** Sorted. */
  readonly numbers: readonly string[];
  readonly forceAssociate: boolean;
  readonly retain: boolean;
}

export type Decls = Readonly<Partial<Record<ConstructId, Decl>>>;

export interface Synthesized {
  readonly template: CfnTemplate;
  /** Construct id -> logical id of its binding resource. */
  readonly logicalIds: Readonly<Partial<Record<ConstructId, string>>>;
}

const synthCache = new Map<string, Synthesized>();

/**
 * Synthesizes a real CDK app with the declared constructs (memoised: the same declarations always
 * give the same template, and a synth costs ~20 ms).
 */
export function synth(decls: Decls): Synthesized {
  const key = JSON.stringify(CONSTRUCT_IDS.map((id) => decls[id] ?? null));
  const cached = synthCache.get(key);
  if (cached) return cached;
  const app = new App();
  const stack = new Stack(app, STACK_NAME);
  const logicalIds: Partial<Record<ConstructId, string>> = {};
  for (const id of CONSTRUCT_IDS) {
    const decl = decls[id];
    if (!decl) continue;
    const construct = new VoiceConnectorGroupPhoneNumbers(stack, id, {
      voiceConnectorGroupId: decl.group,
      phoneNumbers: [...decl.numbers],
      forceAssociate: decl.forceAssociate,
      removalPolicy: decl.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
    const cfn = construct.node.findChild('Resource').node.defaultChild as CfnResource;
    logicalIds[id] = stack.resolve(cfn.logicalId) as string;
  }
  const template = app.synth({ skipValidation: true }).getStackByName(STACK_NAME).template as CfnTemplate;
  const result = { template, logicalIds };
  if (synthCache.size > 5_000) synthCache.clear();
  synthCache.set(key, result);
  return result;
}

export class World {
  public static async start(seed = 1, containers = new HandlerContainers({ echo: process.env.FUZZ_HANDLER_LOGS === '1' })): Promise<World> {
    return new World(await startEmulator({ seed }), containers);
  }

  public driver!: LocalDeployDriver;
  public account!: Account;
  private constructor(public readonly emu: Emulator, public readonly containers: HandlerContainers) {}

  public get env(): Record<string, string> {
    return emulatorEnv(this.emu);
  }

  /** A fresh account (same ids every time), the fault PRNG reseeded, and a new driver (no stacks). */
  public reset(faultSeed: number): Account {
    const { control } = this.emu;
    control.reset();
    control.reseed(faultSeed);
    const wrongProduct = phone(104);
    this.account = { ...seedAccount(control, POOL_SIZE, [{ number: wrongProduct, productType: 'SipMediaApplicationDialIn' }]), wrongProduct };
    this.driver = new LocalDeployDriver({
      handlers: { [BINDING_RESOURCE_TYPE]: this.containers.handler },
      env: this.env,
      // Far below the function's 10 minutes: a hung handler shows up quickly.
      timeoutMs: 30_000,
    });
    return this.account;
  }

  public bindings(): Record<string, Binding | null> {
    return this.emu.control.getBindings();
  }

  public deploy(decls: Decls, options: DeployOptions): Promise<OperationResult> {
    return this.driver.deploy({ stackName: STACK_NAME, template: synth(decls).template }, options);
  }

  public destroy(options: DeployOptions): Promise<OperationResult> {
    return this.driver.destroy(STACK_NAME, options);
  }

  public async close(): Promise<void> {
    await this.containers.shutdown();
    await this.emu.close();
  }
}
