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

/** An endless stream of turns; the builder stops taking turns when the duration is filled. */
export function* planTurns(style: ConversationStyle, voices: number, random: SeededRandom): Generator<PlannedTurn> {
  if (style === "lecture") yield* lectureTurns(voices, random);
  else if (style === "meeting") yield* meetingTurns(voices, random);
  else yield* quickTurns(voices, random);
}

function* quickTurns(voices: number, random: SeededRandom): Generator<PlannedTurn> {
  let previous = -1;
  for (;;) {
    const speaker = nextSpeaker(voices, previous, random, () => 1);
    previous = speaker;
    yield { speaker, words: random.int(1, 6) };
  }
}

function* meetingTurns(voices: number, random: SeededRandom): Generator<PlannedTurn> {
  // Meetings have talkative and quiet people; weights stay fixed for the whole meeting.
  const talkativeness = Array.from({ length: voices }, () => random.between(0.5, 3));
  let previous = -1;
  for (;;) {
    const speaker = nextSpeaker(voices, previous, random, (index) => talkativeness[index]);
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
): number {
  if (voices === 1) return 0;
  const candidates = Array.from({ length: voices }, (_, index) => index).filter((index) => index !== previous);
  const total = candidates.reduce((sum, index) => sum + weightOf(index), 0);
  let target = random.next() * total;
  for (const index of candidates) {
    target -= weightOf(index);
    if (target < 0) return index;
  }
  return candidates[candidates.length - 1];
}
