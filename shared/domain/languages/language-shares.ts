import { z } from "zod";
import { normalizeLanguage } from "../options/languages.js";

/**
 * How long each language was spoken, as Amazon Transcribe's `LanguageCodes` (`LanguageCode`,
 * `DurationInSeconds`) gives it for a multi-language job, plus the fraction of all speech with a language.
 */
export interface LanguageShare {
  /** ISO 639-1 code. */
  languageCode: string;
  /** Seconds of speech: the sum of the durations of the words heard in this language. */
  durationInSeconds: number;
  /** durationInSeconds / the speech of every language, 0..1. */
  fraction: number;
}

/** A share as the job record and the notification carry it. */
export const languageShareSchema = z.object({
  languageCode: z.string(),
  durationInSeconds: z.number(),
  fraction: z.number(),
}) satisfies z.ZodType<LanguageShare>;

/** A segment's detected language as an ISO 639-1 code when it has one (Whisper answers "german"); undefined when none. */
export function languageCodeOf(raw: string | undefined | null): string | undefined {
  const trimmed = raw?.trim();
  if (!trimmed) return undefined;
  return normalizeLanguage(trimmed) ?? trimmed.toLowerCase();
}

const round3 = (value: number) => Math.round(value * 1000) / 1000;
const round4 = (value: number) => Math.round(value * 10_000) / 10_000;

/**
 * The languages of a transcript's words, most spoken first (ties: by code). Speech is measured in word time,
 * not turn time, so pauses count for no language. Words without a language are left out of both the shares
 * and the total. Empty when no word has a language.
 */
export function languageShares(words: ReadonlyArray<{ start: number; end: number; language?: string }>): LanguageShare[] {
  const seconds = new Map<string, number>();
  let total = 0;
  for (const word of words) {
    if (word.language === undefined) continue;
    const length = Math.max(0, word.end - word.start);
    seconds.set(word.language, (seconds.get(word.language) ?? 0) + length);
    total += length;
  }
  return [...seconds]
    .map(([languageCode, spoken]) => ({
      languageCode,
      durationInSeconds: round3(spoken),
      fraction: total > 0 ? round4(spoken / total) : 0,
    }))
    .sort((a, b) => b.durationInSeconds - a.durationInSeconds || (a.languageCode < b.languageCode ? -1 : 1));
}

/**
 * Each segment's language, for its words: the language the provider detected (or was told) for that request.
 * A segment spanning a change of language gets the one its request was answered in, for all its words.
 */
export function segmentLanguages(results: ReadonlyArray<{ index: number; language?: string }>): {
  of(index: number): { language?: string };
} {
  const byIndex = new Map<number, string>();
  for (const result of results) {
    const code = languageCodeOf(result.language);
    if (code !== undefined) byIndex.set(result.index, code);
  }
  return {
    of: (index) => {
      const language = byIndex.get(index);
      return language === undefined ? {} : { language };
    },
  };
}
