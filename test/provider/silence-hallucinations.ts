/**
 * What Whisper-like models write where nothing is said: a short stock phrase inside a pause
 * ("Thank you.", "Thanks for watching!"), and on long silence or non-speech a loop that repeats the
 * last thing heard over and over. Both are placed inside the silence they fill.
 */
import type { SeededRandom } from "../audio/seeded-random.js";
import type { HeardWord } from "./hear-words.js";
import { probability, type ProviderOptions } from "./options.js";

/** A pause needs at least this long to attract a stock phrase. */
export const SILENCE_HALLUCINATION_MIN_SECONDS = 2;
/** Silence or unknown sound this long can make the model loop. */
export const REPETITION_LOOP_MIN_SECONDS = 5;
export const STOCK_PHRASES = ["Thank you.", "you", "Thanks for watching!", "Thank you for watching.", "Bye.", "Thank you very much."];
/** Stock phrases come at about this pace, seconds per word. */
const PHRASE_SECONDS_PER_WORD = 0.35;
/** Kept clear at both ends of a silence. */
const MARGIN_SECONDS = 0.3;

interface Silence {
  start: number;
  end: number;
  /** Words heard before the silence (index of the first word after it). */
  wordsBefore: number;
}

/**
 * New words for the silences of an upload; `heard` must be sorted by start and is not changed.
 * Draws nothing when both switches are off.
 */
export function silenceHallucinations(
  heard: HeardWord[],
  uploadSeconds: number,
  options: ProviderOptions,
  random: SeededRandom,
): HeardWord[] {
  const phraseChance = probability(options.hallucinateSilence);
  const loopChance = probability(options.repetitionLoops);
  if ((phraseChance === 0 && loopChance === 0) || heard.length === 0) return [];
  const { internal, trailing } = silencesOf(heard, uploadSeconds);
  const added: HeardWord[] = [];

  let looped: Silence | undefined;
  const loopable = [...internal, ...(trailing ? [trailing] : [])].filter(
    (silence) => silence.end - silence.start >= REPETITION_LOOP_MIN_SECONDS,
  );
  if (loopChance > 0 && loopable.length > 0 && random.chance(loopChance)) {
    looped = loopable.length === 1 ? loopable[0] : random.pick(loopable);
    added.push(...repetitionLoop(heard, looped, random));
  }
  if (phraseChance > 0) {
    for (const silence of internal) {
      if (silence === looped || silence.end - silence.start < SILENCE_HALLUCINATION_MIN_SECONDS) continue;
      if (random.chance(phraseChance)) added.push(...stockPhrase(heard[silence.wordsBefore - 1], silence, random));
    }
  }
  return added;
}

/** Pauses between heard words, and the silence after the last one. */
function silencesOf(heard: HeardWord[], uploadSeconds: number): { internal: Silence[]; trailing?: Silence } {
  const internal: Silence[] = [];
  let speechEnd = heard[0].end;
  for (let index = 1; index < heard.length; index++) {
    if (heard[index].start > speechEnd) internal.push({ start: speechEnd, end: heard[index].start, wordsBefore: index });
    speechEnd = Math.max(speechEnd, heard[index].end);
  }
  const trailing = uploadSeconds > speechEnd ? { start: speechEnd, end: uploadSeconds, wordsBefore: heard.length } : undefined;
  return { internal, trailing };
}

function stockPhrase(previous: HeardWord, silence: Silence, random: SeededRandom): HeardWord[] {
  const texts = random.pick(STOCK_PHRASES).split(" ");
  const room = silence.end - silence.start - 2 * MARGIN_SECONDS;
  const duration = Math.min(room, texts.length * PHRASE_SECONDS_PER_WORD);
  const start = silence.start + MARGIN_SECONDS + random.between(0, room - duration);
  return spread(texts.map((word) => ({ word, voice: previous.voice, unlabelled: previous.unlabelled })), start, start + duration, 1);
}

function repetitionLoop(heard: HeardWord[], silence: Silence, random: SeededRandom): HeardWord[] {
  const phraseLength = Math.min(random.int(2, 6), silence.wordsBefore);
  const phrase = heard.slice(silence.wordsBefore - phraseLength, silence.wordsBefore);
  const repeats = random.int(4, 10);
  const margin = Math.min(MARGIN_SECONDS, (silence.end - silence.start) / 10);
  const source = phrase.map(({ word, voice, unlabelled }) => ({ word, voice, unlabelled }));
  return spread(source, silence.start + margin, silence.end - margin, repeats);
}

/** The phrase `times` times in a row, each word in an equal share of [from, to). */
function spread(
  phrase: Array<Pick<HeardWord, "word" | "voice" | "unlabelled">>,
  from: number,
  to: number,
  times: number,
): HeardWord[] {
  const count = phrase.length * times;
  const slot = (to - from) / count;
  return Array.from({ length: count }, (_, index): HeardWord => {
    const { word, voice, unlabelled } = phrase[index % phrase.length];
    const start = from + index * slot;
    return { word, start, end: start + slot * 0.9, voice, ...(unlabelled ? { unlabelled } : {}) };
  });
}
