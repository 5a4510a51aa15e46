/**
 * The data handed from one pipeline stage to the next. Times are seconds.
 * "Global" times are relative to the start of the whole recording; "local"
 * times are relative to the start of one segment's audio.
 */

import type { LanguageShare } from "./languages/language-shares.js";

/** One recognised word. `speaker` is a label; whose labels (local or global) depends on the hand-off. */
export interface Word {
  word: string;
  start: number;
  end: number;
  speaker?: string;
}

/** A stretch of text with times, as a provider's `segments[]` or a text-only answer. */
export interface TextSpan {
  start: number;
  end: number;
  text: string;
  speaker?: string;
}

/**
 * One planned piece of the recording. The segment's audio covers [start, end);
 * it "owns" [ownStart, ownEnd): the words whose start falls there are taken from
 * this segment, so the overlap on each side only gives the provider context.
 */
export interface CutSegment {
  index: number;
  start: number;
  end: number;
  ownStart: number;
  ownEnd: number;
  /**
   * A channel job's lane (`channels=`: domain/channels/): the input channel this segment's audio was taken
   * from. Absent for every other job, whose audio is the recording mixed down to mono.
   */
  channel?: number;
}

/** What the transcriber stores for one segment, in segment-local time. */
export interface SegmentResult {
  jobId: string;
  index: number;
  segment: CutSegment;
  language?: string;
  text: string;
  /** null when the model returns text only (no word timestamps). */
  words: Word[] | null;
  spans: TextSpan[];
  /** Distinct local speaker labels the provider used, if it diarized. */
  speakers: string[];
  /**
   * Seconds of audio in this segment's provider request: one logical request, however many attempts the
   * provider client needed. Absent in results stored before it was kept: the segment's span then.
   */
  audioSeconds?: number;
  /**
   * The segment was asked again because its first answer's language was not among the job's
   * `language-options` (pipeline/transcribe-within-languages.ts): one more request of the same audio.
   */
  languageRetry?: { detected: string; askedWith: string; audioSeconds: number };
}

/** The stitched transcript: our `verbose_json` output. */
export interface Transcript {
  text: string;
  language: string | null;
  duration: number;
  words: TranscriptWord[];
  segments: TranscriptSegment[];
  speakers: string[];
  /**
   * Speaker label -> the person's name, for the labels that have one (an enrolled voice, or a rename); a
   * label without one is shown as itself. Absent when nothing could name anyone.
   */
  speaker_names?: Record<string, string>;
  /**
   * How long each language was spoken (domain/languages/language-shares.ts), most first; absent when no
   * segment's language is known. `language` stays the majority language.
   */
  languages?: LanguageShare[];
}

export interface TranscriptWord {
  word: string;
  start: number;
  end: number;
  speaker_id: string | null;
  /** A vocabulary filter with `filter-method=tag` matched this word (Amazon Transcribe's flag); absent otherwise. */
  vocabulary_filter_match?: boolean;
  /** The language of the segment the word was heard in (ISO 639-1), when the provider said one. */
  language?: string;
}

export interface TranscriptSegment {
  id: number;
  start: number;
  end: number;
  text: string;
  speaker_id: string | null;
  /** Its words' language (an utterance never spans two), when they have one. */
  language?: string;
}

/** An utterance as the job table stores it: the segment, and its speaker's name where the label has one. */
export interface NamedSegment extends TranscriptSegment {
  speaker_name?: string;
}

export type OutputFormat = "json" | "verbose_json" | "text" | "srt" | "vtt";
export const OUTPUT_FORMATS: readonly OutputFormat[] = ["json", "verbose_json", "text", "srt", "vtt"];

/**
 * How each segment's local speaker labels map to global ones:
 * `map[segmentIndex][localLabel] = "SPEAKER_03"`. A plain object so it can be
 * stored as JSON between the linking and the stitching step.
 */
export type SpeakerMap = Record<number, Record<string, string>>;
