import type { Transcript } from "../types.js";
import { speakerDisplayName } from "../speakers/speaker-names.js";
import { buildCues } from "./captions.js";
import { formatTimestamp } from "./timestamp.js";

/**
 * The most characters of a name an SRT cue starts with: the prefix counts toward the 42-character line, so a
 * long name (up to 64) is shortened with an ellipsis rather than pushing the text out of the cue.
 */
export const SRT_NAME_MAX_CHARS = 24;

/**
 * SubRip. SRT has no speaker markup, so a diarized cue starts with the speaker's name, or its label where it
 * has none ("SPEAKER_00: "), counted in the line length. No cues is an empty file.
 */
export function renderSrt(t: Transcript): string {
  const cues = buildCues(t.words, {
    firstLinePrefix: (speaker) => (speaker === null ? "" : `${shorten(speakerDisplayName(t, speaker))}: `),
  });
  return cues
    .map((cue, i) => {
      const times = `${formatTimestamp(cue.start, ",")} --> ${formatTimestamp(cue.end, ",")}`;
      // A "-->" inside the text would read as a timing line to some players.
      const lines = cue.lines.map((line) => line.replace(/-->/g, "->"));
      return `${i + 1}\n${times}\n${lines.join("\n")}\n`;
    })
    .join("\n");
}

function shorten(name: string): string {
  const letters = [...name];
  return letters.length <= SRT_NAME_MAX_CHARS ? name : `${letters.slice(0, SRT_NAME_MAX_CHARS - 1).join("").trimEnd()}…`;
}
