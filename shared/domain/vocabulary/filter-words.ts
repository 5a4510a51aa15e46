import type { TranscriptWord } from "../types.js";
import { normalizeWord } from "../words/normalize-word.js";

export const FILTER_METHODS = ["mask", "remove", "tag"] as const;
export type FilterMethod = (typeof FILTER_METHODS)[number];

/** What a masked word's letters become (Amazon Transcribe's mask). */
export const MASK = "***";

/**
 * A vocabulary filter, as Amazon Transcribe applies one: the words that match an entry exactly (compared in
 * normalized form: case and punctuation aside) are
 * - mask: written as `***`, the word's own leading and trailing punctuation kept ("damn," -> "***,");
 * - remove: dropped (the other words keep their times);
 * - tag: kept as they are, with `vocabulary_filter_match: true` (shown in the JSON outputs).
 * Times and speakers never change. Pure.
 */
export function applyVocabularyFilter(
  words: readonly TranscriptWord[],
  entries: readonly string[],
  method: FilterMethod,
): { words: TranscriptWord[]; matched: number } {
  const filter = new Set(entries.map(normalizeWord).filter((e) => e.length > 0));
  if (filter.size === 0) return { words: [...words], matched: 0 };
  const out: TranscriptWord[] = [];
  let matched = 0;
  for (const word of words) {
    if (!filter.has(normalizeWord(word.word))) {
      out.push(word);
      continue;
    }
    matched++;
    if (method === "remove") continue;
    if (method === "tag") out.push({ ...word, vocabulary_filter_match: true });
    else out.push({ ...word, word: maskWord(word.word) });
  }
  return { words: out, matched };
}

/** The word's letters and digits as `***`, its punctuation around them kept. */
export function maskWord(word: string): string {
  const lead = /^[\p{P}\p{S}]*/u.exec(word)?.[0] ?? "";
  const rest = word.slice(lead.length);
  const trail = /[\p{P}\p{S}]*$/u.exec(rest)?.[0] ?? "";
  return `${lead}${MASK}${trail}`;
}
