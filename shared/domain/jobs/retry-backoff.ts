/**
 * How long a message that failed for a retryable reason waits before its next try: doubling with each
 * receive, capped, with jitter so the messages of one provider outage do not all come back at once.
 */
export interface RetryBackoff {
  firstSeconds: number;
  maxSeconds: number;
}

/** Share of the delay added at random, at most. */
const JITTER = 0.2;

/** The delay after the `receiveCount`-th receive failed (1 = the first try); `random` in [0, 1). */
export function retryDelaySeconds(receiveCount: number, backoff: RetryBackoff, random: number): number {
  const tries = Math.max(1, Math.floor(receiveCount));
  const base = Math.min(backoff.maxSeconds, backoff.firstSeconds * 2 ** (tries - 1));
  // SQS takes whole seconds, at most 12 hours.
  return Math.min(43_200, Math.round(base * (1 + JITTER * random)));
}
