import type { JobRecord } from "../../shared/adapters/job-store.js";
import { keys } from "../../shared/adapters/object-store.js";
import { DEFAULT_JOB_OPTIONS, type JobOptions } from "../../shared/domain/options/options.js";
import type { CutSegment, SegmentResult, Word } from "../../shared/domain/types.js";
import type { SegmentMessage } from "../../shared/pipeline/messages.js";

/** Records, messages and results as the steps hand them to each other, for the steps' unit tests. */

export const JOB_ID = "0123456789abcdef01234567";
export const CREATED_AT = "2026-01-01T00:00:00.000Z";

/** Options of a job without speakers to settle (diarize off), unless overridden. */
export function jobOptions(overrides: Partial<JobOptions> = {}): JobOptions {
  return { ...DEFAULT_JOB_OPTIONS, chunkSeconds: 60, diarize: false, ...overrides };
}

/** A job the chunker has cut into `segmentCount` segments (RUNNING, none done), unless overridden. */
export function jobRecord(overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    jobId: JOB_ID,
    status: "RUNNING",
    source: { bucket: "stt-input", key: "calls/call.mp3", etag: "abc" },
    options: { ...jobOptions() },
    createdAt: CREATED_AT,
    updatedAt: CREATED_AT,
    chunkedAt: CREATED_AT,
    duration: 120,
    segmentCount: 2,
    ...overrides,
  };
}

/** `count` segments of `ownSeconds` each, with `overlapSeconds` shared across each cut (half on each side). */
export function cutSegments(count: number, ownSeconds = 60, overlapSeconds = 4): CutSegment[] {
  const total = count * ownSeconds;
  return Array.from({ length: count }, (_, index) => ({
    index,
    start: Math.max(0, index * ownSeconds - overlapSeconds / 2),
    end: Math.min(total, (index + 1) * ownSeconds + overlapSeconds / 2),
    ownStart: index * ownSeconds,
    ownEnd: (index + 1) * ownSeconds,
  }));
}

export function segmentMessage(segment: CutSegment, jobId = JOB_ID): SegmentMessage {
  return { kind: "segment", jobId, audioKey: keys.segmentAudio(jobId, segment.index), segment };
}

/** A stored result whose words are `words` (segment-local times). */
export function segmentResult(segment: CutSegment, words: Word[], jobId = JOB_ID): SegmentResult {
  const text = words.map((w) => w.word).join(" ");
  return {
    jobId,
    index: segment.index,
    segment,
    language: "en",
    text,
    words,
    spans: words.length ? [{ start: words[0].start, end: words[words.length - 1].end, text }] : [],
    speakers: [...new Set(words.map((w) => w.speaker).filter((s): s is string => s !== undefined))],
    audioSeconds: segment.end - segment.start,
  };
}

/** A stored envelope (one signed dBFS byte per 10 ms): -20 dBFS where `loud(t)` holds, -90 elsewhere. */
export function envelopeOf(seconds: number, loud: (t: number) => boolean): Uint8Array {
  const frames = new Int8Array(Math.round(seconds * 100));
  for (let f = 0; f < frames.length; f++) frames[f] = loud(f / 100) ? -20 : -90;
  return new Uint8Array(frames.buffer);
}
