import type { CutSegment } from "../types.js";
import { findQuietPoint } from "./quiet-point.js";
import { roundMicro } from "../words/round-time.js";

export interface CutOptions {
  /** Seconds per envelope frame (the hop), e.g. 0.01. */
  frameSeconds: number;
  /** Target length of each segment's own range. */
  chunkSeconds: number;
  /** Audio shared by two neighbours, centred on the cut. */
  overlapSeconds: number;
  /** How far before each target the cut may move to find a pause. Default min(0.25 * chunk, 15). */
  searchSeconds?: number;
  /** A last segment shorter than this is merged into the one before. Default min(0.25 * chunk, 10). */
  minSegmentSeconds?: number;
}

/** Width of the moving average that tells pauses from the dips between syllables. */
const SMOOTHING_SECONDS = 0.25;

/**
 * Plans where to cut a recording, given its energy envelope in dBFS per frame.
 * The same as feeding the whole envelope to a CutPlanner at once.
 */
export function planCuts(envelopeDb: Float32Array, opts: CutOptions): CutSegment[] {
  const planner = new CutPlanner(opts);
  return [...planner.push(envelopeDb), ...planner.finish()];
}

interface FrameGeometry {
  frameSeconds: number;
  chunk: number;
  search: number;
  minSegment: number;
  halfOverlap: number;
  halfWindow: number;
  overlapSeconds: number;
}

/**
 * Plans cuts while the envelope is still being decoded. A segment is returned as
 * soon as its extent is decided, which needs at most the frames up to its cut
 * plus `lookAheadSeconds`; older frames are let go, so memory stays bounded by
 * about one chunk whatever the recording's length.
 */
export class CutPlanner {
  private readonly g: FrameGeometry;
  private buffer = new Float32Array(0);
  /** Absolute frame index of buffer[0]. */
  private base = 0;
  private stored = 0;
  private total = 0;
  private previousCut = 0;
  private nextIndex = 0;
  private finished = false;

  constructor(opts: CutOptions) {
    this.g = frameGeometry(opts);
  }

  /** Frames beyond a cut needed before the segment ending there is decided. */
  get lookAheadSeconds(): number {
    const g = this.g;
    return (g.search + Math.max(g.halfWindow + 1, g.minSegment, g.halfOverlap)) * g.frameSeconds;
  }

  /** Envelope currently held, in seconds (for callers that watch memory). */
  get bufferedSeconds(): number {
    return this.stored * this.g.frameSeconds;
  }

  push(frames: Float32Array): CutSegment[] {
    if (this.finished) throw new Error("CutPlanner.push after finish");
    this.append(frames);
    return this.drain(false);
  }

  finish(): CutSegment[] {
    if (this.finished) throw new Error("CutPlanner.finish called twice");
    const decided = this.drain(true);
    this.finished = true;
    // An empty recording has nothing to transcribe, so it gets no segment.
    if (this.total === 0) return decided;
    return [...decided, this.segment(this.total, this.total)];
  }

  private drain(final: boolean): CutSegment[] {
    const g = this.g;
    const out: CutSegment[] = [];
    for (;;) {
      const target = this.previousCut + g.chunk;
      // The rest fits in one chunk: no cut, however long we wait, unless more frames come.
      if (this.total <= target) break;
      if (!final && this.total <= target + g.halfWindow) break;

      const cut = findQuietPoint((f) => this.buffer[f - this.base], {
        from: Math.max(this.previousCut + 1, target - g.search),
        to: target,
        target,
        halfWindow: g.halfWindow,
        available: this.total,
      });
      const tail = this.total - cut;
      if (!final && tail < Math.max(g.minSegment, g.halfOverlap)) break;
      if (final && tail < g.minSegment) break;

      out.push(this.segment(cut, this.total));
      this.previousCut = cut;
      this.dropBefore(cut + g.chunk - g.search - g.halfWindow);
    }
    return out;
  }

  private segment(cut: number, total: number): CutSegment {
    const g = this.g;
    const seconds = (frames: number) => roundMicro(frames * g.frameSeconds);
    const ownStart = seconds(this.previousCut);
    const ownEnd = seconds(cut);
    const duration = seconds(total);
    return {
      index: this.nextIndex++,
      start: roundMicro(Math.max(0, ownStart - g.overlapSeconds / 2)),
      end: roundMicro(Math.min(duration, ownEnd + g.overlapSeconds / 2)),
      ownStart,
      ownEnd,
    };
  }

  private append(frames: Float32Array): void {
    if (this.stored + frames.length > this.buffer.length) {
      const grown = new Float32Array(Math.max(2 * this.buffer.length, this.stored + frames.length, 1024));
      grown.set(this.buffer.subarray(0, this.stored));
      this.buffer = grown;
    }
    this.buffer.set(frames, this.stored);
    this.stored += frames.length;
    this.total += frames.length;
  }

  private dropBefore(frame: number): void {
    const drop = Math.min(this.stored, Math.max(0, frame - this.base));
    if (drop === 0) return;
    this.buffer.copyWithin(0, drop, this.stored);
    this.stored -= drop;
    this.base += drop;
  }
}

function frameGeometry(opts: CutOptions): FrameGeometry {
  const { frameSeconds, chunkSeconds, overlapSeconds } = opts;
  if (!(frameSeconds > 0)) throw new RangeError("frameSeconds must be > 0");
  if (!(chunkSeconds > 0)) throw new RangeError("chunkSeconds must be > 0");
  if (!(overlapSeconds >= 0) || overlapSeconds >= chunkSeconds) {
    throw new RangeError("overlapSeconds must be in [0, chunkSeconds)");
  }
  const searchSeconds = opts.searchSeconds ?? cutSearchSeconds(chunkSeconds);
  const minSegmentSeconds = opts.minSegmentSeconds ?? Math.min(0.25 * chunkSeconds, 10);
  const frames = (s: number) => Math.round(s / frameSeconds);
  const chunk = Math.max(1, frames(chunkSeconds));
  return {
    frameSeconds,
    overlapSeconds,
    chunk,
    // The search never reaches back to the previous cut, so every own range has length.
    search: Math.min(Math.max(0, frames(searchSeconds)), chunk - 1),
    minSegment: Math.max(0, frames(minSegmentSeconds)),
    halfOverlap: Math.ceil(overlapSeconds / 2 / frameSeconds),
    halfWindow: Math.max(1, Math.round(SMOOTHING_SECONDS / 2 / frameSeconds)),
  };
}

/** How far before its target a cut may land, looking for a quiet moment: a segment is up to this much shorter. */
export function cutSearchSeconds(chunkSeconds: number): number {
  return Math.min(SEARCH_SHARE * chunkSeconds, MAX_SEARCH_SECONDS);
}

/** The shortest chunk length whose segments are never shorter than `seconds`, wherever the cuts land. */
export function chunkForSegmentsOfAtLeast(seconds: number): number {
  const longSearch = MAX_SEARCH_SECONDS / SEARCH_SHARE;
  return seconds / (1 - SEARCH_SHARE) <= longSearch ? seconds / (1 - SEARCH_SHARE) : seconds + MAX_SEARCH_SECONDS;
}

const SEARCH_SHARE = 0.25;
const MAX_SEARCH_SECONDS = 15;
