import type { SegmentResult, SpeakerMap, Transcript, TranscriptWord } from "../types.js";
import { resolveOverlaps } from "./resolve-overlaps.js";
import { linkSpeakers } from "../speakers/link-speakers.js";
import type { PlacedWord } from "../words/segment-words.js";
import { tidyWordTimes } from "../words/word-times.js";
import { groupUtterances } from "./utterances.js";
import { majorityLanguage } from "./majority-language.js";
import { languageShares, segmentLanguages } from "../languages/language-shares.js";
import { compareSpeakerLabels, globalSpeakerLabel } from "../speakers/speaker-labels.js";

export interface StitchOptions {
  /** Length of the whole recording, seconds. */
  duration: number;
  /** False: every speaker_id is null, whatever the provider returned. */
  diarize: boolean;
  /** From the settled speaker book (limited to the job's speaker counts); overlap links alone when absent. */
  speakerMap?: SpeakerMap;
  /**
   * Label of `speakerMap` (one of its values) -> the person's name (speakers/speaker-names.ts): the
   * transcript's `speaker_names`, under the labels the stitch gives those speakers.
   */
  speakerNames?: Readonly<Record<string, string>>;
}

/**
 * Joins the per-segment results into one transcript: words moved to global
 * time, each spoken word taken once (see resolveOverlaps), speaker labels made
 * global, times tidied, utterances grouped. Global labels are renumbered in
 * order of first appearance in the final words, so they run SPEAKER_00.. without gaps.
 */
export function stitchSegments(results: readonly SegmentResult[], opts: StitchOptions): Transcript {
  const { words: placed, alignments } = resolveOverlaps(results);
  const map = opts.diarize ? (opts.speakerMap ?? linkSpeakers(results, alignments).map) : undefined;
  const renamed = new Map<string, string>();
  const speakers = map ? renumberByAppearance(fillGaps(placed.map((w) => globalSpeaker(w, map))), renamed) : placed.map(() => null);

  // Each word is in the language its segment was heard in: one per provider request (segmentLanguages).
  const languages = segmentLanguages(results);
  const words: TranscriptWord[] = tidyWordTimes(
    placed.map((w, i) => ({ word: w.word, start: w.start, end: w.end, speaker_id: speakers[i], ...languages.of(w.index) })),
    opts.duration,
  );
  const shares = languageShares(words);
  const transcript: Transcript = {
    text: words.map((w) => w.word).join(" "),
    language: majorityLanguage(results),
    duration: opts.duration,
    words,
    segments: groupUtterances(words),
    speakers: [...new Set(words.flatMap((w) => (w.speaker_id === null ? [] : [w.speaker_id])))].sort(compareSpeakerLabels),
    ...(shares.length > 0 ? { languages: shares } : {}),
  };
  if (opts.speakerNames === undefined) return transcript;
  const named: Record<string, string> = {};
  for (const [from, label] of renamed) {
    if (Object.hasOwn(opts.speakerNames, from) && transcript.speakers.includes(label)) named[label] = opts.speakerNames[from];
  }
  return { ...transcript, speaker_names: named };
}

function globalSpeaker(word: PlacedWord, map: SpeakerMap): string | null {
  if (word.localSpeaker === null) return null;
  // A label the map does not know still names someone; keep it apart from everyone else.
  return map[word.index]?.[word.localSpeaker] ?? `unmapped:${word.index}:${word.localSpeaker}`;
}

/** A word the provider left unlabelled belongs to the turn around it. */
function fillGaps(speakers: ReadonlyArray<string | null>): Array<string | null> {
  const filled = [...speakers];
  for (let i = 1; i < filled.length; i++) filled[i] ??= filled[i - 1];
  for (let i = filled.length - 2; i >= 0; i--) filled[i] ??= filled[i + 1];
  return filled;
}

/** `renamed` receives each label's new one. */
function renumberByAppearance(speakers: ReadonlyArray<string | null>, renamed: Map<string, string>): Array<string | null> {
  return speakers.map((s) => {
    if (s === null) return null;
    if (!renamed.has(s)) renamed.set(s, globalSpeakerLabel(renamed.size));
    return renamed.get(s) as string;
  });
}
