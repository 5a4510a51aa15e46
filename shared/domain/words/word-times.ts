import type { TranscriptWord } from "../types.js";
import { roundMs } from "./round-time.js";

/** Longest a single word may last; a longer end is the provider stretching it over silence. */
export const MAX_WORD_SECONDS = 2;

/**
 * Makes word times trustworthy for captions: starts never go backwards (the
 * two sides of a cut may disagree by a few tens of milliseconds), and each end
 * is clamped to the next word's start and to a plausible word length, because
 * providers report starts well but let ends run on over the following pause.
 */
export function tidyWordTimes(words: readonly TranscriptWord[], duration: number): TranscriptWord[] {
  const limit = duration > 0 ? duration : Infinity;
  const starts: number[] = [];
  for (const w of words) {
    const previous = starts.length > 0 ? starts[starts.length - 1] : 0;
    starts.push(Math.min(Math.max(w.start, previous, 0), limit));
  }
  return words.map((w, i) => {
    const start = starts[i];
    const nextStart = i + 1 < starts.length ? starts[i + 1] : limit;
    const end = Math.max(start, Math.min(w.end, nextStart, start + MAX_WORD_SECONDS, limit));
    return { ...w, start: roundMs(start), end: roundMs(end) };
  });
}
