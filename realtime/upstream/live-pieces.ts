/**
 * Where the HTTP upstream cuts an open utterance into pieces for live text.
 *
 * Each piece is sent to the provider once: its text is the next delta, and the utterance's completed text
 * is its pieces' texts in order, so every second of audio is billed once however long the utterance runs
 * (re-sending the utterance so far for each delta billed a 20 s turn ~14 times). The price is context: a
 * piece is heard without the audio around it, so cuts go where the speaker paused between words, and the
 * text already heard is passed as the request's prompt.
 */
import { normalizeWord } from "../../shared/domain/words/normalize-word.js";
import { findQuietPoint, SILENCE_FLOOR_DB } from "../../shared/domain/cutting/quiet-point.js";
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
/** ...and down near the piece's quietest level (the room), not just a soft consonant... */
const PAUSE_OVER_FLOOR_DB = 12;
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
export function pieceCut(levels: readonly number[], rules: PieceRules = DEFAULT_PIECE_RULES): { frame: number; atPause: boolean } | undefined {
  const seconds = levels.length * FRAME_SECONDS;
  if (seconds < rules.minSeconds) return undefined;
  const from = Math.round(SHORTEST_PIECE_SECONDS / FRAME_SECONDS);
  const to = levels.length - 1 - GUARD_FRAMES;
  if (to < from) return undefined;
  // Pauses count from a little before minSeconds, so a piece is rarely a single word.
  const pauseFrom = Math.max(from, Math.round((rules.minSeconds - PAUSE_LOOKBACK_SECONDS) / FRAME_SECONDS));
  const floor = Math.max(SILENCE_FLOOR_DB, Math.min(...levels));
  const threshold = Math.min(percentile(levels, 0.9) - PAUSE_DEPTH_DB, floor + PAUSE_OVER_FLOOR_DB);
  const pause = latestPause(levels, pauseFrom, threshold);
  if (pause !== undefined) return { frame: pause, atPause: true };
  if (seconds < rules.maxSeconds) return undefined;
  const quietest = findQuietPoint((frame) => levels[frame], { from, to, target: to, halfWindow: SMOOTHING_HALF_FRAMES, available: levels.length });
  return { frame: quietest, atPause: false };
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

/** One piece's answer, times in session seconds; `cutInSpeech`: the piece ended at a forced cut, not a pause. */
export interface HeardPiece {
  transcript: string;
  words?: Array<{ word: string; start: number; end: number }>;
  end: number;
  cutInSpeech: boolean;
}

/** A word within this much of a forced cut reached it: the word the cut went through. */
const AT_CUT_SECONDS = 0.08;

/**
 * The utterance's text from its pieces in order. Where a piece was cut without a pause, the word the cut
 * went through may come back from both sides, whole on one and as a fragment on the other (a model that
 * hears part of a word writes part of a word): when the left piece's last word and the right piece's
 * first word both reach the cut and one is the start or the end of the other, only the longer is kept.
 * Two different words meeting at the cut are both kept; text-only answers are joined as they are.
 */
export function joinPieces(pieces: readonly HeardPiece[]): { transcript: string; words?: Array<{ word: string; start: number; end: number }> } {
  const texts = pieces.map((piece) => tokens(piece.transcript));
  const words = pieces.map((piece) => (piece.words ? [...piece.words] : undefined));
  for (let i = 0; i + 1 < pieces.length; i++) {
    const left = words[i];
    const right = words[i + 1];
    if (!pieces[i].cutInSpeech || !left?.length || !right?.length) continue;
    const cut = pieces[i].end;
    const last = left[left.length - 1];
    const first = right[0];
    if (last.end < cut - AT_CUT_SECONDS || first.start > cut + AT_CUT_SECONDS) continue;
    const a = normalizeWord(last.word);
    const b = normalizeWord(first.word);
    if (!a || !b || !(a.startsWith(b) || a.endsWith(b) || b.startsWith(a) || b.endsWith(a))) continue;
    if (a.length >= b.length) {
      right.shift();
      texts[i + 1].shift();
    } else {
      left.pop();
      texts[i].pop();
    }
  }
  const transcript = texts.flat().join(" ");
  return { transcript, words: words.every(Boolean) ? words.flatMap((w) => w ?? []) : undefined };
}

function tokens(text: string): string[] {
  return text.split(/\s+/).filter(Boolean);
}
