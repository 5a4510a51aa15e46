import type { SegmentResult } from "../types.js";
import type { SpeakerBook } from "../speakers/speaker-book.js";

/**
 * What one job sent to the speech-to-text provider, in the units providers bill: seconds of audio, and
 * requests. The rules:
 * - one logical request counts once: the attempts the provider client retried inside one call (429, 5xx,
 *   timeouts) are not counted again;
 * - the figures are read from what the steps stored under fixed keys (one result per segment; the speaker
 *   book of the last settled prefix, which carries the probes of every step before it and of the early
 *   votes they read), summed once when the job completes. So they do not depend on how often a message was
 *   delivered, and a request redone because its step died before storing what it got is counted once, as
 *   the stored result says;
 * - a probe clip counts when it reached the provider, answered or not.
 *
 * Two more figures, which `audioSecondsBilled` does not include (its meaning stays "each logical request once"):
 * - `overlapSeconds`: the part of `segmentSeconds` that is overlap, the context sent around each segment's own
 *   stretch (a segment's request minus its own stretch); `segmentSeconds - overlapSeconds` is the recording;
 * - `retrySeconds`: audio sent again, which a provider may bill twice: a segment request repeated because the
 *   step that sent it died after the provider answered (its result was not stored), and every provider
 *   attempt that failed without an HTTP answer (a timeout or a dropped connection: the audio was sent, the
 *   provider may have transcribed it). Attempts the provider answered with an error (429, 5xx) are not
 *   counted: providers do not bill refused requests. The queue handlers add these as they happen, per
 *   invocation (pipeline/invocation-meter.ts), so the figure is what the record held when the job completed.
 */
export interface JobBilling {
  /** Segment requests: one per segment, each the segment's audio with its overlap. */
  segmentSeconds: number;
  segmentRequests: number;
  /** Speaker probe requests: early votes and settling steps (domain/speakers/). */
  probeSeconds: number;
  probeRequests: number;
  /** The overlap within segmentSeconds. Absent on jobs completed before it was kept. */
  overlapSeconds?: number;
  /** Audio sent again (see above); not in audioSecondsBilled. Absent on jobs completed before it was kept. */
  retrySeconds?: number;
  /**
   * Segments asked again because their language was not among the job's `language-options`
   * (domain/languages/language-options.ts): their seconds and requests are in segmentSeconds and
   * segmentRequests (the provider bills them) and repeated here. Absent when there were none.
   */
  languageRetrySeconds?: number;
  languageRetryRequests?: number;
}

export interface JobCost {
  /** segmentSeconds + probeSeconds: every second of audio the provider was sent for the job. */
  audioSecondsBilled: number;
  billing: JobBilling;
}

/** Milliseconds are finer than any provider bills, and keep the stored figures free of float noise. */
const round3 = (seconds: number) => Math.round(seconds * 1000) / 1000;

/**
 * Sums a finished job's provider use: the segment requests from their stored results, the probes from the
 * speaker book that settled the last segment (absent for jobs that settle no speakers: no probes).
 */
export function jobCost(
  results: ReadonlyArray<Pick<SegmentResult, "segment" | "audioSeconds" | "languageRetry">>,
  book?: Pick<SpeakerBook, "probes">,
  retrySeconds?: number,
): JobCost {
  let segmentSeconds = 0;
  let overlapSeconds = 0;
  let languageRetrySeconds = 0;
  let languageRetryRequests = 0;
  for (const result of results) {
    const sent = result.audioSeconds ?? result.segment.end - result.segment.start;
    segmentSeconds += sent;
    overlapSeconds += Math.max(0, sent - (result.segment.ownEnd - result.segment.ownStart));
    if (result.languageRetry) {
      languageRetrySeconds += result.languageRetry.audioSeconds;
      languageRetryRequests += 1;
    }
  }
  segmentSeconds += languageRetrySeconds;
  const billing: JobBilling = {
    segmentSeconds: round3(segmentSeconds),
    segmentRequests: results.length + languageRetryRequests,
    probeSeconds: round3(book?.probes.seconds ?? 0),
    probeRequests: book?.probes.requests ?? 0,
    overlapSeconds: round3(overlapSeconds),
    ...(retrySeconds !== undefined ? { retrySeconds: round3(retrySeconds) } : {}),
    ...(languageRetryRequests > 0 ? { languageRetrySeconds: round3(languageRetrySeconds), languageRetryRequests } : {}),
  };
  return { audioSecondsBilled: round3(billing.segmentSeconds + billing.probeSeconds), billing };
}
