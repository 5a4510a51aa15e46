/**
 * Cutting and splicing recordings while keeping the truth exact, e.g. to build what the chunker
 * uploads or a speaker "probe clip" spliced from several places.
 */
import { SAMPLE_RATE } from "./ffmpeg.js";
import type { Recording, TrueWord } from "./recording.js";

/**
 * What a perfect listener hears in [fromSeconds, toSeconds) of a recording, in local time:
 * a word cut by an edge counts only if more than half of it lies inside (the provider's rule too).
 * Times of a counted word are clipped to the window.
 */
export function expectedWords(recording: Pick<Recording, "words">, fromSeconds: number, toSeconds: number): TrueWord[] {
  const heard: TrueWord[] = [];
  for (const word of recording.words) {
    if (word.end <= fromSeconds || word.start >= toSeconds) continue;
    const inside = Math.min(word.end, toSeconds) - Math.max(word.start, fromSeconds);
    if (inside * 2 <= word.end - word.start) continue;
    heard.push({
      ...word,
      start: Math.max(word.start, fromSeconds) - fromSeconds,
      end: Math.min(word.end, toSeconds) - fromSeconds,
    });
  }
  return heard;
}

/** A stretch of a recording as a recording of its own; its truth follows expectedWords. */
export function sliceRecording(recording: Recording, fromSeconds: number, toSeconds: number): Recording {
  const from = Math.max(0, Math.round(fromSeconds * SAMPLE_RATE));
  const to = Math.min(recording.samples.length, Math.round(toSeconds * SAMPLE_RATE));
  return {
    ...recording,
    id: `${recording.id}[${fromSeconds}-${toSeconds}]`,
    samples: recording.samples.slice(from, to),
    words: expectedWords(recording, from / SAMPLE_RATE, to / SAMPLE_RATE),
    duration: (to - from) / SAMPLE_RATE,
  };
}

/** Recordings back to back, with optional digital silence between them; truth is shifted along. */
export function spliceRecordings(pieces: Recording[], gapSeconds = 0): Recording {
  const gap = Math.round(gapSeconds * SAMPLE_RATE);
  const length = pieces.reduce((sum, piece) => sum + piece.samples.length, 0) + gap * Math.max(0, pieces.length - 1);
  const samples = new Int16Array(length);
  const words: TrueWord[] = [];
  let at = 0;
  for (const piece of pieces) {
    samples.set(piece.samples, at);
    const shift = at / SAMPLE_RATE;
    for (const word of piece.words) words.push({ ...word, start: word.start + shift, end: word.end + shift });
    at += piece.samples.length + gap;
  }
  const speakers = [...new Set(pieces.flatMap((piece) => piece.speakers))];
  return {
    id: `splice(${pieces.map((piece) => piece.id).join("+")})`,
    sampleRate: SAMPLE_RATE,
    samples,
    words,
    speakers,
    duration: length / SAMPLE_RATE,
    // Generated conversations all map Sn to the same voice, so any piece's mapping holds for the splice.
    speakerVoices: pieces.find((piece) => piece.speakerVoices)?.speakerVoices,
  };
}
