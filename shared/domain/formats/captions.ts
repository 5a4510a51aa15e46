import type { TranscriptWord } from "../types.js";

/** One subtitle cue, times in whole milliseconds. */
export interface Cue {
  start: number;
  end: number;
  speaker: string | null;
  lines: string[];
  /** Its words' language, when they have one: a cue never spans a change of language. */
  language?: string;
}

/** Common subtitle guidance (BBC, Netflix): what a viewer can read in the time a cue is shown. */
export const CAPTION_RULES = {
  maxCharsPerLine: 42,
  maxLines: 2,
  maxCueMs: 7000,
  /** A pause this long ends the cue, so text is not shown over silence. */
  maxPauseMs: 1000,
  /** After a sentence ends, a cue at least this full does not take the next sentence's first words. */
  sentenceBreakChars: 20,
} as const;

export interface CueOptions {
  /** Text put before the first line of a cue (SRT speaker names); counts toward the line length. */
  firstLinePrefix?: (speaker: string | null) => string;
}

/**
 * Lays words out as cues: at most two lines of 42 characters, at most 7 s on
 * screen, a new cue at every change of speaker and at long pauses; cue times
 * come from the words' own times, and cues never overlap.
 */
export function buildCues(words: readonly TranscriptWord[], opts: CueOptions = {}): Cue[] {
  const prefixOf = opts.firstLinePrefix ?? (() => "");
  const cues: Cue[] = [];
  let current: Cue | undefined;
  let previous: TranscriptWord | undefined;

  for (const word of words) {
    const start = Math.round(word.start * 1000);
    const end = Math.round(word.end * 1000);
    for (const piece of splitLongWord(word.word, CAPTION_RULES.maxCharsPerLine)) {
      const fits =
        current !== undefined &&
        previous !== undefined &&
        current.speaker === word.speaker_id &&
        current.language === word.language &&
        start - Math.round(previous.end * 1000) <= CAPTION_RULES.maxPauseMs &&
        end - current.start <= CAPTION_RULES.maxCueMs &&
        !(endsSentence(previous.word) && textLength(current) >= CAPTION_RULES.sentenceBreakChars && piece === word.word) &&
        appendToLines(current.lines, piece);
      if (!fits) {
        current = { start, end, speaker: word.speaker_id, lines: [], ...(word.language !== undefined ? { language: word.language } : {}) };
        const prefix = prefixOf(word.speaker_id);
        current.lines = prefix.length > 0 ? [prefix.trimEnd()] : [];
        if (prefix.length === 0 || !appendToLine(current.lines, 0, prefix + piece)) appendToLines(current.lines, piece);
        cues.push(current);
      }
      if (current) current.end = Math.max(current.end, end);
      previous = word;
    }
  }
  return separate(cues);
}

function appendToLines(lines: string[], piece: string): boolean {
  const last = lines.length - 1;
  if (last >= 0 && chars(lines[last]) + 1 + chars(piece) <= CAPTION_RULES.maxCharsPerLine) {
    lines[last] = `${lines[last]} ${piece}`;
    return true;
  }
  if (lines.length >= CAPTION_RULES.maxLines) return false;
  lines.push(piece);
  return true;
}

/** Replaces line `at` (the bare prefix) when the prefixed text fits on it. */
function appendToLine(lines: string[], at: number, text: string): boolean {
  if (chars(text) > CAPTION_RULES.maxCharsPerLine) return false;
  lines[at] = text;
  return true;
}

/** Cue i ends no later than cue i+1 starts, and every cue lasts at least a millisecond. */
function separate(cues: Cue[]): Cue[] {
  let floor = 0;
  cues.forEach((cue, i) => {
    cue.start = Math.max(cue.start, floor);
    const nextStart = cues[i + 1]?.start ?? Infinity;
    cue.end = Math.max(Math.min(cue.end, Math.max(nextStart, cue.start + 1)), cue.start + 1);
    floor = cue.end;
  });
  return cues;
}

/** A "word" longer than a line (a URL, a run of digits) is broken so every line stays legal. */
function splitLongWord(word: string, limit: number): string[] {
  const letters = [...word];
  if (letters.length <= limit) return [word];
  const pieces: string[] = [];
  for (let i = 0; i < letters.length; i += limit) pieces.push(letters.slice(i, i + limit).join(""));
  return pieces;
}

function endsSentence(word: string): boolean {
  return /[.!?…。？！]["'”’)]*$/u.test(word);
}

function textLength(cue: Cue): number {
  return cue.lines.reduce((sum, line) => sum + chars(line), 0);
}

function chars(text: string): number {
  return [...text].length;
}
