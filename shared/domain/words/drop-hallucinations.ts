import type { TextSpan, Word } from "../types.js";
import { normalizeWord } from "./normalize-word.js";
import { clampDb } from "../cutting/quiet-point.js";

/**
 * Removing what a provider "heard" that the audio does not hold: words placed
 * over silence ("Thank you." on a silent tail, a phrase inside a long pause)
 * and repetition loops (Whisper repeating a phrase over silence or music).
 * Pure: the caller passes the provider's answer for one segment and, when the
 * chunker stored one, the segment's energy envelope.
 *
 * Rules and thresholds:
 *
 * 1. Silent words (only with a usable envelope). A word is heard when at least
 *    {@link MIN_SOUND_SECONDS} of frames reach the sound threshold within its
 *    start region [start - 0.15 s, min(end, start + 0.6 s) + 0.15 s]. The pad
 *    absorbs ±100 ms of start jitter; the clamp keeps an end stretched over the
 *    following silence (or into the next word) from lending it sound. A word
 *    whose start the provider stretched back over a pause (Whisper does this to
 *    the first word after silence) is still heard when its own stretch, up to
 *    0.15 s before the next word starts and at most 3 s, holds sound.
 *    The sound threshold is relative to the segment: noise floor (the 5th
 *    percentile frame) + 10 dB, but never more than half way from the floor to
 *    the speech level (the 0.1 s loudest frames), so a quiet real word a dozen
 *    dB above the room is kept.
 *    The envelope is not used at all (no word is dropped for silence, loops
 *    use the no-audio rule) when it cannot be trusted: empty, speech level less
 *    than 12 dB above the floor (the whole segment looks silent, or all one
 *    level: with words heard there, a bad or mismatched envelope is likelier
 *    than a segment-long hallucination), or words starting more than 1 s past
 *    its end (it belongs to other audio). Words past its end are kept.
 * 2. Loops. The same phrase of 1..8 words (compared by normalizeWord; tokens
 *    that normalise to nothing are ignored) repeated in a row is collapsed to
 *    one occurrence, dropping the other repeats and a trailing partial repeat:
 *    - with a usable envelope, from 4 repeats of one word or 3 of a longer
 *      phrase, when fewer than half the repeats are heard (a repeat is heard
 *      when half its words are). The occurrence kept is the first heard one.
 *      Real repeats ("no no no no", "very very very") lie over sound and stay;
 *    - otherwise (no envelope, untrusted envelope, text-only answers), from 6
 *      repeats of one word ("no no no no no" stays) or 4 of a longer phrase.
 *      The first occurrence is kept.
 *    Text-only answers (words === null) are collapsed on their spans (as one
 *    sequence: a loop usually repeats across spans) and, separately, on `text`.
 * 3. Text follows the kept words: the dropped words are cut out of `text` (and
 *    of each span's text, by the words that fall in the span) so the provider's
 *    punctuation and spacing stay; if the words cannot be found in the text in
 *    order, the text is rebuilt from the kept words (joined by a space, or by
 *    nothing when the text had no spaces, as in Chinese or Japanese). A span
 *    left without words is removed; `speakers` loses labels no kept word uses.
 */

/** The parts of a provider answer this module reads and rewrites; other fields pass through. */
export interface TranscriptionAnswer {
  text: string;
  /** null: the model gave text only, without word times. Segment-local seconds. */
  words: Word[] | null;
  spans: TextSpan[];
  speakers?: string[];
}

/** The chunker's energy envelope of one segment: dBFS per frame, from the segment's start. */
export interface SegmentEnvelope {
  db: ArrayLike<number>;
  frameSeconds: number;
}

/** What was dropped, for a log line: numbers only. */
export interface DroppedCounts {
  /** Words dropped because the envelope is silent where they were placed (not counting loop repeats). */
  silentWords: number;
  /** Words (whitespace-separated tokens for text-only answers) dropped as repeats of a loop. */
  loopWords: number;
  /** Loops collapsed. */
  loops: number;
}

export interface DropResult<T> {
  answer: T;
  dropped: DroppedCounts;
}

/** Start jitter absorbed around a word's start. */
export const START_PAD_SECONDS = 0.15;
/** How much of a word after its start is searched for sound (its end is often stretched). */
export const WORD_HEAD_SECONDS = 0.6;
/** The longest stretch of a word that may lend it sound when its start region is silent. */
export const MAX_STRETCH_SECONDS = 3;
/** Sound needed in a word's region for it to be heard: less is a click. */
export const MIN_SOUND_SECONDS = 0.03;
/** The noise floor is this quantile of the segment's frames. */
export const FLOOR_QUANTILE = 0.05;
/** The speech level is the level this much of the segment's loudest audio reaches. */
export const SPEECH_LEVEL_SECONDS = 0.1;
/** A frame is sound this far above the floor (or half way to the speech level, if nearer). */
export const SOUND_ABOVE_FLOOR_DB = 10;
/** Below this contrast between speech level and floor the envelope shows no speech: it is not used. */
export const MIN_CONTRAST_DB = 12;
/** Words starting this far past the envelope's end mean it belongs to other audio. */
export const ENVELOPE_MISMATCH_SECONDS = 1;
/** The longest phrase a loop can repeat. */
export const MAX_LOOP_PHRASE_WORDS = 8;

/** Repeats that make a loop candidate when the envelope can tell whether they were heard. */
export function minLoopRepeatsWithAudio(phraseWords: number): number {
  return phraseWords === 1 ? 4 : 3;
}

/** Repeats that make a loop on their own, when nothing can tell whether they were heard. */
export function minLoopRepeatsWithoutAudio(phraseWords: number): number {
  return phraseWords === 1 ? 6 : 4;
}

/**
 * The answer without words over silence and without repetition loops, and
 * how many words were dropped. Returns the same object when nothing is dropped.
 */
export function dropHallucinations<T extends TranscriptionAnswer>(answer: T, envelope?: SegmentEnvelope): DropResult<T> {
  const none: DroppedCounts = { silentWords: 0, loopWords: 0, loops: 0 };
  if (answer.words === null) return dropTextLoops(answer);
  if (answer.words.length === 0) return { answer, dropped: none };
  const audio = envelope && readEnvelope(envelope, answer.words);
  return dropTimedWords(answer, answer.words, audio);
}

// ---------------------------------------------------------------- timed words

function dropTimedWords<T extends TranscriptionAnswer>(answer: T, words: readonly Word[], audio: Audio | undefined): DropResult<T> {
  const heard = words.map((w, i) => (audio ? audio.hears(w, words[i + 1]?.start) : true));
  const minRepeats = audio ? minLoopRepeatsWithAudio : minLoopRepeatsWithoutAudio;
  const repeatDropped = new Array<boolean>(words.length).fill(false);
  let loops = 0;
  for (const loop of findLoops(words.map((w) => normalizeWord(w.word)), minRepeats)) {
    let kept = 0;
    if (audio) {
      const heardRepeats = loop.repeats.flatMap(([from, to], k) => {
        let n = 0;
        for (let i = from; i <= to; i++) if (heard[i] && normalizeWord(words[i].word)) n++;
        return n * 2 >= loop.phraseWords ? [k] : [];
      });
      if (heardRepeats.length * 2 >= loop.repeats.length) continue;
      kept = heardRepeats[0] ?? 0;
    }
    markLoop(loop, kept, repeatDropped);
    loops++;
  }

  const drop = words.map((_, i) => repeatDropped[i] || !heard[i]);
  const dropped: DroppedCounts = {
    silentWords: drop.filter((d, i) => d && !repeatDropped[i]).length,
    loopWords: repeatDropped.filter(Boolean).length,
    loops,
  };
  if (!drop.some(Boolean)) return { answer, dropped };

  const keptWords = words.filter((_, i) => !drop[i]);
  const text = cutWords(answer.text, words, drop);
  const spans = cutSpans(answer.spans, words, drop);
  const cleaned: T = { ...answer, text, words: keptWords, spans };
  if (answer.speakers) {
    const before = new Set(words.map((w) => w.speaker));
    const after = new Set(keptWords.map((w) => w.speaker));
    cleaned.speakers = answer.speakers.filter((s) => !before.has(s) || after.has(s));
  }
  return { answer: cleaned, dropped };
}

/** Each span's text without its dropped words (the words that start in it, or nearest it). */
function cutSpans(spans: readonly TextSpan[], words: readonly Word[], drop: readonly boolean[]): TextSpan[] {
  if (spans.length === 0) return [];
  const owned = spans.map(() => [] as number[]);
  words.forEach((w, i) => owned[nearestSpan(spans, w.start)].push(i));
  const result: TextSpan[] = [];
  spans.forEach((span, s) => {
    const mine = owned[s];
    const myDrops = mine.map((i) => drop[i]);
    if (!myDrops.some(Boolean)) result.push(span);
    else if (!myDrops.every(Boolean)) {
      result.push({ ...span, text: cutWords(span.text, mine.map((i) => words[i]), myDrops) });
    }
  });
  return result;
}

function nearestSpan(spans: readonly TextSpan[], time: number): number {
  let best = 0;
  let bestDistance = Infinity;
  spans.forEach((s, i) => {
    // Inside [start, end) beats touching the end, so a word on a boundary goes to the span it opens.
    const distance = time < s.start ? s.start - time : time < s.end ? 0 : time - s.end + 1e-9;
    if (distance < bestDistance) [best, bestDistance] = [i, distance];
  });
  return best;
}

/** The text without the dropped words, cut where they are found in it, else rebuilt from the kept words. */
function cutWords(text: string, words: readonly Word[], drop: readonly boolean[]): string {
  const located = locateWords(text, words.map((w) => w.word));
  if (located) return cutTokens(text, located, drop);
  const kept = words.filter((_, i) => !drop[i]).map((w) => w.word);
  const separator = kept.length > 1 && !/\s/u.test(text.trim()) ? "" : " ";
  return kept.join(separator);
}

// ---------------------------------------------------------------- text only

function dropTextLoops<T extends TranscriptionAnswer>(answer: T): DropResult<T> {
  const spanTokens = answer.spans.flatMap((span, s) => tokenize(span.text).map((t) => ({ ...t, span: s })));
  const spanDrop = collapseTextLoops(spanTokens.map((t) => t.key));
  const textTokens = tokenize(answer.text);
  const textDrop = collapseTextLoops(textTokens.map((t) => t.key));
  // Counted where the stitcher reads a text-only answer: its spans, or its text when no span has any.
  const counted = spanTokens.length > 0 ? spanDrop : textDrop;
  const dropped: DroppedCounts = { silentWords: 0, loopWords: counted.drop.filter(Boolean).length, loops: counted.loops };
  if (!spanDrop.drop.some(Boolean) && !textDrop.drop.some(Boolean)) return { answer, dropped };

  const spans: TextSpan[] = [];
  answer.spans.forEach((span, s) => {
    const indices = spanTokens.flatMap((t, i) => (t.span === s ? [i] : []));
    const myDrops = indices.map((i) => spanDrop.drop[i]);
    if (!myDrops.some(Boolean)) spans.push(span);
    else if (!myDrops.every(Boolean)) spans.push({ ...span, text: cutTokens(span.text, indices.map((i) => spanTokens[i]), myDrops) });
  });
  const text = textDrop.drop.some(Boolean) ? cutTokens(answer.text, textTokens, textDrop.drop) : answer.text;
  return { answer: { ...answer, text, spans }, dropped };
}

function collapseTextLoops(keys: readonly string[]): { drop: boolean[]; loops: number } {
  const drop = new Array<boolean>(keys.length).fill(false);
  const loops = findLoops(keys, minLoopRepeatsWithoutAudio);
  for (const loop of loops) markLoop(loop, 0, drop);
  return { drop, loops: loops.length };
}

interface Token {
  /** UTF-16 offsets of the token in its text. */
  start: number;
  end: number;
  key: string;
}

function tokenize(text: string): Token[] {
  return [...text.matchAll(/\S+/gu)].map((m) => ({ start: m.index, end: m.index + m[0].length, key: normalizeWord(m[0]) }));
}

// ---------------------------------------------------------------- loops

interface Loop {
  phraseWords: number;
  /** Each repeat's first and last index (inclusive) in the caller's sequence. */
  repeats: Array<[number, number]>;
  /** Last index (inclusive) of the loop, a trailing partial repeat included. */
  last: number;
}

/**
 * Runs of one phrase repeated at least minRepeats(phrase length) times, left to
 * right, not overlapping. At each position the phrase covering the most tokens
 * wins, the shortest on a tie ("no no no no" is one word four times).
 * Tokens with an empty key (punctuation) are skipped when comparing.
 */
function findLoops(keys: readonly string[], minRepeats: (phraseWords: number) => number): Loop[] {
  const at = keys.flatMap((k, i) => (k ? [i] : []));
  const seq = at.map((i) => keys[i]);
  const loops: Loop[] = [];
  let i = 0;
  while (i < seq.length) {
    let best: { length: number; repeats: number } | undefined;
    for (let length = 1; length <= MAX_LOOP_PHRASE_WORDS && i + length <= seq.length; length++) {
      let repeats = 1;
      while (samePhrase(seq, i, i + repeats * length, length)) repeats++;
      if (repeats < minRepeats(length)) continue;
      if (!best || repeats * length > best.repeats * best.length) best = { length, repeats };
    }
    if (!best) {
      i++;
      continue;
    }
    const { length, repeats } = best;
    let tail = 0;
    const after = i + repeats * length;
    while (tail < length - 1 && after + tail < seq.length && seq[after + tail] === seq[i + tail]) tail++;
    const end = after + tail;
    loops.push({
      phraseWords: length,
      repeats: Array.from({ length: repeats }, (_, k) => [at[i + k * length], at[i + (k + 1) * length - 1]]),
      last: at[end - 1],
    });
    i = end;
  }
  return loops;
}

function samePhrase(seq: readonly string[], a: number, b: number, length: number): boolean {
  if (b + length > seq.length) return false;
  for (let k = 0; k < length; k++) if (seq[a + k] !== seq[b + k]) return false;
  return true;
}

/** Marks every index of the loop except the kept repeat's. */
function markLoop(loop: Loop, kept: number, drop: boolean[]): void {
  const [keepFrom, keepTo] = loop.repeats[kept];
  for (let i = loop.repeats[0][0]; i <= loop.last; i++) if (i < keepFrom || i > keepTo) drop[i] = true;
}

// ---------------------------------------------------------------- audio

interface Audio {
  /** Whether sound lies under the word; nextStart is the following word's start. */
  hears(word: Word, nextStart: number | undefined): boolean;
}

/** The envelope as evidence, or undefined when it cannot be trusted (see the module comment). */
function readEnvelope(envelope: SegmentEnvelope, words: readonly Word[]): Audio | undefined {
  const { db, frameSeconds } = envelope;
  const frames = db.length;
  if (frames === 0 || !(frameSeconds > 0)) return undefined;
  const duration = frames * frameSeconds;
  if (words.some((w) => w.start > duration + ENVELOPE_MISMATCH_SECONDS)) return undefined;

  const levels = Array.from(db, clampDb);
  const sorted = [...levels].sort((a, b) => a - b);
  const floor = sorted[Math.floor(frames * FLOOR_QUANTILE)];
  const speech = sorted[frames - Math.min(frames, Math.max(1, Math.round(SPEECH_LEVEL_SECONDS / frameSeconds)))];
  const contrast = speech - floor;
  if (contrast < MIN_CONTRAST_DB) return undefined;
  const threshold = floor + Math.min(SOUND_ABOVE_FLOOR_DB, contrast / 2);
  const needed = Math.max(1, Math.round(MIN_SOUND_SECONDS / frameSeconds));

  /** Whether [from, to] seconds holds enough sound; undefined when the envelope does not reach it. */
  const sounds = (from: number, to: number): boolean | undefined => {
    const first = Math.max(0, Math.floor(from / frameSeconds));
    const last = Math.min(frames - 1, Math.floor(to / frameSeconds));
    if (first > last) return to < from ? false : undefined;
    let loud = 0;
    for (let f = first; f <= last && loud < needed; f++) if (levels[f] >= threshold) loud++;
    return loud >= needed;
  };

  return {
    hears(word, nextStart) {
      const start = word.start;
      const end = Math.max(word.end, start);
      const head = Math.min(end, start + WORD_HEAD_SECONDS);
      const inHead = sounds(start - START_PAD_SECONDS, head + START_PAD_SECONDS);
      if (inHead !== false) return true; // heard, or past the envelope's end: no evidence against it
      const stretchEnd = Math.min(end, (nextStart ?? Infinity) - START_PAD_SECONDS, start + MAX_STRETCH_SECONDS);
      return stretchEnd > head + START_PAD_SECONDS && sounds(head + START_PAD_SECONDS, stretchEnd) === true;
    },
  };
}

// ---------------------------------------------------------------- text cutting

/**
 * Where each word lies in the text, in order, comparing without case,
 * punctuation and spaces (so "you." matches "you" and Chinese text without
 * spaces still aligns). null when some word is not found.
 */
function locateWords(text: string, words: readonly string[]): Array<Token | null> | null {
  let stream = "";
  const origin: number[] = [];
  const originEnd: number[] = [];
  let offset = 0;
  for (const ch of text) {
    const squashed = squash(ch);
    // One entry per UTF-16 unit of the stream, so indexOf's offsets index them directly.
    for (let u = 0; u < squashed.length; u++) {
      origin.push(offset);
      originEnd.push(offset + ch.length);
    }
    stream += squashed;
    offset += ch.length;
  }
  const located: Array<Token | null> = [];
  let cursor = 0;
  for (const word of words) {
    const key = [...word].map(squash).join("");
    if (!key) {
      located.push(null);
      continue;
    }
    const at = stream.indexOf(key, cursor);
    if (at < 0) return null;
    located.push({ start: origin[at], end: originEnd[at + key.length - 1], key });
    cursor = at + key.length;
  }
  return located;
}

function squash(s: string): string {
  return s.normalize("NFKC").toLowerCase().replace(/[\p{P}\p{S}\s]/gu, "");
}

/**
 * The text without the dropped tokens: each run of dropped tokens is cut from
 * its first token (with punctuation opening it, like a quote) to the next kept
 * token, so the space before the run separates what is left.
 */
function cutTokens(text: string, tokens: ReadonlyArray<Token | null>, drop: readonly boolean[]): string {
  let out = "";
  let from = 0;
  let cutStart: number | undefined;
  tokens.forEach((token, i) => {
    if (!token) return;
    if (drop[i]) {
      cutStart ??= openingOf(text, token.start);
    } else if (cutStart !== undefined) {
      out += text.slice(from, cutStart);
      from = openingOf(text, token.start);
      cutStart = undefined;
    }
  });
  out += cutStart === undefined ? text.slice(from) : text.slice(from, cutStart);
  return out.trim();
}

/** Where the token starting at `start` begins once leading punctuation ("¿, «, ") is counted in. */
function openingOf(text: string, start: number): number {
  let p = start;
  while (p > 0 && !/\s/u.test(text[p - 1])) p--;
  return squash(text.slice(p, start)) ? start : p;
}
