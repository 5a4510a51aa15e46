import { chunkForSegmentsOfAtLeast } from "./plan-cuts.js";

/**
 * How long the segments of a job are when its options leave the length to
 * the pipeline (chunk-seconds "auto", the default): one wave of segments at
 * the provider cap where that fits in 60-120 s segments, else 120 s. Quality
 * is the same from 20 s to 600 s segments (BENCHMARKS.md), so the length
 * trades waves against per-request cost: every wave pays the provider's base
 * latency again, and every segment brings overlap audio and speaker probes.
 * Measured on the 1-hour bench at a cap of 32: one wave of ~117 s segments
 * finished in 18.8 s, two waves of 60 s in 27.0 s. A 45-minute file gets
 * 103 s segments, an hour or more 120 s ones, short files 60 s.
 */
export const AUTO_SEGMENT = {
  /** Shorter segments pay more overlap audio and more requests (4 s of overlap is 7 % at 60 s). */
  minSeconds: 60,
  /** The fixed default before: longer requests are slower to retry and come back later. */
  maxSeconds: 120,
  /** Waves of segments the length aims at. */
  waves: 1,
} as const;

export interface AutoSegmentInput {
  /** The recording's duration from ffprobe; absent (or not a positive number) for streams that do not state one. */
  durationSeconds?: number;
  /** Segments transcribed at once: the transcriber's concurrency, the provider cap. */
  cap: number;
  /** The configured segment length, used when the duration is unknown. */
  fallbackSeconds: number;
}

/**
 * clamp(duration / (waves * cap - 1) + the cut search, 60, 120), in whole seconds (rounded up); the
 * fallback without a duration. Slack on both counts: a cut lands at the quietest moment up to the search
 * window before its target, so segments come out shorter than asked (117 s asked gave 34 segments for an
 * hour, 120 s gave 32), and one segment over the cap would be a whole wave of its own.
 */
export function autoSegmentSeconds({ durationSeconds, cap, fallbackSeconds }: AutoSegmentInput): number {
  if (durationSeconds === undefined || !Number.isFinite(durationSeconds) || durationSeconds <= 0) return fallbackSeconds;
  const inFlight = Number.isFinite(cap) && cap >= 1 ? Math.floor(cap) : 1;
  const even = durationSeconds / Math.max(1, AUTO_SEGMENT.waves * inFlight - 1);
  const asked = Math.ceil(chunkForSegmentsOfAtLeast(even));
  return Math.min(AUTO_SEGMENT.maxSeconds, Math.max(AUTO_SEGMENT.minSeconds, asked));
}

/** The segment length of a job: its own when the options give one, else the automatic one. */
export function segmentSeconds(chunkSeconds: number | "auto", input: AutoSegmentInput): number {
  return chunkSeconds === "auto" ? autoSegmentSeconds(input) : chunkSeconds;
}
