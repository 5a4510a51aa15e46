/**
 * What the stand-in model "hears": the true words of each located piece in upload time, by the edge
 * rule (a word cut by an edge counts only if more than half of it is inside), then the configured
 * imperfections of real models.
 */
import { SAMPLE_RATE } from "../audio/ffmpeg.js";
import type { Recording, TrueWord } from "../audio/recording.js";
import type { SeededRandom } from "../audio/seeded-random.js";
import type { LocatedPiece } from "./locator.js";
import { misdiarize } from "./misdiarize.js";
import { probability, type ProviderOptions } from "./options.js";
import { perturbWord } from "./perturb-word.js";
import { silenceHallucinations } from "./silence-hallucinations.js";

export interface HeardWord {
  word: string;
  start: number;
  end: number;
  /**
   * Identifies the voice the diarizer gives the word: the real one, so one voice gets one label in a
   * request whatever piece it is in, unless a noisy diarizer put the word's piece with another voice.
   */
  voice: string;
  /** The diarizer missed this word's piece: the word is transcribed but gets no speaker label. */
  unlabelled?: boolean;
  /** The truth's language label of the word (ISO 639-1); absent: English, and for invented words. */
  language?: string;
}

/** Whisper runs a word's end over the following pause by up to about this much. */
const MAX_STRETCH_SECONDS = 1.5;
/** A hallucination needs at least this much silence at the end. */
const HALLUCINATION_MIN_SILENCE = 1;

export function hearWords(
  pieces: LocatedPiece[],
  uploadSeconds: number,
  options: ProviderOptions,
  random: SeededRandom,
): HeardWord[] {
  const wordsPerPiece = pieces.map((piece) => wordsOfPiece(piece, options, random));
  misdiarize(pieces, wordsPerPiece, options, random);
  const heard = wordsPerPiece.flat();
  heard.sort((a, b) => a.start - b.start);
  for (const word of heard) {
    if (random.chance(probability(options.perturbWords))) word.word = perturbWord(word.word, random);
  }
  const invented = silenceHallucinations(heard, uploadSeconds, options, random);
  if (invented.length > 0) {
    heard.push(...invented);
    heard.sort((a, b) => a.start - b.start);
  }
  const lastSpeechEnd = heard.length > 0 ? heard[heard.length - 1].end : 0;
  if (options.stretchWordEnds) stretchEnds(heard, uploadSeconds);
  if (options.jitterSeconds > 0) jitter(heard, options.jitterSeconds, uploadSeconds, random);
  const silenceAtEnd = uploadSeconds - lastSpeechEnd;
  if (silenceAtEnd > HALLUCINATION_MIN_SILENCE && random.chance(probability(options.hallucinateTrailing))) {
    heard.push(...hallucination(lastSpeechEnd, uploadSeconds, heard[heard.length - 1], random));
  }
  return heard;
}

function wordsOfPiece(piece: LocatedPiece, options: ProviderOptions, random: SeededRandom): HeardWord[] {
  const shift = piece.offset / SAMPLE_RATE;
  const pieceStart = piece.uploadStart / SAMPLE_RATE;
  const pieceEnd = piece.uploadEnd / SAMPLE_RATE;
  const heard: HeardWord[] = [];
  for (const word of wordsOverlapping(piece.recording, pieceStart + shift, pieceEnd + shift)) {
    const start = word.start - shift;
    const end = word.end - shift;
    const inside = Math.min(end, pieceEnd) - Math.max(start, pieceStart);
    const clipped = {
      start: Math.max(start, pieceStart),
      end: Math.min(end, pieceEnd),
      voice: voiceOf(piece.recording, word),
      ...(word.language !== undefined ? { language: word.language } : {}),
    };
    if (inside * 2 > end - start) {
      heard.push({ word: word.word, ...clipped });
    } else if (inside > 0 && random.chance(probability(options.edgeHalfWords))) {
      // A model that hears a fragment writes a fragment.
      const letters = Math.max(1, Math.round((word.word.length * inside) / (end - start)));
      heard.push({ word: word.word.slice(0, letters), ...clipped });
    }
  }
  return heard;
}

/** Words are sorted by start, so a binary search finds the first candidate. */
function wordsOverlapping(recording: Recording, from: number, to: number): TrueWord[] {
  const words = recording.words;
  let low = 0;
  let high = words.length;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (words[middle].end <= from) low = middle + 1;
    else high = middle;
  }
  const found: TrueWord[] = [];
  for (let index = low; index < words.length && words[index].start < to; index++) {
    if (words[index].end > from) found.push(words[index]);
  }
  return found;
}

function voiceOf(recording: Recording, word: TrueWord): string {
  const voice = recording.speakerVoices?.[recording.speakers.indexOf(word.speaker)];
  return voice ?? `${recording.id}#${word.speaker}`;
}

function stretchEnds(words: HeardWord[], uploadSeconds: number): void {
  words.forEach((word, index) => {
    const next = words[index + 1];
    const limit = Math.min(next ? next.start : uploadSeconds, word.end + MAX_STRETCH_SECONDS, uploadSeconds);
    word.end = Math.max(word.end, limit);
  });
}

function jitter(words: HeardWord[], seconds: number, uploadSeconds: number, random: SeededRandom): void {
  const clamp = (value: number): number => Math.min(uploadSeconds, Math.max(0, value));
  for (const word of words) {
    word.start = clamp(word.start + random.between(-seconds, seconds));
    word.end = Math.max(word.start, clamp(word.end + random.between(-seconds, seconds)));
  }
}

/** Said in the voice of the last word before the silence (and as unlabelled, if that was). */
function hallucination(
  silenceStart: number,
  uploadSeconds: number,
  previous: HeardWord | undefined,
  random: SeededRandom,
): HeardWord[] {
  const start = silenceStart + Math.min(0.5, (uploadSeconds - silenceStart) / 4);
  const end = Math.min(uploadSeconds, start + 0.7);
  const speaker = { voice: previous?.voice ?? "silence", ...(previous?.unlabelled ? { unlabelled: true } : {}) };
  if (random.chance(0.5)) return [{ word: "you", start, end, ...speaker }];
  const middle = (start + end) / 2;
  return [
    { word: "Thank", start, end: middle, ...speaker },
    { word: "you.", start: middle, end, ...speaker },
  ];
}
