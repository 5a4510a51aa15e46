import type { Transcript } from "../types.js";
import { buildCues } from "./captions.js";
import { formatTimestamp } from "./timestamp.js";

/**
 * SubRip. SRT has no speaker markup, so a diarized cue starts with the label
 * ("SPEAKER_00: "), counted in the line length. No cues is an empty file.
 */
export function renderSrt(t: Transcript): string {
  const cues = buildCues(t.words, { firstLinePrefix: (speaker) => (speaker === null ? "" : `${speaker}: `) });
  return cues
    .map((cue, i) => {
      const times = `${formatTimestamp(cue.start, ",")} --> ${formatTimestamp(cue.end, ",")}`;
      // A "-->" inside the text would read as a timing line to some players.
      const lines = cue.lines.map((line) => line.replace(/-->/g, "->"));
      return `${i + 1}\n${times}\n${lines.join("\n")}\n`;
    })
    .join("\n");
}
