import type { CloudFormationCustomResourceEvent, Context } from 'aws-lambda';
import { groupClient } from './client';
import { onGroupEvent, type GroupResponse } from './reconcile';
import { parseGroupRequest } from './request';
import { createLogger } from '../shared/log';

/** Kept free at the very end for the response to reach the Provider framework. */
const RESPONSE_MARGIN_MS = 3_000;

/** Lambda entry point of the group handler: CloudFormation event -> one or two Chime SDK Voice calls. */
export async function handler(event: CloudFormationCustomResourceEvent, context?: Pick<Context, 'getRemainingTimeInMillis'>): Promise<GroupResponse> {
  const log = createLogger(process.env.LOG_LEVEL);
  const remaining = context?.getRemainingTimeInMillis?.() ?? 5 * 60_000;
  const client = groupClient(Date.now() + remaining - RESPONSE_MARGIN_MS);
  log.info('event', { requestType: event.RequestType, logicalId: event.LogicalResourceId, remainingMs: remaining });
  return onGroupEvent(parseGroupRequest(event), client, log);
}
