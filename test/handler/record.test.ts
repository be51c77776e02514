import { GROUP_A, GROUP_B, numbers, props, SHARD } from './fixtures';
import { decodePhysicalId, encodePhysicalId, fingerprint, isRecordId, PHYSICAL_ID_MAX_BYTES, RecordTooLargeError, type PriorState } from '../../lambda/phone-numbers/record';

describe('the rollback record in the physical id', () => {
  test('round-trips: where each changed number was, and the numbers unbound with their group', () => {
    const declared = numbers(30);
    const prior = new Map<string, PriorState>([
      [declared[0], { kind: 'unbound' }],
      [declared[1], { kind: 'owned', owner: { kind: 'group', id: GROUP_B } }],
      [declared[2], { kind: 'owned', owner: { kind: 'voiceConnector', id: 'vc-123' } }],
      [declared[7], { kind: 'unbound' }],
    ]);
    const unbound = new Map([[numbers(2, 40)[0], GROUP_A], [numbers(2, 40)[1], GROUP_B]]);
    const id = encodePhysicalId({ shard: SHARD, fingerprint: 'fp', from: 'was-fp', prior, unbound }, declared);
    expect(isRecordId(id)).toBe(true);
    const back = decodePhysicalId(id, declared)!;
    expect(back.shard).toBe(SHARD);
    expect(back.fingerprint).toBe('fp');
    expect(back.from).toBe('was-fp');
    expect(back.prior).toEqual(prior);
    expect(back.unbound).toEqual(unbound);
  });

  test('stays small for the usual cases: 1,000 numbers all bound fresh, or all adopted, take a few characters', () => {
    const declared = numbers(1000);
    const fresh = new Map(declared.map((n) => [n, { kind: 'unbound' } as PriorState]));
    expect(encodePhysicalId({ shard: SHARD, fingerprint: 'fp', from: '', prior: fresh, unbound: new Map() }, declared).length).toBeLessThan(40);
    expect(encodePhysicalId({ shard: SHARD, fingerprint: 'fp', from: '', prior: new Map(), unbound: new Map() }, declared).length).toBeLessThan(40);
  });

  test('past CloudFormation\'s 1 KB it throws, so the event can fail before its first write', () => {
    const declared = numbers(200);
    // Numbers taken from 30 different owners: more than the owner table can name.
    const prior = new Map(declared.slice(0, 30).map((n, i) => [n, { kind: 'owned', owner: { kind: 'voiceConnector', id: `vc-${i}` } } as PriorState]));
    expect(() => encodePhysicalId({ shard: SHARD, fingerprint: 'fp', from: '', prior, unbound: new Map() }, declared)).toThrow(RecordTooLargeError);
    // Hundreds of scattered unbound numbers pass the byte limit.
    const scattered = new Map(Array.from({ length: 400 }, (_, i) => [`+1${String(2_000_000_000 + i * 7_919_113)}`, GROUP_A]));
    expect(() => encodePhysicalId({ shard: SHARD, fingerprint: 'fp', from: '', prior: new Map(), unbound: scattered }, declared)).toThrow(RecordTooLargeError);
    expect(PHYSICAL_ID_MAX_BYTES).toBe(1024);
  });

  test('an id CloudFormation made up, or another format, is not a record', () => {
    expect(decodePhysicalId('Telephony-Shard05-ABC123', [])).toBeUndefined();
    expect(isRecordId('Telephony-Shard05-ABC123')).toBe(false);
  });

  test('the fingerprint is of the properties an event set, all but the ServiceToken', () => {
    const [n1, n2] = numbers(2);
    const a = props([{ numbers: [n1] }, { numbers: [n2], group: GROUP_B }]);
    expect(fingerprint({ ...a, ServiceToken: 'another' })).toBe(fingerprint(a));
    expect(fingerprint(props([{ numbers: [n1] }, { numbers: [n2], group: GROUP_B, force: true }]))).not.toBe(fingerprint(a));
    expect(fingerprint({ ...a, DeployNonce: 'x' })).not.toBe(fingerprint(a));
  });
});
