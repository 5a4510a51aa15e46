import { languageShares } from "../languages/language-shares.js";
import type { CutSegment, SegmentResult, SpeakerMap, Transcript, TranscriptWord } from "../types.js";
import { stitchSegments } from "../stitching/stitch.js";
import { groupUtterances } from "../stitching/utterances.js";
import { majorityLanguage } from "../stitching/majority-language.js";
import { compareSpeakerLabels, globalSpeakerLabel } from "../speakers/speaker-labels.js";

/** A segment of one channel's lane: `channel` absent is channel 0 (and every segment of a mono job). */
type LaneSegment = CutSegment & { channel?: number };

/** The channel (lane) a segment's audio was taken from. */
export function laneOf(result: Pick<SegmentResult, "segment">): number {
  return (result.segment as LaneSegment).channel ?? 0;
}

export interface ChannelStitchOptions {
  /** Length of the whole recording, seconds. */
  duration: number;
  /** The job's `channels`: channel n is called names[n]. */
  names: readonly string[];
  /** Diarize inside each channel (only when `diarize=true` was given with `channels`). */
  diarize: boolean;
  /** The settled speaker book's map (diarized jobs): links each channel's voices across its segments. */
  speakerMap?: SpeakerMap;
}

/**
 * A channel job's transcript: each lane stitched on its own by the ordinary stitch (its overlaps resolved,
 * its times tidied, its own voices linked by the overlaps when diarized), then the lanes merged by time.
 */
export function stitchChannels(results: readonly SegmentResult[], opts: ChannelStitchOptions): Transcript {
  const lanes = opts.names.map((_, channel) =>
    stitchSegments(
      results.filter((r) => laneOf(r) === channel),
      { duration: opts.duration, diarize: opts.diarize, speakerMap: opts.speakerMap },
    ),
  );
  return { ...mergeLanes(lanes, opts.names, opts.duration), language: majorityLanguage(results) };
}

/**
 * Merges per-channel transcripts into one, by word start (a tie keeps channel order). Cross-talk keeps both
 * sides: two channels' words that overlap in time all stay, interleaved by start, each with its own times
 * (times are not tidied again across lanes: a word's end is clamped only by the next word of its channel).
 *
 * Labels run SPEAKER_00.. in channel order, one per channel (so channel n is SPEAKER_0n when no channel is
 * diarized), or one per voice of a diarized channel; `speaker_names` gives each its channel's name, or
 * `agent 1`, `agent 2`... for a channel that holds more than one voice. A channel with no words keeps its
 * number but is not among `speakers`.
 */
export function mergeLanes(lanes: readonly Transcript[], names: readonly string[], duration: number): Transcript {
  let next = 0;
  const labelled: Array<{ word: TranscriptWord; channel: number }> = [];
  const named: Record<string, string> = {};
  lanes.forEach((lane, channel) => {
    // A lane without diarization has one voice (null labels); a diarized one has its own SPEAKER_nn.
    const voices: Array<string | null> = lane.speakers.length > 0 ? [...lane.speakers].sort(compareSpeakerLabels) : [null];
    const labelOf = new Map<string | null, string>();
    for (const voice of voices) {
      const label = globalSpeakerLabel(next++);
      labelOf.set(voice, label);
      named[label] = voices.length > 1 ? `${names[channel]} ${labelOf.size}` : names[channel];
    }
    for (const word of lane.words) {
      const label = labelOf.get(word.speaker_id) ?? labelOf.get(voices[0])!;
      labelled.push({ word: { ...word, speaker_id: label }, channel });
    }
  });
  labelled.sort((a, b) => a.word.start - b.word.start || a.channel - b.channel);
  const words = labelled.map(({ word }) => word);
  const speakers = [...new Set(words.map((w) => w.speaker_id as string))].sort(compareSpeakerLabels);
  // Each lane's words carry their segment's language; the shares are over the merged words, as for one lane.
  const shares = languageShares(words);
  return {
    text: words.map((w) => w.word).join(" "),
    language: lanes.find((lane) => lane.language !== null)?.language ?? null,
    duration,
    words,
    segments: groupUtterances(words),
    speakers,
    speaker_names: Object.fromEntries(speakers.map((label) => [label, named[label]])),
    ...(shares.length > 0 ? { languages: shares } : {}),
  };
}
