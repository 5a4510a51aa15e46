import type { TranscriptWord } from "../types.js";
import { normalizeWord } from "../words/normalize-word.js";
import { COMMON_WORDS } from "./common-words.js";

/**
 * The post-pass of a custom vocabulary: stitched words that are a near miss of a term ("Kubernetis",
 * "Acme corp", "sales force") are written as the term ("Kubernetes", "ACME Corp", "Salesforce"). Pure: the
 * words' times and speakers never change (a term heard as two words becomes one word spanning both, never
 * across a change of speaker), and nothing else is touched.
 *
 * Conservative by design, since a wrong "fix" is worse than a miss:
 * - words are compared in normalized form (case, punctuation, accents' composition) and the allowed edit
 *   distance grows with the term's length: 0 under 5 letters, 1 for 5-7, 2 for 8-11, 3 from 12;
 * - a fuzzy match (distance > 0) of a term under 8 letters must keep the first letter;
 * - a window holding a common dictionary word (common-words.ts) is changed only when it is closer to the
 *   term by a clear margin: at most one edit per 8 letters of the term, and never a lone common word into a
 *   one-word term ("will" stays "will" even with a vocabulary holding "Will");
 * - words with digits are left alone (numbers are the redaction's business, not the vocabulary's).
 */
export interface SpellingFixes {
  words: TranscriptWord[];
  /** How many windows of words were rewritten as a term. */
  fixed: number;
}

interface PreparedTerm {
  text: string;
  parts: string[];
  norm: string;
  /** The norms of single-word terms, to tell "a term heard as itself" from a near miss. */
  single: boolean;
}

/** Longest window compared: a term of 4 words heard as 5. */
const MAX_WINDOW = 5;

export function maxEditsFor(termLength: number): number {
  if (termLength < 5) return 0;
  if (termLength < 8) return 1;
  if (termLength < 12) return 2;
  return 3;
}

export function fixTermSpellings(words: readonly TranscriptWord[], terms: readonly string[]): SpellingFixes {
  const prepared = prepare(terms);
  if (prepared.length === 0) return { words: [...words], fixed: 0 };
  const norms = words.map((w) => normalizeWord(w.word));
  const out: TranscriptWord[] = [];
  let fixed = 0;
  for (let i = 0; i < words.length; ) {
    const match = bestMatch(words, norms, i, prepared);
    if (!match) {
      out.push(words[i]);
      i++;
      continue;
    }
    const window = words.slice(i, i + match.length);
    const replaced = rewrite(window, match.term);
    if (replaced.some((w, j) => w.word !== window[j]?.word) || replaced.length !== window.length) fixed++;
    out.push(...replaced);
    i += match.length;
  }
  return { words: out, fixed };
}

function prepare(terms: readonly string[]): PreparedTerm[] {
  return terms
    .map((text) => {
      const parts = text.split(/\s+/u).filter((p) => p.length > 0);
      return { text, parts, norm: parts.map(normalizeWord).join(""), single: parts.length === 1 };
    })
    .filter((t) => t.norm.length > 0 && t.parts.length < MAX_WINDOW && !/\d/u.test(t.norm));
}

/** The term the words from `at` are a near miss of, and how many words that takes; the closest wins. */
function bestMatch(
  words: readonly TranscriptWord[],
  norms: readonly string[],
  at: number,
  terms: readonly PreparedTerm[],
): { term: PreparedTerm; length: number } | undefined {
  let best: { term: PreparedTerm; length: number; score: number } | undefined;
  for (const term of terms) {
    for (const length of [term.parts.length, term.parts.length + 1]) {
      if (at + length > words.length) continue;
      const speaker = words[at].speaker_id;
      let joined = "";
      let ok = true;
      let common = false;
      for (let j = at; j < at + length; j++) {
        if (words[j].speaker_id !== speaker || norms[j].length === 0 || /\d/u.test(norms[j])) {
          ok = false;
          break;
        }
        joined += norms[j];
        if (COMMON_WORDS.has(norms[j])) common = true;
      }
      if (!ok) continue;
      const limit = maxEditsFor(term.norm.length);
      if (Math.abs(joined.length - term.norm.length) > limit) continue;
      const distance = boundedEditDistance(joined, term.norm, limit);
      if (distance > limit) continue;
      if (distance > 0 && term.norm.length < 8 && joined[0] !== term.norm[0]) continue;
      if (common) {
        // A common word only yields to a term by a clear margin, and a lone one never to a one-word term.
        if (length === 1 && term.single) continue;
        if (distance > Math.floor(term.norm.length / 8)) continue;
      }
      const score = distance / term.norm.length + (length === term.parts.length ? 0 : 0.001);
      if (!best || score < best.score) best = { term, length, score };
    }
  }
  return best && { term: best.term, length: best.length };
}

/**
 * The window written as the term: word j takes the term's part j, with the window's leading punctuation on the
 * first and trailing punctuation on the last; a window one word longer than the term joins its last two words.
 */
function rewrite(window: readonly TranscriptWord[], term: PreparedTerm): TranscriptWord[] {
  const lead = /^[\p{P}\p{S}]*/u.exec(window[0].word)?.[0] ?? "";
  const trail = /[\p{P}\p{S}]*$/u.exec(window[window.length - 1].word)?.[0] ?? "";
  const k = term.parts.length;
  return term.parts.map((part, j) => {
    const first = window[j];
    const last = j === k - 1 ? window[window.length - 1] : first;
    let word = part;
    if (j === 0 && lead && !word.startsWith(lead)) word = lead + word;
    if (j === k - 1 && trail && !word.endsWith(trail)) word = word + trail;
    const { vocabulary_filter_match: _drop, ...rest } = first;
    return { ...rest, word, start: first.start, end: last.end };
  });
}

/** Levenshtein distance, or limit + 1 as soon as it must exceed the limit. */
export function boundedEditDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const value = Math.min(previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1), previous[j] + 1, current[j - 1] + 1);
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin > limit) return limit + 1;
    previous = current;
  }
  return previous[b.length];
}
