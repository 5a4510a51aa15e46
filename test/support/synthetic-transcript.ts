/**
 * A long transcript made up, not transcribed: for the viewer's benchmark and its smoke test, where only the
 * shape matters (words, times, turns, speakers), never what was said. Deterministic for a seed.
 *
 * Shape of a recorded meeting: speakers with unequal shares, many short turns ("yes", "okay, right") between
 * longer ones, about 2.8 words a second, common words far more common than rare ones (Zipf), so that a
 * search for "the" finds thousands of hits and one for a project name a few.
 */
import type { Transcript, TranscriptSegment, TranscriptWord } from "../../shared/domain/types.js";
import { globalSpeakerLabel } from "../../shared/domain/speakers/speaker-labels.js";
import { seededRandom } from "../audio/seeded-random.js";

const COMMON = ("the to and of a I that we it is you in this for on so be have what but not with are they " +
  "can do think just if was at as about like will all one there our know get would or yeah right okay " +
  "going more how which out need now up then time people also some because want work see really well").split(" ");
const TOPICAL = ("budget project team plan today tomorrow monday friday week report question answer idea " +
  "problem number data market customer product design review update deadline schedule office email call " +
  "share screen slide point issue risk cost price sales growth quarter target launch feature release " +
  "version test server contract partner manager meeting morning afternoon coffee travel weekend paper " +
  "london berlin roadmap hiring onboarding pipeline dashboard invoice vendor migration security audit " +
  "compliance analytics feedback survey prototype sprint backlog estimate forecast revenue margin churn").split(" ");
const NAMES = "Aurora Kestrel Halcyon Meridian".split(" ");

export interface SyntheticTranscriptSpec {
  seed: number;
  /** About this many words (the last turn is finished). */
  words: number;
  speakers: number;
  /** Times are scaled so the transcript lasts this long. */
  durationSeconds: number;
}

/** A 4-hour meeting: ~40k words, ~3000 turns, 4 speakers. */
export const FOUR_HOURS: SyntheticTranscriptSpec = { seed: 4, words: 40_000, speakers: 4, durationSeconds: 4 * 3600 };

export function syntheticTranscript(spec: SyntheticTranscriptSpec): Transcript {
  const rng = seededRandom(spec.seed);
  const random = () => rng.next();
  // Zipf-like pick from the common words, a topical word one time in five.
  const pickWord = (): string => {
    if (random() < 0.2) return TOPICAL[Math.floor(random() * TOPICAL.length)];
    if (random() < 0.005) return NAMES[Math.floor(random() * NAMES.length)];
    const rank = Math.floor(Math.pow(random(), 2.2) * COMMON.length);
    return COMMON[rank];
  };
  const shares = Array.from({ length: spec.speakers }, (_, i) => 1 / (i + 1.2));
  const total = shares.reduce((a, b) => a + b, 0);
  const pickSpeaker = (not: number): number => {
    for (;;) {
      let r = random() * total;
      let s = 0;
      while (r > shares[s] && s < shares.length - 1) r -= shares[s++];
      if (s !== not || spec.speakers === 1) return s;
    }
  };
  const turnLength = (): number => {
    const r = random();
    if (r < 0.35) return 1 + Math.floor(random() * 4);
    if (r < 0.9) return 5 + Math.floor(random() * 20);
    return 25 + Math.floor(random() * 40);
  };

  const words: TranscriptWord[] = [];
  const segments: TranscriptSegment[] = [];
  let at = 0.6;
  let speaker = -1;
  while (words.length < spec.words) {
    speaker = pickSpeaker(speaker);
    const label = globalSpeakerLabel(speaker);
    const count = turnLength();
    const first = words.length;
    for (let i = 0; i < count; i++) {
      let word = pickWord();
      if (i === 0) word = word[0].toUpperCase() + word.slice(1);
      if (i === count - 1) word += random() < 0.2 ? "?" : ".";
      else if (random() < 0.06) word += ",";
      const length = 0.12 + word.length * 0.045 + random() * 0.08;
      words.push({ word, start: at, end: at + length, speaker_id: label });
      at += length + 0.04 + random() * 0.16;
    }
    const turnWords = words.slice(first);
    segments.push({
      id: segments.length,
      start: turnWords[0].start,
      end: turnWords[turnWords.length - 1].end,
      text: turnWords.map((w) => w.word).join(" "),
      speaker_id: label,
    });
    at += 0.3 + random() * 1.2;
  }
  const scale = spec.durationSeconds / (at + 0.5);
  const round = (t: number) => Math.round(t * scale * 1000) / 1000;
  for (const w of words) Object.assign(w, { start: round(w.start), end: round(w.end) });
  for (const s of segments) Object.assign(s, { start: round(s.start), end: round(s.end) });
  return {
    text: segments.map((s) => s.text).join(" "),
    language: "en",
    duration: spec.durationSeconds,
    words,
    segments,
    speakers: Array.from({ length: spec.speakers }, (_, i) => globalSpeakerLabel(i)),
  };
}
