/**
 * Where the HTTP upstream cuts an open utterance into pieces for live text.
 *
 * Each piece is sent to the provider once: its text is the next delta, and the utterance's completed text
 * is its pieces' texts in order, so every second of audio is billed once however long the utterance runs
 * (re-sending the utterance so far for each delta billed a 20 s turn ~14 times). The price is context: a
 * piece is heard without the audio around it, so cuts go where the speaker paused between words, and the
 * text already heard is passed as the request's prompt.
 */
import { findQuietPoint } from "../../shared/domain/quiet-point.js";
import { SAMPLE_RATE } from "../protocol.js";

export const FRAME_SAMPLES = SAMPLE_RATE / 50;
const FRAME_SECONDS = FRAME_SAMPLES / SAMPLE_RATE;

export interface PieceRules {
  /** No cut before a piece holds this much audio: shorter pieces give the model too little to hear. */
  minSeconds: number;
  /** A piece this long is cut at its quietest moment even without a pause: the longest wait for a delta. */
  maxSeconds: number;
}

export const DEFAULT_PIECE_RULES: PieceRules = { minSeconds: 1, maxSeconds: 1.5 };

/** Rules for a longest piece of `maxSeconds` (at least 1 s): cuts at pauses from two thirds of it on. */
export function pieceRules(maxSeconds: number): PieceRules {
  const max = Math.max(1, maxSeconds);
  return { minSeconds: (max * 2) / 3, maxSeconds: max };
}

/** A piece never ends closer than this to its start, whatever the pauses (a lone syllable is not a piece). */
const SHORTEST_PIECE_SECONDS = 0.5;
/** How far before minSeconds a pause may fall and still end the piece. */
const PAUSE_LOOKBACK_SECONDS = 0.25;
/** Frames this close to the newest audio are not cut at: a quiet frame there may be a word still starting. */
const GUARD_FRAMES = 6;
/** A pause between words is this far below the piece's speech level (its 90th-percentile frame)... */
const PAUSE_DEPTH_DB = 20;
/** ...for at least 120 ms: the closure of a stop consonant inside a word is shorter. */
const PAUSE_FRAMES = 6;
/** Speech in a piece: some frame within this much of the loudest speech heard in the utterance. */
const SPEECH_PRESENCE_DB = 25;
/** Without a pause, the quietest run is judged on a 100 ms moving average, so a dip inside a word competes less. */
const SMOOTHING_HALF_FRAMES = 2;

/** Level (dBFS) of each whole 20 ms frame of `pcm`. */
export function frameLevels(pcm: Int16Array): number[] {
  const levels: number[] = [];
  for (let at = 0; at + FRAME_SAMPLES <= pcm.length; at += FRAME_SAMPLES) {
    let sum = 0;
    for (let i = at; i < at + FRAME_SAMPLES; i++) sum += pcm[i] * pcm[i];
    levels.push(10 * Math.log10(sum / FRAME_SAMPLES / (32768 * 32768) + 1e-12));
  }
  return levels;
}

/**
 * The frame at which to end a piece whose audio so far has these frame levels, or undefined to wait for
 * more: the middle of the latest pause once the piece is `minSeconds` long, or its quietest moment once
 * it is `maxSeconds` long.
 */
export function pieceCut(levels: readonly number[], rules: PieceRules = DEFAULT_PIECE_RULES): number | undefined {
  const seconds = levels.length * FRAME_SECONDS;
  if (seconds < rules.minSeconds) return undefined;
  const from = Math.round(SHORTEST_PIECE_SECONDS / FRAME_SECONDS);
  const to = levels.length - 1 - GUARD_FRAMES;
  if (to < from) return undefined;
  // Pauses count from a little before minSeconds, so a piece is rarely a single word.
  const pauseFrom = Math.max(from, Math.round((rules.minSeconds - PAUSE_LOOKBACK_SECONDS) / FRAME_SECONDS));
  const pause = latestPause(levels, pauseFrom, percentile(levels, 0.9) - PAUSE_DEPTH_DB);
  if (pause !== undefined) return pause;
  if (seconds < rules.maxSeconds) return undefined;
  return findQuietPoint((frame) => levels[frame], { from, to, target: to, halfWindow: SMOOTHING_HALF_FRAMES, available: levels.length });
}

/**
 * The middle of the last pause whose middle is at or after `from`: at least PAUSE_FRAMES frames at or
 * below `threshold`, with speech after them. A quiet run still open at the newest audio may be a word's
 * fading tail as much as a pause, so it waits for the next word; shorter dips are the closures of stop
 * consonants inside words.
 */
function latestPause(levels: readonly number[], from: number, threshold: number): number | undefined {
  let frame = levels.length - 1;
  while (frame >= 0 && levels[frame] <= threshold) frame--;
  while (frame >= 0) {
    while (frame >= 0 && levels[frame] > threshold) frame--;
    const runEnd = frame;
    while (frame >= 0 && levels[frame] <= threshold) frame--;
    const middle = Math.floor((frame + 1 + runEnd) / 2);
    if (middle < from) return undefined;
    if (runEnd - frame >= PAUSE_FRAMES) return middle;
  }
  return undefined;
}

/** Whether a stretch holds speech, measured against the loudest level heard in its utterance. */
export function holdsSpeech(levels: readonly number[], utterancePeakDb: number): boolean {
  return levels.some((level) => level >= utterancePeakDb - SPEECH_PRESENCE_DB);
}

function smoothedAt(levels: readonly number[], frame: number): number {
  const lo = Math.max(0, frame - SMOOTHING_HALF_FRAMES);
  const hi = Math.min(levels.length, frame + SMOOTHING_HALF_FRAMES + 1);
  let sum = 0;
  for (let f = lo; f < hi; f++) sum += Math.max(levels[f], -100);
  return sum / (hi - lo);
}

function percentile(values: readonly number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}
