import { z } from "zod";
import type { TextSpan, Word } from "../domain/types.js";
import { RetryableError } from "../errors.js";

/**
 * Provider answers, as Together documents them (and OpenAI-compatible
 * servers vary them): words may carry `speaker_id`, diarized answers add
 * `speaker_segments`, language is a code ("en") or a name ("english"), and
 * text-only models (Voxtral) return just `{ text }`.
 */
const wordSchema = z.object({
  word: z.string(),
  start: z.number(),
  end: z.number(),
  speaker_id: z.string().nullish(),
  speaker: z.string().nullish(),
});
const segmentSchema = z.object({
  start: z.number(),
  end: z.number(),
  text: z.string(),
  speaker_id: z.string().nullish(),
});
const responseSchema = z.object({
  text: z.string().nullish(),
  language: z.string().nullish(),
  duration: z.number().nullish(),
  words: z.array(wordSchema).nullish(),
  segments: z.array(segmentSchema).nullish(),
  speaker_segments: z
    .array(z.object({ speaker_id: z.string(), start: z.number(), end: z.number(), words: z.array(wordSchema).nullish() }))
    .nullish(),
});

export interface ProviderTranscription {
  text: string;
  language?: string;
  /** null: the model gave no word timestamps. */
  words: Word[] | null;
  spans: TextSpan[];
  speakers: string[];
}

/**
 * Turns a provider body into clean local-time data. Times outside the audio
 * are clamped, reversed ones repaired, so one odd word never sinks a job.
 */
export function parseProviderResponse(body: string, audioSeconds: number): ProviderTranscription {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    // A plain-text answer (response_format=text on some servers) is still a transcript.
    if (body.trim() && !body.trim().startsWith("{") && !body.trim().startsWith("<")) {
      return { text: body.trim(), words: null, spans: [{ start: 0, end: audioSeconds, text: body.trim() }], speakers: [] };
    }
    throw new RetryableError("provider_bad_response", "provider returned a body that is not JSON");
  }
  const parsed = responseSchema.safeParse(json);
  if (!parsed.success) {
    throw new RetryableError("provider_bad_response", `provider response has an unexpected shape: ${parsed.error.issues[0]?.message ?? "invalid"}`);
  }
  const r = parsed.data;
  const limit = audioSeconds + 1;
  const fix = (start: number, end: number): [number, number] | null => {
    if (!Number.isFinite(start) || !Number.isFinite(end)) return null;
    let s = Math.max(0, start);
    let e = Math.max(0, end);
    if (e < s) [s, e] = [e, s];
    if (s > limit) return null;
    return [s, Math.min(e, limit)];
  };

  const rawWords = r.words?.length
    ? r.words
    : r.speaker_segments?.flatMap((s) => (s.words ?? []).map((w) => ({ ...w, speaker_id: w.speaker_id ?? s.speaker_id })));
  let words: Word[] | null = null;
  if (rawWords && rawWords.length > 0) {
    words = [];
    for (const w of rawWords) {
      const times = fix(w.start, w.end);
      const text = w.word.trim();
      if (!times || !text) continue;
      const speaker = w.speaker_id ?? w.speaker ?? undefined;
      words.push({ word: text, start: times[0], end: times[1], ...(speaker ? { speaker } : {}) });
    }
    words.sort((a, b) => a.start - b.start);
  }

  const spans: TextSpan[] = [];
  for (const s of r.segments ?? []) {
    const times = fix(s.start, s.end);
    if (!times) continue;
    spans.push({ start: times[0], end: times[1], text: s.text.trim(), ...(s.speaker_id ? { speaker: s.speaker_id } : {}) });
  }
  const text = (r.text ?? spans.map((s) => s.text).join(" ")).trim();
  if (spans.length === 0 && text) spans.push({ start: 0, end: audioSeconds, text });
  // A model that sent text but no words is text-only, not silent.
  if (words && words.length === 0 && text) words = null;
  if (!words && !text) words = [];

  const speakers = [...new Set((words ?? []).map((w) => w.speaker).filter((s): s is string => Boolean(s)))].sort();
  return { text, language: r.language ?? undefined, words, spans, speakers };
}
