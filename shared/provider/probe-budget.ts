/**
 * A speaker probe is a few seconds of audio: it answers fast or not at all,
 * and a voice it cannot settle has a fallback, so it gets a short timeout and
 * few attempts rather than a segment's budget.
 */
export const PROBE_BUDGET = { timeoutMs: 30_000, maxAttempts: 3 } as const;
