/**
 * A noisy diarizer on spliced uploads (probe clips): real diarizers handle short pieces from different
 * places badly. A piece may be missed (its words are transcribed but belong to no speaker turn) or put
 * with another voice of the same upload. Uploads the locator explains as one piece are left alone.
 */
import type { SeededRandom } from "../audio/seeded-random.js";
import type { HeardWord } from "./hear-words.js";
import type { LocatedPiece } from "./locator.js";
import { probability, type ProviderOptions } from "./options.js";

/** Neighbouring pieces this close to the same placement are one stretch of one recording. */
const SAME_PLACEMENT_SAMPLES = 160;

/**
 * wordsPerPiece[i] holds the words heard in pieces[i]; they are changed in place. Draws nothing when
 * both switches are off, so answers without them stay exactly as they were.
 */
export function misdiarize(
  pieces: LocatedPiece[],
  wordsPerPiece: HeardWord[][],
  options: ProviderOptions,
  random: SeededRandom,
): void {
  const unheard = probability(options.spliceUnheard);
  const confused = probability(options.spliceConfused);
  if (unheard === 0 && confused === 0) return;
  const groups = placementGroups(pieces, wordsPerPiece);
  if (groups.length < 2) return;
  const voices = [...new Set(groups.flat().map((word) => word.voice))];
  for (const words of groups) {
    const missed = unheard > 0 && random.chance(unheard);
    const misplaced = !missed && confused > 0 && random.chance(confused);
    if (words.length === 0) continue;
    if (missed) {
      for (const word of words) word.unlabelled = true;
    } else if (misplaced) {
      const own = mainVoice(words);
      const others = voices.filter((voice) => voice !== own);
      if (others.length === 0) continue;
      const other = random.pick(others);
      for (const word of words) word.voice = other;
    }
  }
}

/** Consecutive pieces with the same placement (a piece the locator split) count as one. */
function placementGroups(pieces: LocatedPiece[], wordsPerPiece: HeardWord[][]): HeardWord[][] {
  const groups: HeardWord[][] = [];
  pieces.forEach((piece, index) => {
    const previous = pieces[index - 1];
    const samePlacement =
      previous !== undefined &&
      previous.recording === piece.recording &&
      Math.abs(previous.offset - piece.offset) <= SAME_PLACEMENT_SAMPLES;
    if (samePlacement) groups[groups.length - 1].push(...wordsPerPiece[index]);
    else groups.push([...wordsPerPiece[index]]);
  });
  return groups;
}

/** The voice with the most words in the piece (the first of them on a tie). */
function mainVoice(words: HeardWord[]): string {
  const counts = new Map<string, number>();
  for (const word of words) counts.set(word.voice, (counts.get(word.voice) ?? 0) + 1);
  let best = words[0].voice;
  for (const [voice, count] of counts) if (count > (counts.get(best) ?? 0)) best = voice;
  return best;
}
