import type { Transcript } from "../types.js";
import { speakerDisplayName } from "../speakers/speaker-names.js";
import { buildCues } from "./captions.js";
import { formatTimestamp } from "./timestamp.js";

/**
 * WebVTT, with the speaker as a voice span (<v SPEAKER_00>, or <v Ada Lovelace> where the label has a name),
 * which players can style or announce; in a transcript of more than one language, each cue's text is in a
 * language span (<lang de>…</lang>).
 */
export function renderVtt(t: Transcript): string {
  const mixed = (t.languages?.length ?? 0) > 1;
  const cues = buildCues(t.words).map((cue) => {
    const times = `${formatTimestamp(cue.start, ".")} --> ${formatTimestamp(cue.end, ".")}`;
    const lines = cue.lines.map(escapeCueText);
    // A transcript in more than one language says each cue's in a language span (<lang de>…</lang>).
    if (mixed && cue.language !== undefined && lines.length > 0) {
      lines[0] = `<lang ${escapeCueText(cue.language)}>${lines[0]}`;
      lines[lines.length - 1] = `${lines[lines.length - 1]}</lang>`;
    }
    if (cue.speaker !== null) lines[0] = `<v ${escapeCueText(speakerDisplayName(t, cue.speaker))}>${lines[0]}`;
    return `${times}\n${lines.join("\n")}\n`;
  });
  return ["WEBVTT\n", ...cues].join("\n");
}

/**
 * Cue text is markup: &, < and > must be escaped, which also keeps "-->" out of it. The same holds for a
 * voice span's annotation (a name): a ">" in it would end the tag, a "<" or "&" start markup.
 */
function escapeCueText(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}
