import type { TranscriptSegment, TranscriptWord } from "../types.js";

export interface UtteranceOptions {
  /** A silence longer than this starts a new utterance. Default 1.5 s. */
  maxPauseSeconds?: number;
  /** No utterance runs longer than this. Default 30 s. */
  maxSeconds?: number;
}

/**
 * Groups words into utterances: a speaker's turn, split at long pauses, where the language changes (a
 * segment heard in another one), and before it grows past the length a reader (or a subtitle editor) can follow.
 */
export function groupUtterances(words: readonly TranscriptWord[], opts: UtteranceOptions = {}): TranscriptSegment[] {
  const maxPause = opts.maxPauseSeconds ?? 1.5;
  const maxSeconds = opts.maxSeconds ?? 30;
  const groups: TranscriptWord[][] = [];
  for (const w of words) {
    const current = groups[groups.length - 1];
    const last = current?.[current.length - 1];
    const continues =
      last !== undefined &&
      w.speaker_id === last.speaker_id &&
      w.language === last.language &&
      w.start - last.end <= maxPause &&
      w.end - current[0].start <= maxSeconds;
    if (continues) current.push(w);
    else groups.push([w]);
  }
  return groups.map((group, id) => ({
    id,
    start: group[0].start,
    end: group[group.length - 1].end,
    text: group.map((w) => w.word).join(" "),
    speaker_id: group[0].speaker_id,
    ...(group[0].language !== undefined ? { language: group[0].language } : {}),
  }));
}
