import {
  ChimeSDKVoiceClient,
  GetPhoneNumberCommand,
  ListPhoneNumbersCommand,
  NotFoundException,
  PhoneNumberAssociationName,
  type PhoneNumber,
} from '@aws-sdk/client-chime-sdk-voice';
import type { Readings, ReadPlan } from './plan';
import type { Owner } from './record';
import { normalizeE164 } from '../../src/binding-properties';
import { abortAt } from '../shared/client';
import { mapWithConcurrency } from '../shared/pool';

/** The largest page ListPhoneNumbers serves. */
export const LIST_PAGE_SIZE = 100;

/**
 * GetPhoneNumber calls in flight, at least. A read changes nothing, so the reads of a plan go out in
 * rounds of this many instead of queueing behind the write concurrency. Under a rate limit the client's
 * limiter paces them like any other call.
 */
export const READS_IN_FLIGHT = 10;

/** Runs the reads a plan needs: numbers one by one, groups listed page by page (the groups in parallel). */
export async function read(client: ChimeSDKVoiceClient, plan: ReadPlan, concurrency: number, hardEnd: number): Promise<Readings> {
  const groups = new Map<string, ReadonlySet<string>>();
  const missingGroups = new Set<string>();
  const [owners] = await Promise.all([
    lookupOwners(client, plan.numbers, concurrency, hardEnd),
    Promise.all(plan.groups.map(async (groupId) => {
      const listed = await listGroup(client, groupId, hardEnd);
      if (listed) groups.set(groupId, listed); else missingGroups.add(groupId);
    })),
  ]);
  return { owners, groups, missingGroups };
}

/** The numbers bound to a group, or undefined when the group does not exist. */
export async function listGroup(client: ChimeSDKVoiceClient, groupId: string, hardEnd: number): Promise<Set<string> | undefined> {
  const bound = new Set<string>();
  let nextToken: string | undefined;
  do {
    let page;
    try {
      page = await client.send(new ListPhoneNumbersCommand({
        FilterName: 'VoiceConnectorGroupId', FilterValue: groupId, MaxResults: LIST_PAGE_SIZE, NextToken: nextToken,
      }), { abortSignal: abortAt(hardEnd) });
    } catch (error) {
      if (error instanceof NotFoundException) return undefined;
      throw error;
    }
    for (const number of page.PhoneNumbers ?? []) {
      const e164 = e164Of(number);
      const owner = ownerOf(number);
      if (e164 && owner?.kind === 'group' && owner.id === groupId) bound.add(e164);
    }
    nextToken = page.NextToken;
  } while (nextToken);
  return bound;
}

/** The owner of each number: an owner, or null when it is unbound or not in the inventory. */
export async function lookupOwners(
  client: ChimeSDKVoiceClient, numbers: readonly string[], concurrency: number, hardEnd: number,
): Promise<Map<string, Owner | null>> {
  const owners = new Map<string, Owner | null>();
  await mapWithConcurrency(numbers, Math.max(concurrency, READS_IN_FLIGHT), async (number) => {
    try {
      const { PhoneNumber: found } = await client.send(new GetPhoneNumberCommand({ PhoneNumberId: number }), { abortSignal: abortAt(hardEnd) });
      owners.set(number, (found && ownerOf(found)) ?? null);
    } catch (error) {
      if (!(error instanceof NotFoundException)) throw error;
      owners.set(number, null);
    }
  });
  return owners;
}

function e164Of(number: PhoneNumber): string | undefined {
  const raw = number.E164PhoneNumber ?? number.PhoneNumberId;
  return raw ? normalizeE164(raw) : undefined;
}

export function ownerOf(number: PhoneNumber): Owner | undefined {
  for (const association of number.Associations ?? []) {
    if (!association.Value) continue;
    if (association.Name === PhoneNumberAssociationName.VoiceConnectorGroupId) return { kind: 'group', id: association.Value };
    if (association.Name === PhoneNumberAssociationName.VoiceConnectorId) return { kind: 'voiceConnector', id: association.Value };
  }
  return undefined;
}
