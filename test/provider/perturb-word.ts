/**
 * Hearing a word slightly differently, the way real transcripts of the same audio differ between
 * overlapping chunks: capitalised, with punctuation, or as a homophone. Stitching must survive this.
 */
import type { SeededRandom } from "../audio/seeded-random.js";

const HOMOPHONES: Record<string, string> = {
  right: "write",
  week: "weak",
  meet: "meat",
  two: "too",
  four: "for",
  know: "no",
  here: "hear",
  there: "their",
  okay: "OK",
  email: "e-mail",
  monday: "Monday",
  friday: "Friday",
  london: "London",
  berlin: "Berlin",
};

export function perturbWord(word: string, random: SeededRandom): string {
  const homophone = HOMOPHONES[word.toLowerCase()];
  const roll = random.next();
  if (homophone && roll < 0.5) return homophone;
  if (roll < 0.7) return word.charAt(0).toUpperCase() + word.slice(1);
  return word + random.pick([",", ".", "?"]);
}
