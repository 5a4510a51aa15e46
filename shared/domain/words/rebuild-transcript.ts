import type { Transcript, TranscriptWord } from "../types.js";
import { groupUtterances } from "../stitching/utterances.js";

/**
 * The transcript with other words (a post-pass changed, removed or joined some): its text and utterances
 * made again from them the way the stitcher makes them; language, duration, speakers and names kept.
 */
export function withWords(t: Transcript, words: readonly TranscriptWord[]): Transcript {
  return { ...t, text: words.map((w) => w.word).join(" "), words: [...words], segments: groupUtterances(words) };
}
