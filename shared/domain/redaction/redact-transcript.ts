import type { Transcript, TranscriptWord } from "../types.js";
import { withWords } from "../words/rebuild-transcript.js";
import { detectPii, type PiiKind } from "./detect-pii.js";

/** What a redacted item reads in every output. */
export const PII_TOKEN = "[PII]";

/** A stretch of the recording (seconds) that held personal data: the redacted audio is silent there. */
export interface RedactedSpan {
  start: number;
  end: number;
  kind: PiiKind;
}

export interface Redaction {
  transcript: Transcript;
  spans: RedactedSpan[];
  /** Words that went into the spans (for the benchmark's share of words touched). */
  wordsRedacted: number;
}

/**
 * The transcript with each item of personal data (detect-pii.ts) as one word `[PII]`: from the first word's
 * start to the last word's end, with the first word's speaker and the last word's trailing punctuation. Other
 * words keep their text, times and speakers; text and utterances are made again from the words.
 */
export function redactTranscript(t: Transcript): Redaction {
  const found = detectPii(t.words);
  if (found.length === 0) return { transcript: t, spans: [], wordsRedacted: 0 };
  const words: TranscriptWord[] = [];
  const spans: RedactedSpan[] = [];
  let at = 0;
  let wordsRedacted = 0;
  for (const span of found) {
    words.push(...t.words.slice(at, span.from));
    const first = t.words[span.from];
    const last = t.words[span.to - 1];
    const trail = /[.,;:!?]*$/u.exec(last.word)?.[0] ?? "";
    words.push({ word: `${PII_TOKEN}${trail}`, start: first.start, end: last.end, speaker_id: first.speaker_id });
    spans.push({ start: first.start, end: last.end, kind: span.kind });
    wordsRedacted += span.to - span.from;
    at = span.to;
  }
  words.push(...t.words.slice(at));
  return { transcript: withWords(t, words), spans, wordsRedacted };
}
