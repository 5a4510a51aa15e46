import type { Transcript } from "../../shared/domain/types.js";
import type { Recording } from "../audio/conversation.js";
import { alignWords, meanStartError, speakerAccuracy, speakerCount, wordErrorRate } from "./metrics.js";

export interface TranscriptScore {
  wer: number;
  meanStartError: number;
  speakerAccuracy: number;
  speakers: number;
  words: number;
}

/** How a stitched transcript compares with the truth its recording was built from. */
export function scoreTranscript(recording: Pick<Recording, "words">, transcript: Transcript): TranscriptScore {
  const pairs = alignWords(recording.words, transcript.words);
  return {
    wer: wordErrorRate(recording.words.map((w) => w.word), transcript.words.map((w) => w.word)),
    meanStartError: meanStartError(pairs),
    speakerAccuracy: speakerAccuracy(pairs),
    speakers: speakerCount(transcript.words),
    words: transcript.words.length,
  };
}
