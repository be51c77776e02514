import { createHash } from 'node:crypto';
import { canonicalJson } from '../../src/binding-properties';

/** Who held a number: a voice connector group or a voice connector. */
export type Owner =
  | { readonly kind: 'group'; readonly id: string }
  | { readonly kind: 'voiceConnector'; readonly id: string };

/**
 * What a number was before the event that changed it: unbound, or bound to an owner. Numbers an event
 * did not change have no entry, and a rollback leaves them alone.
 */
export type PriorState = { readonly kind: 'unbound' } | { readonly kind: 'owned'; readonly owner: Owner };

/**
 * What a rollback needs to put an event's changes back exactly, carried in the physical id the event
 * answers (CloudFormation hands it back on every later event of the resource, rollbacks included):
 * - `fingerprint`: of the declaration the record was written for; a record whose fingerprint does not
 *   match the properties a rollback undoes is stale (an older event's) and is not used;
 * - `from`: for an Update, the fingerprint of the properties it replaced ('' for a Create). Only the
 *   rollback Update that goes back to those properties undoes the record: an Update of this resource
 *   that goes anywhere else is a forward one (CloudFormation sent it before the rollback began);
 * - `prior`: for each declared number the event bound or moved, where it was before (an adopted number,
 *   already on its group, has no entry: a rollback leaves it there);
 * - `unbound`: each number the event unbound, with the group it was on.
 */
export interface RollbackRecord {
  readonly shard: number;
  readonly fingerprint: string;
  readonly from: string;
  readonly prior: ReadonlyMap<string, PriorState>;
  readonly unbound: ReadonlyMap<string, string>;
}

/** CloudFormation's limit on a physical resource id. */
export const PHYSICAL_ID_MAX_BYTES = 1024;
const PREFIX = 'vcgpn2';

/**
 * The fingerprint of the properties an event set (all of them but the ServiceToken). The physical id of a
 * shard always carries the record of its latest Create or Update (every Update answers a new one, with an
 * empty record when it changed nothing), so a rollback finds the record of the event it rolls back exactly
 * when the properties it reverts from have this fingerprint. The resource whose own update failed keeps
 * the id of an earlier event, whose properties differed: its record is not used.
 */
export function fingerprint(properties: Record<string, unknown>): string {
  const { ServiceToken: _token, ...rest } = properties;
  return createHash('sha256').update(canonicalJson(rest)).digest('base64url').slice(0, 12);
}

/**
 * The physical id of a shard's binding resource with its record:
 * `vcgpn2/<shard>/<fingerprint>.<from>/<codes>/<unbound>/<owners>`, where
 * - `codes` walks the declared numbers in sorted order as runs of one code and a count (`n` untouched or
 *   adopted, `u` was unbound, a letter `A`-`Z` was on that owner of the table): `n300u5A2`;
 * - `unbound` lists, per owner, the unbound numbers as base-36 digits then base-36 deltas: `A.8d0fw1k.1.1`;
 * - `owners` is the table, `g<id>` or `v<id>`, comma-separated.
 * It throws, naming the limit, when the id would pass CloudFormation's 1 KB; the caller checks this
 * before its first write.
 */
export function encodePhysicalId(record: RollbackRecord, declared: readonly string[]): string {
  const owners: string[] = [];
  const ownerIndex = (owner: Owner) => {
    const key = `${owner.kind === 'group' ? 'g' : 'v'}${owner.id}`;
    let index = owners.indexOf(key);
    if (index < 0) {
      index = owners.push(key) - 1;
      if (index >= OWNER_CODES.length) throw new RecordTooLargeError(`${OWNER_CODES.length} different previous owners`);
    }
    return OWNER_CODES[index];
  };
  const codes: string[] = [];
  for (const number of [...declared].sort()) {
    const prior = record.prior.get(number);
    codes.push(!prior ? 'n' : prior.kind === 'unbound' ? 'u' : ownerIndex(prior.owner));
  }
  const byOwner = new Map<string, string[]>();
  for (const [number, groupId] of [...record.unbound].sort(([a], [b]) => (a < b ? -1 : 1))) {
    const code = ownerIndex({ kind: 'group', id: groupId });
    byOwner.set(code, [...(byOwner.get(code) ?? []), number]);
  }
  const unbound = [...byOwner].map(([code, numbers]) => [code, ...deltas(numbers)].join('.')).join('_');
  const id = [PREFIX, record.shard, `${record.fingerprint}.${record.from}`, runs(codes), unbound, owners.join(',')].join('/');
  if (Buffer.byteLength(id, 'utf8') > PHYSICAL_ID_MAX_BYTES) throw new RecordTooLargeError(`${Buffer.byteLength(id, 'utf8')} bytes`);
  return id;
}

/** The record in a physical id, given the declaration it was written for; undefined for any other id. */
export function decodePhysicalId(physicalId: string, declared: readonly string[]): RollbackRecord | undefined {
  const parts = physicalId.split('/');
  if (parts.length !== 6 || parts[0] !== PREFIX) return undefined;
  const [, shardText, fingerprints, codeRuns, unboundText, ownerText] = parts;
  const [fp, from = ''] = fingerprints.split('.');
  const owners: Owner[] = ownerText === '' ? [] : ownerText.split(',').map((o) => ({ kind: o[0] === 'g' ? 'group' : 'voiceConnector', id: o.slice(1) }) as Owner);
  const ownerOf = (code: string): Owner | undefined => owners[OWNER_CODES.indexOf(code)];
  const codes = expand(codeRuns);
  const sorted = [...declared].sort();
  const prior = new Map<string, PriorState>();
  if (codes.length === sorted.length) {
    sorted.forEach((number, i) => {
      const code = codes[i];
      if (code === 'u') prior.set(number, { kind: 'unbound' });
      else if (code !== 'n' && ownerOf(code)) prior.set(number, { kind: 'owned', owner: ownerOf(code)! });
    });
  }
  const unbound = new Map<string, string>();
  for (const part of unboundText === '' ? [] : unboundText.split('_')) {
    const [code, ...encoded] = part.split('.');
    const owner = ownerOf(code);
    if (owner?.kind !== 'group') continue;
    for (const number of undeltas(encoded)) unbound.set(number, owner.id);
  }
  return { shard: Number(shardText), fingerprint: fp, from, prior, unbound };
}

/** Whether a physical id is one this handler writes (rather than one CloudFormation made up). */
export function isRecordId(physicalId: string): boolean {
  return physicalId.startsWith(`${PREFIX}/`);
}

/** The fingerprint a physical id was written for, if it is one of ours. */
export function fingerprintOf(physicalId: string): string | undefined {
  const parts = physicalId.split('/');
  return parts.length === 6 && parts[0] === PREFIX ? parts[2].split('.')[0] : undefined;
}

export class RecordTooLargeError extends Error {
  constructor(readonly what: string) {
    super(what);
    this.name = 'RecordTooLargeError';
  }
}

const OWNER_CODES = 'ABCDEFGHIJKLMOPQRSTVWXYZ'; // no N or U: those are codes of their own (in either case)

function runs(codes: readonly string[]): string {
  let out = '';
  for (let i = 0; i < codes.length;) {
    let j = i;
    while (j < codes.length && codes[j] === codes[i]) j++;
    out += `${codes[i]}${j - i === 1 ? '' : j - i}`;
    i = j;
  }
  return out;
}

function expand(text: string): string[] {
  const codes: string[] = [];
  for (const match of text.matchAll(/([A-Za-z])(\d*)/g)) {
    const count = match[2] === '' ? 1 : Number(match[2]);
    for (let i = 0; i < count; i++) codes.push(match[1]);
  }
  return codes;
}

/** Sorted E.164 numbers as base-36 digits, then base-36 gaps: numbers of one block cost a character or two each. */
function deltas(numbers: readonly string[]): string[] {
  const values = numbers.map((n) => Number(n.slice(1)));
  return values.map((v, i) => (i === 0 ? v : v - values[i - 1]).toString(36));
}

function undeltas(encoded: readonly string[]): string[] {
  let value = 0;
  return encoded.map((text, i) => {
    value = i === 0 ? parseInt(text, 36) : value + parseInt(text, 36);
    return `+${value}`;
  });
}
