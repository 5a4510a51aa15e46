import { z } from "zod";
import type { Transcript } from "../types.js";
import { roundMs } from "../words/round-time.js";

/** The OpenAI-compatible `json` answer: the text only. */
export function renderJson(t: Transcript): string {
  return JSON.stringify({ text: t.text });
}

/**
 * The `verbose_json` answer, with times rounded to milliseconds. Words and segments keep their label
 * (`speaker_id`) and add `speaker_name` where the label has a person's name; `speaker_names` maps each named
 * label to its name (empty when none has one).
 */
export function renderVerboseJson(t: Transcript): string {
  const names = t.speaker_names ?? {};
  const nameOf = (label: string | null) =>
    label !== null && Object.hasOwn(names, label) ? { speaker_name: names[label] } : {};
  return JSON.stringify({
    text: t.text,
    language: t.language,
    duration: roundMs(t.duration),
    words: t.words.map((w) => ({
      word: w.word,
      start: roundMs(w.start),
      end: roundMs(w.end),
      speaker_id: w.speaker_id,
      ...nameOf(w.speaker_id),
      ...(w.vocabulary_filter_match ? { vocabulary_filter_match: true } : {}),
    })),
    segments: t.segments.map((s) => ({
      id: s.id,
      start: roundMs(s.start),
      end: roundMs(s.end),
      text: s.text,
      speaker_id: s.speaker_id,
      ...nameOf(s.speaker_id),
    })),
    speakers: t.speakers,
    speaker_names: names,
  });
}

const speakerId = z.string().nullable();

/**
 * Our own `verbose_json` file, read back (a rename renders every output again from it). Times are the
 * file's, rounded to milliseconds, which is all any output shows; the per-word and per-segment names are
 * dropped, since `speaker_names` says the same. Unknown fields are dropped.
 */
export const verboseTranscriptSchema = z.object({
  text: z.string(),
  language: z.string().nullable(),
  duration: z.number().nonnegative(),
  words: z.array(
    z.object({ word: z.string(), start: z.number(), end: z.number(), speaker_id: speakerId, vocabulary_filter_match: z.literal(true).optional() }),
  ),
  segments: z.array(
    z.object({ id: z.number().int().nonnegative(), start: z.number(), end: z.number(), text: z.string(), speaker_id: speakerId }),
  ),
  speakers: z.array(z.string()),
  // Absent in files written before speakers had names.
  speaker_names: z.record(z.string(), z.string()).optional(),
});

/** Parses a stored `transcript.verbose.json`; throws (a ZodError) when it is not one. */
export function parseVerboseJson(text: string): Transcript {
  const parsed = verboseTranscriptSchema.parse(JSON.parse(text));
  const { speaker_names, ...rest } = parsed;
  return speaker_names && Object.keys(speaker_names).length > 0 ? { ...rest, speaker_names } : rest;
}
