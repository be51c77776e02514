/**
 * A small command-line parser: `--flag value`, `--flag=value`, repeatable flags and switches. Every
 * mistake is a `UsageError` naming the flag and the command's usage line.
 */

/** Input the command cannot run with: one line to stderr, exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Where a usage mistake sends the user: `usage` is a command's usage line (`usage: cdk-chime-vcg plan ...`). */
export function helpHint(usage: string): string {
  return `see \`cdk-chime-vcg ${usage.split(' ')[2]} --help\``;
}

export interface FlagSpec {
  /** Takes a value (`--app cdk.out`); otherwise a switch (`--json`). */
  readonly value?: boolean;
  /** May be given more than once (`--stack A --stack B`). */
  readonly repeat?: boolean;
}

export interface Parsed {
  readonly values: ReadonlyMap<string, readonly string[]>;
  readonly switches: ReadonlySet<string>;
}

export function parseFlags(argv: readonly string[], spec: Readonly<Record<string, FlagSpec>>, usage: string): Parsed {
  const values = new Map<string, string[]>();
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}'; ${helpHint(usage)}`);
    const eq = arg.indexOf('=');
    const name = (eq > 0 ? arg.slice(2, eq) : arg.slice(2));
    const flag = spec[name];
    if (!flag) throw new UsageError(`unknown option --${name}; ${helpHint(usage)}`);
    if (!flag.value) {
      if (eq > 0) throw new UsageError(`--${name} takes no value; ${helpHint(usage)}`);
      switches.add(name);
      continue;
    }
    const value = eq > 0 ? arg.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value; ${helpHint(usage)}`);
    const given = values.get(name) ?? [];
    if (given.length > 0 && !flag.repeat) throw new UsageError(`--${name} may be given once; ${helpHint(usage)}`);
    given.push(value);
    values.set(name, given);
  }
  return { values, switches };
}

export function one(parsed: Parsed, name: string): string | undefined {
  return parsed.values.get(name)?.[0];
}

export function all(parsed: Parsed, name: string): string[] {
  return [...(parsed.values.get(name) ?? [])];
}

/** A comma-separated list flag, possibly repeated: `--bind a,b --bind c`. */
export function list(parsed: Parsed, name: string): string[] {
  return all(parsed, name).flatMap((v) => v.split(',')).map((v) => v.trim()).filter((v) => v.length > 0);
}

export function integer(parsed: Parsed, name: string, fallback: number, usage: string): number {
  const raw = one(parsed, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError(`--${name} must be an integer from 0 to 65535; got '${raw}'; ${helpHint(usage)}`);
  return n;
}

/** `--parameter Name=Value`, repeatable. */
export function parameters(parsed: Parsed, usage: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const raw of all(parsed, 'parameter')) {
    const eq = raw.indexOf('=');
    if (eq <= 0) throw new UsageError(`--parameter takes Name=Value; got '${raw}'; ${helpHint(usage)}`);
    out[raw.slice(0, eq)] = raw.slice(eq + 1);
  }
  return out;
}
