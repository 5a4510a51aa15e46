import type { Transcript } from "../types.js";
import { speakerDisplayName } from "../speakers/speaker-names.js";

/**
 * Plain text. Diarized: one line per utterance, "SPEAKER_00: text" (or "Ada Lovelace: text" where the
 * label has a name), the shape people paste into notes. Otherwise one paragraph per utterance (they break
 * at pauses), separated by blank lines.
 */
export function renderText(t: Transcript): string {
  if (t.segments.length === 0) return t.text.length > 0 ? `${t.text}\n` : "";
  const diarized = t.segments.some((s) => s.speaker_id !== null);
  if (diarized) {
    return t.segments.map((s) => (s.speaker_id === null ? s.text : `${speakerDisplayName(t, s.speaker_id)}: ${s.text}`)).join("\n") + "\n";
  }
  return t.segments.map((s) => s.text).join("\n\n") + "\n";
}
