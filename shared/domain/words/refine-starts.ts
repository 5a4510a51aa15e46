import type { Word } from "../types.js";

export interface RefineOptions {
  /** Seconds per envelope frame. */
  frameSeconds: number;
  /** How far from the provider's start an onset may be to be trusted as the word's start. */
  searchSeconds?: number;
  /** Quiet needed before an onset for it to count as a word start, not a syllable. */
  minQuietSeconds?: number;
}

/** A frame is speech this far above the segment's noise floor. */
const SPEECH_ABOVE_FLOOR_DB = 15;

/**
 * Moves each word's start to the nearest clear speech onset in the audio
 * (quiet, then sound) within a small window. Providers' word times are off
 * by tens to hundreds of milliseconds (Whisper's are notoriously loose);
 * where a word starts after a pause the audio itself says exactly when.
 * Words in connected speech (no onset near) keep the provider's time, and
 * the order of words is never changed. Times are segment-local, as is the envelope.
 */
export function refineWordStarts(words: readonly Word[], envelopeDb: ArrayLike<number>, opts: RefineOptions): Word[] {
  const frame = opts.frameSeconds;
  const search = Math.round((opts.searchSeconds ?? 0.15) / frame);
  const quiet = Math.max(1, Math.round((opts.minQuietSeconds ?? 0.05) / frame));
  const threshold = noiseFloor(envelopeDb) + SPEECH_ABOVE_FLOOR_DB;
  const loud = (f: number) => f >= 0 && f < envelopeDb.length && envelopeDb[f] >= threshold;
  const isOnset = (f: number) => {
    if (!loud(f)) return false;
    for (let q = 1; q <= quiet; q++) if (f - q >= 0 && loud(f - q)) return false;
    return true;
  };

  const refined: Word[] = [];
  let previousStart = -Infinity;
  for (let i = 0; i < words.length; i++) {
    const w = words[i];
    const center = Math.round(w.start / frame);
    let best: number | undefined;
    for (let d = 0; d <= search && best === undefined; d++) {
      if (isOnset(center - d)) best = center - d;
      else if (isOnset(center + d)) best = center + d;
    }
    const nextStart = words[i + 1]?.start ?? Infinity;
    // An onset within a frame and a half of the provider's time is the same moment, measured coarser: keep the finer one.
    let start = best === undefined || Math.abs(best - w.start / frame) <= 1.5 ? w.start : best * frame;
    // Never reorder words nor jump past a neighbour: then the provider's time stands.
    if (start <= previousStart || start >= nextStart) start = w.start;
    refined.push(start === w.start ? w : { ...w, start, end: Math.max(w.end, start) });
    previousStart = start;
  }
  return refined;
}

/**
 * Seconds of the envelope that are clearly sound (well above the segment's own
 * floor). A provider answering nothing for a segment with seconds of sound has
 * most likely failed, not heard silence.
 */
export function loudSeconds(envelopeDb: ArrayLike<number>, frameSeconds: number): number {
  const threshold = Math.max(noiseFloor(envelopeDb) + SPEECH_ABOVE_FLOOR_DB, ABSOLUTE_QUIET_DB);
  let loud = 0;
  for (let f = 0; f < envelopeDb.length; f++) if (envelopeDb[f] >= threshold) loud++;
  return loud * frameSeconds;
}

/** Below this a frame is quiet whatever the floor: a segment of near-silence has no "loud" part. */
const ABSOLUTE_QUIET_DB = -45;

/** The level of the quietest tenth of the frames: the room, not the voices. */
function noiseFloor(envelopeDb: ArrayLike<number>): number {
  const values = Array.from(envelopeDb, (v) => (Number.isFinite(v) ? v : -120)).sort((a, b) => a - b);
  return values.length ? values[Math.floor(values.length * 0.1)] : -120;
}
