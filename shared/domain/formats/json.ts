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
  // As Amazon Transcribe's multi-language jobs: a language code on each item only when there is more than one.
  const mixed = (t.languages?.length ?? 0) > 1;
  const languageOf = (language: string | undefined) => (mixed && language !== undefined ? { language_code: language } : {});
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
      ...languageOf(w.language),
    })),
    segments: t.segments.map((s) => ({
      id: s.id,
      start: roundMs(s.start),
      end: roundMs(s.end),
      text: s.text,
      speaker_id: s.speaker_id,
      ...nameOf(s.speaker_id),
      ...languageOf(s.language),
    })),
    speakers: t.speakers,
    speaker_names: names,
    ...(t.languages?.length
      ? {
          language_codes: t.languages.map((l) => ({
            language_code: l.languageCode,
            duration_in_seconds: l.durationInSeconds,
            fraction: l.fraction,
          })),
        }
      : {}),
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
    z.object({
      word: z.string(),
      start: z.number(),
      end: z.number(),
      speaker_id: speakerId,
      vocabulary_filter_match: z.literal(true).optional(),
      language_code: z.string().optional(),
    }),
  ),
  segments: z.array(
    z.object({
      id: z.number().int().nonnegative(),
      start: z.number(),
      end: z.number(),
      text: z.string(),
      speaker_id: speakerId,
      language_code: z.string().optional(),
    }),
  ),
  speakers: z.array(z.string()),
  // Absent in files written before speakers had names.
  speaker_names: z.record(z.string(), z.string()).optional(),
  // Absent in files written before languages were kept, and when no segment's language was known.
  language_codes: z
    .array(z.object({ language_code: z.string(), duration_in_seconds: z.number(), fraction: z.number() }))
    .optional(),
});

/** Parses a stored `transcript.verbose.json`; throws (a ZodError) when it is not one. */
export function parseVerboseJson(text: string): Transcript {
  const parsed = verboseTranscriptSchema.parse(JSON.parse(text));
  const { speaker_names, language_codes, words, segments, ...rest } = parsed;
  // One language: the file names it once, not on every item.
  const sole = language_codes?.length === 1 ? language_codes[0].language_code : undefined;
  const withLanguage = <T extends { language_code?: string }>({ language_code, ...item }: T) => {
    const language = language_code ?? sole;
    return language === undefined ? item : { ...item, language };
  };
  const transcript: Transcript = {
    ...rest,
    words: words.map(withLanguage),
    segments: segments.map(withLanguage),
    ...(language_codes?.length
      ? { languages: language_codes.map((l) => ({ languageCode: l.language_code, durationInSeconds: l.duration_in_seconds, fraction: l.fraction })) }
      : {}),
  };
  return speaker_names && Object.keys(speaker_names).length > 0 ? { ...transcript, speaker_names } : transcript;
}
