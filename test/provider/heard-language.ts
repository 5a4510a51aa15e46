/**
 * The language the stand-in model answers with. Whisper detects one language per request (from the start of
 * the audio) and writes everything in it; here the answer's `language` is the majority label of the words it
 * heard (by speech time), English when it heard none. A requested `language` is obeyed, as Whisper obeys it:
 * forced to the wrong language, a real model transcribes (or translates) the speech into that language, so
 * the words it heard in another one are lost. The stand-in keeps their text but reports the forced language,
 * and counts them (`stats().wrongLanguageWords`), so a test can see that a forced wrong language loses.
 */
import type { HeardWord } from "./hear-words.js";

export const DEFAULT_TRUE_LANGUAGE = "en";

export function majorityHeardLanguage(words: readonly HeardWord[]): string {
  const seconds = new Map<string, number>();
  for (const word of words) {
    const language = word.language ?? DEFAULT_TRUE_LANGUAGE;
    seconds.set(language, (seconds.get(language) ?? 0) + Math.max(0.001, word.end - word.start));
  }
  let best = DEFAULT_TRUE_LANGUAGE;
  let most = -1;
  for (const [language, spoken] of seconds) {
    if (spoken > most || (spoken === most && language < best)) [best, most] = [language, spoken];
  }
  return best;
}

/** Words whose true language is not the one the answer is written in. */
export function wordsInAnotherLanguage(words: readonly HeardWord[], answered: string): number {
  return words.filter((word) => (word.language ?? DEFAULT_TRUE_LANGUAGE) !== answered).length;
}
