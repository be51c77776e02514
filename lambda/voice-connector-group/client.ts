import { deployTimeClient } from '../client';

let callDeadline = Number.POSITIVE_INFINITY;

/** Sets the time (epoch ms) after which the group client stops retrying. Called once per invocation. */
export function setGroupCallDeadline(epochMs: number): void {
  callDeadline = epochMs;
}

/**
 * One client per Lambda container, with the same deploy-time retry policy as the number handler: a
 * throttled or failing service is retried with backoff until the invocation's deadline, not 3 times.
 * Region and endpoint come from the SDK's default chain (AWS_REGION, AWS_ENDPOINT_URL_CHIME_SDK_VOICE).
 */
export const groupClient = deployTimeClient(() => callDeadline);
