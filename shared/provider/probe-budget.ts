/**
 * A speaker probe is a few seconds of audio: it answers fast or not at all,
 * and a voice it cannot settle has a fallback, so it gets a short timeout and
 * few attempts rather than a segment's budget: an early vote and one round of
 * a settling step, both failing, stay well inside the transcriber's timeout.
 */
export const PROBE_BUDGET = { timeoutMs: 20_000, maxAttempts: 2 } as const;
