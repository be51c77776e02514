import {
  ChimeSDKVoiceClient,
  GetPhoneNumberCommand,
  ListPhoneNumbersCommand,
  NotFoundException,
  PhoneNumberAssociationName,
  type PhoneNumber,
} from '@aws-sdk/client-chime-sdk-voice';
import type { GroupObservation, Observations, Owner, ReadRequest } from './plan';
import { mapWithConcurrency } from './pool';
import { normalizeE164 } from '../src/binding-properties';

/** The largest page ListPhoneNumbers serves. */
export const LIST_PAGE_SIZE = 100;

/**
 * Reads the current bindings the plan needs, with as few calls as possible: one paged listing of the
 * group costs ceil(bound / 100) calls, one GetPhoneNumber per number costs one call each, so an update
 * touching a handful of numbers on a large group reads just those numbers.
 */
export async function observeGroups(
  client: ChimeSDKVoiceClient,
  reads: readonly ReadRequest[],
  concurrency: number,
  onPage?: PageListener,
): Promise<Observations> {
  const observations = new Map<string, GroupObservation>();
  for (const request of reads) {
    observations.set(
      request.groupId,
      listsGroup(request)
        ? await listGroup(client, request.groupId, onPage)
        : await readNumbers(client, request.groupId, [...request.numbers], concurrency),
    );
  }
  return observations;
}

/** Whether a read lists the whole group (rather than reading its numbers one by one). */
function listsGroup(request: ReadRequest): boolean {
  return request.numbers.size > Math.ceil(request.declaredCount / LIST_PAGE_SIZE);
}

/**
 * Told about each page of a group listing as it arrives: the numbers on that page bound to the group.
 * Lets a caller start work on the first numbers while the rest of the group is still being listed.
 */
export type PageListener = (groupId: string, bound: ReadonlySet<string>) => void;

async function listGroup(client: ChimeSDKVoiceClient, groupId: string, onPage?: PageListener): Promise<GroupObservation> {
  const bound = new Set<string>();
  let nextToken: string | undefined;
  do {
    let page;
    try {
      page = await client.send(new ListPhoneNumbersCommand({
        FilterName: 'VoiceConnectorGroupId',
        FilterValue: groupId,
        MaxResults: LIST_PAGE_SIZE,
        NextToken: nextToken,
      }));
    } catch (error) {
      if (error instanceof NotFoundException) {
        return { exists: false, bound };
      }
      throw error;
    }
    const onThisPage = new Set<string>();
    for (const number of page.PhoneNumbers ?? []) {
      const e164 = e164Of(number);
      if (e164 && ownerOf(number)?.id === groupId) {
        onThisPage.add(e164);
        bound.add(e164);
      }
    }
    onPage?.(groupId, onThisPage);
    nextToken = page.NextToken;
  } while (nextToken);
  return { exists: true, bound };
}

async function readNumbers(client: ChimeSDKVoiceClient, groupId: string, numbers: string[], concurrency: number): Promise<GroupObservation> {
  const owners = await lookupOwners(client, numbers, concurrency);
  const bound = new Set(numbers.filter((n) => {
    const owner = owners.get(n);
    return owner?.kind === 'group' && owner.id === groupId;
  }));
  // Per-number reads cannot tell whether the group exists; an association call to a missing group
  // answers NotFoundException, which the executor reports with the group's id.
  return { exists: true, bound };
}

/**
 * GetPhoneNumber calls in flight, at least. Per-number reads are only chosen when they number at most
 * one per hundred declared numbers, and a read changes nothing, so the usual update's reads can all go
 * out in one round instead of queueing behind the write concurrency. Under a rate limit the client's
 * limiter paces them like any other call.
 */
export const READS_IN_FLIGHT = 10;

/** Current owner of each number; absent from the map when the number is unbound or not in the inventory. */
export async function lookupOwners(client: ChimeSDKVoiceClient, numbers: readonly string[], concurrency: number): Promise<Map<string, Owner>> {
  const owners = new Map<string, Owner>();
  await mapWithConcurrency(numbers, Math.max(concurrency, READS_IN_FLIGHT), async (number) => {
    try {
      const { PhoneNumber: found } = await client.send(new GetPhoneNumberCommand({ PhoneNumberId: number }));
      const owner = found && ownerOf(found);
      if (owner) owners.set(number, owner);
    } catch (error) {
      if (!(error instanceof NotFoundException)) throw error;
    }
  });
  return owners;
}

function e164Of(number: PhoneNumber): string | undefined {
  const raw = number.E164PhoneNumber ?? number.PhoneNumberId;
  return raw ? normalizeE164(raw) : undefined;
}

function ownerOf(number: PhoneNumber): Owner | undefined {
  for (const association of number.Associations ?? []) {
    if (!association.Value) continue;
    if (association.Name === PhoneNumberAssociationName.VoiceConnectorGroupId) return { kind: 'group', id: association.Value };
    if (association.Name === PhoneNumberAssociationName.VoiceConnectorId) return { kind: 'voiceConnector', id: association.Value };
  }
  return undefined;
}
