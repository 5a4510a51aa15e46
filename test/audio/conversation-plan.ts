/**
 * Who speaks next and for how many words, per conversation style. Pure and seeded; conversation.ts
 * turns the plan into samples.
 */
import type { SeededRandom } from "./seeded-random.js";

export type ConversationStyle = "quick-turns" | "meeting" | "lecture";

export interface PlannedTurn {
  /** 0-based speaker index (S1 is 0). */
  speaker: number;
  words: number;
}

/**
 * Whether a speaker is away at the moment the next turn is drawn (the builder knows the time). Absent
 * speakers are not drawn when someone else can speak; turns the builder still gets for an absent
 * speaker (lecture, or nobody else left) it skips.
 */
export type IsAbsent = (speaker: number) => boolean;

const NOBODY_ABSENT: IsAbsent = () => false;

/** An endless stream of turns; the builder stops taking turns when the duration is filled. */
export function* planTurns(
  style: ConversationStyle,
  voices: number,
  random: SeededRandom,
  isAbsent: IsAbsent = NOBODY_ABSENT,
): Generator<PlannedTurn> {
  if (style === "lecture") yield* lectureTurns(voices, random);
  else if (style === "meeting") yield* meetingTurns(voices, random, isAbsent);
  else yield* quickTurns(voices, random, isAbsent);
}

function* quickTurns(voices: number, random: SeededRandom, isAbsent: IsAbsent): Generator<PlannedTurn> {
  let previous = -1;
  for (;;) {
    const speaker = nextSpeaker(voices, previous, random, () => 1, isAbsent);
    previous = speaker;
    yield { speaker, words: random.int(1, 6) };
  }
}

function* meetingTurns(voices: number, random: SeededRandom, isAbsent: IsAbsent): Generator<PlannedTurn> {
  // Meetings have talkative and quiet people; weights stay fixed for the whole meeting.
  const talkativeness = Array.from({ length: voices }, () => random.between(0.5, 3));
  let previous = -1;
  for (;;) {
    const speaker = nextSpeaker(voices, previous, random, (index) => talkativeness[index], isAbsent);
    previous = speaker;
    // Mostly short contributions, sometimes a long explanation.
    yield { speaker, words: 3 + Math.floor(37 * random.next() ** 2) };
  }
}

function* lectureTurns(voices: number, random: SeededRandom): Generator<PlannedTurn> {
  for (;;) {
    // About 2-4 minutes of the lecturer, then maybe a short question from someone else.
    yield { speaker: 0, words: random.int(180, 360) };
    if (voices > 1 && random.chance(0.8)) yield { speaker: random.int(1, voices - 1), words: random.int(4, 12) };
  }
}

function nextSpeaker(
  voices: number,
  previous: number,
  random: SeededRandom,
  weightOf: (speaker: number) => number,
  isAbsent: IsAbsent,
): number {
  if (voices === 1) return 0;
  const everyone = Array.from({ length: voices }, (_, index) => index);
  const present = everyone.filter((index) => !isAbsent(index));
  // The usual rule (anyone but the previous speaker), among those present; if only the previous
  // speaker is present they go on; if nobody is, the builder skips ahead.
  const others = present.filter((index) => index !== previous);
  const candidates =
    others.length > 0 ? others : present.length > 0 ? present : everyone.filter((index) => index !== previous);
  const total = candidates.reduce((sum, index) => sum + weightOf(index), 0);
  let target = random.next() * total;
  for (const index of candidates) {
    target -= weightOf(index);
    if (target < 0) return index;
  }
  return candidates[candidates.length - 1];
}
