/**
 * Finding the quietest moment in a stretch of an energy envelope, so a cut
 * falls in a pause between words rather than inside one.
 */

/** Energy below this is treated as equally silent; digital silence is -Infinity dBFS. */
export const SILENCE_FLOOR_DB = -100;

/**
 * How far above the quietest smoothed level a frame may be and still count as
 * part of the same pause. Room noise wanders by a few dB inside one pause; speech
 * is tens of dB louder.
 */
export const QUIET_TOLERANCE_DB = 4;

/** Reads one frame of the envelope by absolute frame index. */
export type FrameReader = (frame: number) => number;

export interface QuietSearch {
  /** First and last candidate frame (inclusive), absolute. */
  from: number;
  to: number;
  /** The frame we would cut at if the whole window were equally quiet. */
  target: number;
  /** Half-width of the moving average, in frames. */
  halfWindow: number;
  /** Frames [0, available) exist; the moving average is truncated there. */
  available: number;
}

export function clampDb(value: number): number {
  return Number.isFinite(value) ? Math.max(value, SILENCE_FLOOR_DB) : SILENCE_FLOOR_DB;
}

/**
 * The frame in the middle of the longest quiet run of the smoothed envelope
 * within [from, to]; ties go to the run nearest the target. Smoothing over a
 * fraction of a second makes the short dips inside and between words too
 * shallow to compete with a real pause.
 */
export function findQuietPoint(read: FrameReader, search: QuietSearch): number {
  const smoothed = smoothWindow(read, search);
  const quietest = smoothed.reduce((a, b) => Math.min(a, b), Infinity);
  const threshold = quietest + QUIET_TOLERANCE_DB;

  let best = { length: -1, centre: search.target };
  let runStart = -1;
  for (let i = 0; i <= smoothed.length; i++) {
    const quiet = i < smoothed.length && smoothed[i] <= threshold;
    if (quiet && runStart < 0) runStart = i;
    if (!quiet && runStart >= 0) {
      const length = i - runStart;
      const centre = search.from + Math.floor((runStart + i - 1) / 2);
      const nearer = Math.abs(centre - search.target) < Math.abs(best.centre - search.target);
      if (length > best.length || (length === best.length && nearer)) best = { length, centre };
      runStart = -1;
    }
  }
  return best.centre;
}

function smoothWindow(read: FrameReader, search: QuietSearch): number[] {
  const { from, to, halfWindow, available } = search;
  const lo = Math.max(0, from - halfWindow);
  const hi = Math.min(available, to + halfWindow + 1);
  const prefix = new Float64Array(hi - lo + 1);
  for (let f = lo; f < hi; f++) prefix[f - lo + 1] = prefix[f - lo] + clampDb(read(f));

  const smoothed: number[] = [];
  for (let f = from; f <= to; f++) {
    const a = Math.max(lo, f - halfWindow);
    const b = Math.min(hi, f + halfWindow + 1);
    smoothed.push((prefix[b - lo] - prefix[a - lo]) / (b - a));
  }
  return smoothed;
}
