import { describe, expect, it } from "vitest";
import { settleSpeakers } from "../../shared/domain/speakers/settle-speakers.js";
import { emptyBook, type SpeakerBook } from "../../shared/domain/speakers/speaker-book.js";
import { cutScript, fakeDiarizer, scriptWords, settledAccuracy, type ScriptedWord } from "../support/fake-diarizer.js";
import { seededRandom } from "../audio/seeded-random.js";

/** A seeded meeting: `voices` voices, turns of 3-12 words, optionally one voice away over a stretch of turns. */
function meeting(seed: number, turns: number, voices: string[], away?: { voice: string; from: number; to: number }): ScriptedWord[] {
  const random = seededRandom(seed);
  const script: Array<[string, number]> = [];
  let previous = "";
  for (let t = 0; t < turns; t++) {
    const present = voices.filter((v) => v !== previous && !(away && v === away.voice && t >= away.from && t < away.to));
    const voice = random.pick(present);
    script.push([voice, random.int(3, 12)]);
    previous = voice;
  }
  return scriptWords(script);
}

/** Settles a script step by step, as segments would finish: `steps` consecutive runs. */
async function settleInSteps(script: ReturnType<typeof cutScript>, ask: Parameters<typeof settleSpeakers>[2], steps: number[]): Promise<SpeakerBook> {
  let book = emptyBook();
  for (const to of steps) {
    const from = book.settled;
    const slice = script.results.filter((r) => r.index >= Math.max(0, from - 1) && r.index < to);
    book = (await settleSpeakers(book, slice, ask)).book;
  }
  return book;
}

describe("settleSpeakers", () => {
  it("links labels through overlap words without asking the diarizer", async () => {
    // Prepare: two voices in quick turns, so both talk in every 8 s overlap
    const words = scriptWords(Array.from({ length: 60 }, (_, i): [string, number] => [i % 2 ? "B" : "A", 3]));
    const script = cutScript(words, 20, 8);
    const diarizer = fakeDiarizer(script, words);

    // Act
    const { book, report } = await settleSpeakers(emptyBook(), script.results, diarizer.ask);

    // Assess
    expect(settledAccuracy(script, book.map)).toEqual({ accuracy: 1, voices: 2 });
    expect(report.byOverlap + report.newVoices).toBeGreaterThan(0);
    expect(diarizer.asks()).toBe(0);
  });

  it("recognises a voice that was away for many segments instead of making it a new one", async () => {
    // Prepare: no overlap, so every segment's labels must be told by probes; C is away for turns 4-40
    const words = meeting(3, 60, ["A", "B", "C"], { voice: "C", from: 4, to: 40 });
    const script = cutScript(words, 25, 0);
    const diarizer = fakeDiarizer(script, words);

    // Act
    const { book } = await settleSpeakers(emptyBook(), script.results, diarizer.ask);

    // Assess
    expect(settledAccuracy(script, book.map)).toEqual({ accuracy: 1, voices: 3 });
  });

  it("gives a voice first heard mid-recording a voice of its own", async () => {
    // Prepare: D joins at turn 30
    const words = meeting(4, 50, ["A", "B", "C", "D"], { voice: "D", from: 0, to: 30 });
    const script = cutScript(words, 25, 0);

    // Act
    const book = await settleInSteps(script, fakeDiarizer(script, words).ask, [3, 10, 11, script.results.length]);

    // Assess
    expect(settledAccuracy(script, book.map)).toEqual({ accuracy: 1, voices: 4 });
  });

  it("holds with a diarizer that misses 15 % of the pieces and misplaces 5 %", async () => {
    // Prepare: an hour-like run of segments, four voices, one away for a long stretch
    const words = meeting(5, 260, ["A", "B", "C", "D"], { voice: "D", from: 40, to: 170 });
    const script = cutScript(words, 30, 0);
    const diarizer = fakeDiarizer(script, words, { unheard: 0.15, confused: 0.05, seed: 11 });

    // Act: settled as segments would finish, in uneven steps
    const steps = [1, 4, 9, 20, 21, 35, 50, 64, script.results.length].filter((s) => s <= script.results.length);
    const book = await settleInSteps(script, diarizer.ask, steps);

    // Assess
    const { accuracy, voices } = settledAccuracy(script, book.map);
    expect(voices).toBe(4);
    expect(accuracy).toBeGreaterThanOrEqual(0.98);
  });

  it("falls back to exclusion, with a note, when the diarizer never answers", async () => {
    // Prepare
    const words = meeting(6, 30, ["A", "B"]);
    const script = cutScript(words, 25, 0);
    const diarizer = fakeDiarizer(script, words, { fail: "provider answered 503" });

    // Act
    const { book, report } = await settleSpeakers(emptyBook(), script.results, diarizer.ask);

    // Assess: nothing left unsettled, no voice invented, the reason kept, and no round asked after a silent one
    expect(Object.keys(book.map)).toHaveLength(script.results.length);
    expect(diarizer.asks()).toBe(report.probes);
    expect(report.probes).toBeLessThanOrEqual(Math.ceil(report.heads / 4));
    expect(settledAccuracy(script, book.map).voices).toBeLessThanOrEqual(2);
    expect(report.fallbacks).toBeGreaterThan(0);
    expect(book.notes.some((n) => n.includes("503"))).toBe(true);
    expect(book.weak.length).toBeGreaterThan(0);
  });

  it("settles the same way in one step or in several", async () => {
    // Prepare
    const words = meeting(8, 40, ["A", "B", "C"]);
    const script = cutScript(words, 25, 0);

    // Act
    const whole = (await settleSpeakers(emptyBook(), script.results, fakeDiarizer(script, words).ask)).book;
    const stepped = await settleInSteps(script, fakeDiarizer(script, words).ask, [2, 5, script.results.length]);

    // Assess
    expect(settledAccuracy(script, whole.map)).toEqual({ accuracy: 1, voices: 3 });
    expect(settledAccuracy(script, stepped.map)).toEqual({ accuracy: 1, voices: 3 });
    expect(stepped.settled).toBe(script.results.length);
  });
});
