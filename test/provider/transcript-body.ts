/**
 * The provider's answer in Together's shapes: json ({text}), text, and verbose_json with segments,
 * words and (when diarizing) speaker_id and speaker_segments. A word the diarizer missed has no
 * speaker_id and is in no speaker segment.
 */
import type { SeededRandom } from "../audio/seeded-random.js";
import type { HeardWord } from "./hear-words.js";
import { assignSpeakerLabels } from "./speaker-labels.js";

export interface VerboseWord {
  word: string;
  start: number;
  end: number;
  speaker_id?: string;
}

export interface VerboseSegment {
  id: number;
  start: number;
  end: number;
  text: string;
  speaker_id?: string;
}

export interface SpeakerSegment {
  id: number;
  speaker_id: string;
  start: number;
  end: number;
  text: string;
  words: Array<VerboseWord & { id: number }>;
}

export interface VerboseBody {
  task: "transcribe" | "translate";
  language: string;
  duration: number;
  text: string;
  segments: VerboseSegment[];
  words?: VerboseWord[];
  speaker_segments?: SpeakerSegment[];
}

export interface VerboseRequest {
  task: "transcribe" | "translate";
  language: string;
  duration: number;
  includeWords: boolean;
  diarize: boolean;
  maxSpeakers?: number;
}

/** Whisper starts a new segment after a long pause or once a segment gets long. */
const SEGMENT_PAUSE_SECONDS = 1;
const SEGMENT_MAX_WORDS = 25;

export function textOf(words: HeardWord[]): string {
  return words.map((word) => word.word).join(" ");
}

export function verboseBody(words: HeardWord[], request: VerboseRequest, random: SeededRandom): VerboseBody {
  const labelled = words.filter((word) => !word.unlabelled);
  const labels = request.diarize ? assignSpeakerLabels(labelled.map((word) => word.voice), random, request.maxSpeakers) : undefined;
  const shaped: VerboseWord[] = words.map((word) => {
    const speakerId = labels && !word.unlabelled ? labels.get(word.voice) : undefined;
    return {
      word: word.word,
      start: round(word.start),
      end: round(word.end),
      ...(speakerId !== undefined ? { speaker_id: speakerId } : {}),
    };
  });
  const body: VerboseBody = {
    task: request.task,
    language: request.language,
    duration: round(request.duration),
    text: textOf(words),
    segments: segmentsOf(shaped, request.diarize),
  };
  if (request.includeWords || request.diarize) body.words = shaped;
  if (labels) body.speaker_segments = speakerSegmentsOf(shaped);
  return body;
}

function segmentsOf(words: VerboseWord[], bySpeaker: boolean): VerboseSegment[] {
  const groups = groupWords(words, (previous, word, group) =>
    word.start - previous.end > SEGMENT_PAUSE_SECONDS ||
    group.length >= SEGMENT_MAX_WORDS ||
    (bySpeaker && word.speaker_id !== previous.speaker_id),
  );
  return groups.map((group, id) => ({
    id,
    start: group[0].start,
    end: group[group.length - 1].end,
    text: group.map((word) => word.word).join(" "),
    ...(bySpeaker && group[0].speaker_id !== undefined ? { speaker_id: group[0].speaker_id } : {}),
  }));
}

/** Turns of labelled words; an unlabelled word ends a turn and belongs to none. Word ids index `words`. */
function speakerSegmentsOf(words: VerboseWord[]): SpeakerSegment[] {
  const numbered = words.map((word, id) => ({ id, ...word }));
  const groups = groupWords(numbered, (previous, word) => word.speaker_id !== previous.speaker_id);
  return groups
    .filter((group) => group[0].speaker_id !== undefined)
    .map((group, id) => ({
      id,
      speaker_id: group[0].speaker_id ?? "SPEAKER_00",
      start: group[0].start,
      end: group[group.length - 1].end,
      text: group.map((word) => word.word).join(" "),
      words: group,
    }));
}

function groupWords<Word extends VerboseWord>(
  words: Word[],
  startsNewGroup: (previous: Word, word: Word, group: Word[]) => boolean,
): Word[][] {
  const groups: Word[][] = [];
  for (const word of words) {
    const group = groups[groups.length - 1];
    if (group && !startsNewGroup(group[group.length - 1], word, group)) group.push(word);
    else groups.push([word]);
  }
  return groups;
}

/** Milliseconds, as real providers report. */
function round(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}
