import type { Transcript } from "../types.js";
import { roundMs } from "../words/round-time.js";

/** The OpenAI-compatible `json` answer: the text only. */
export function renderJson(t: Transcript): string {
  return JSON.stringify({ text: t.text });
}

/** The `verbose_json` answer, with times rounded to milliseconds. */
export function renderVerboseJson(t: Transcript): string {
  return JSON.stringify({
    text: t.text,
    language: t.language,
    duration: roundMs(t.duration),
    words: t.words.map((w) => ({ word: w.word, start: roundMs(w.start), end: roundMs(w.end), speaker_id: w.speaker_id })),
    segments: t.segments.map((s) => ({
      id: s.id,
      start: roundMs(s.start),
      end: roundMs(s.end),
      text: s.text,
      speaker_id: s.speaker_id,
    })),
    speakers: t.speakers,
  });
}
