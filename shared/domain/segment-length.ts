/**
 * How long the segments of a job are when its options leave the length to
 * the pipeline (chunk-seconds "auto", the default): about two waves of
 * segments at the provider cap (the transcriber's concurrency), between 60 s
 * and 120 s. Quality is the same from 20 s to 600 s segments (BENCHMARKS.md),
 * so the length only trades the number of waves against per-segment overhead
 * (overlap audio, requests): a 1-hour file at a cap of 32 gets 60 s
 * segments, a 4-hour file 120 s ones.
 */
export const AUTO_SEGMENT = {
  /** Shorter segments pay more overlap audio and more requests (4 s of overlap is 7 % at 60 s). */
  minSeconds: 60,
  /** The fixed default before: longer requests are slower to retry and come back later. */
  maxSeconds: 120,
  /** Waves of segments the length aims at. */
  waves: 2,
} as const;

export interface AutoSegmentInput {
  /** The recording's duration from ffprobe; absent (or not a positive number) for streams that do not state one. */
  durationSeconds?: number;
  /** Segments transcribed at once: the transcriber's concurrency, the provider cap. */
  cap: number;
  /** The configured segment length, used when the duration is unknown. */
  fallbackSeconds: number;
}

/** clamp(duration / (waves * cap), 60, 120), in whole seconds (rounded up); the fallback without a duration. */
export function autoSegmentSeconds({ durationSeconds, cap, fallbackSeconds }: AutoSegmentInput): number {
  if (durationSeconds === undefined || !Number.isFinite(durationSeconds) || durationSeconds <= 0) return fallbackSeconds;
  const inFlight = Number.isFinite(cap) && cap >= 1 ? Math.floor(cap) : 1;
  const even = Math.ceil(durationSeconds / (AUTO_SEGMENT.waves * inFlight));
  return Math.min(AUTO_SEGMENT.maxSeconds, Math.max(AUTO_SEGMENT.minSeconds, even));
}

/** The segment length of a job: its own when the options give one, else the automatic one. */
export function segmentSeconds(chunkSeconds: number | "auto", input: AutoSegmentInput): number {
  return chunkSeconds === "auto" ? autoSegmentSeconds(input) : chunkSeconds;
}
