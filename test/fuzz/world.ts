/**
 * The world a fuzzed sequence runs in: one local Chime SDK Voice emulator, a freshly seeded account per
 * sequence, the local CloudFormation deploy driver, and the REAL bundled handler (in Lambda-like child
 * processes) talking to the emulator on 127.0.0.1. Nothing here reaches AWS.
 */
import { App, CfnParameter, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { VoiceConnectorGroupPhoneNumbers } from '../../src';
import { BINDING_RESOURCE_TYPE } from '../../src/binding-properties';
import { Binding, Emulator, startEmulator } from '../../tools/emulator';
import { CfnTemplate, DeployOptions, LocalDeployDriver, OperationResult } from '../../tools/local-deploy';
import { emulatorEnv, phone, SeededAccount, seedAccount } from '../support/account';
import { HandlerContainers } from '../support/handler-containers';

export const STACK_NAME = 'FuzzTelephony';

/** Constructs a sequence may declare at once. */
export const CONSTRUCTS = 3;

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
  /** Construct id, and the path of its parent under the stack ('' for the stack itself). */
  readonly id: string;
  readonly parent: string;
  readonly group: string;
  /** Whether the group id reaches the construct through a token (a CfnParameter) rather than literally. */
  readonly viaToken: boolean;
  /** Sorted. */
  readonly numbers: readonly string[];
  readonly forceAssociate: boolean;
  readonly retain: boolean;
}

export type Decls = readonly Decl[];

const synthCache = new Map<string, CfnTemplate>();

/**
 * Synthesizes a real CDK app with the declared constructs (memoised: the same declarations always give
 * the same template, and a synth costs tens of ms).
 */
export function synth(decls: Decls): CfnTemplate {
  const key = JSON.stringify(decls);
  const cached = synthCache.get(key);
  if (cached) return cached;
  const app = new App();
  const stack = new Stack(app, STACK_NAME);
  const parameters = new Map<string, string>();
  const parents = new Map<string, Construct>();
  for (const decl of decls) {
    let groupId = decl.group;
    if (decl.viaToken) {
      const name = `Group${[...new Set(decls.filter((d) => d.viaToken).map((d) => d.group))].sort().indexOf(decl.group)}`;
      if (!parameters.has(name)) parameters.set(name, new CfnParameter(stack, name, { type: 'String', default: decl.group }).valueAsString);
      groupId = parameters.get(name)!;
    }
    const parent = decl.parent ? (parents.get(decl.parent) ?? new Construct(stack, decl.parent)) : stack;
    if (decl.parent) parents.set(decl.parent, parent);
    new VoiceConnectorGroupPhoneNumbers(parent, decl.id, {
      voiceConnectorGroupId: groupId,
      phoneNumbers: [...decl.numbers],
      forceAssociate: decl.forceAssociate,
      removalPolicy: decl.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    });
  }
  const template = app.synth({ skipValidation: true }).getStackByName(STACK_NAME).template as CfnTemplate;
  if (synthCache.size > 5_000) synthCache.clear();
  synthCache.set(key, template);
  return template;
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
    void this.driver?.close();
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
    return this.driver.deploy({ stackName: STACK_NAME, template: synth(decls) }, options);
  }

  public destroy(options: DeployOptions): Promise<OperationResult> {
    return this.driver.destroy(STACK_NAME, options);
  }

  public async close(): Promise<void> {
    await this.containers.shutdown();
    await this.driver?.close();
    await this.emu.close();
  }
}
