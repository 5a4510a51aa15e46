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

  it("gives a voice to the chain with the strongest claim, whatever round each claim came in", async () => {
    // Prepare: A and B settle first; then D joins A (no overlap: every label is a head). The diarizer hears D's
    // pieces as A every time (a new voice it takes for a known one), and A's own pieces only from the second ask.
    const words = scriptWords([
      ["A", 12], ["B", 12], ["A", 12], ["B", 12], ["A", 12], ["B", 12],
      ["A", 14], ["D", 4], ["A", 14], ["D", 4], ["A", 14], ["D", 4], ["A", 14], ["D", 4],
    ]);
    const script = cutScript(words, 25, 0);
    const clean = fakeDiarizer(script, words);
    const first = await settleSpeakers(emptyBook(), script.results.filter((r) => r.index < 2), clean.ask);
    const voiceOfA = Object.entries(script.truth[0]).map(([label, voice]) => voice === "A" && first.book.map[0][label]).find(Boolean);
    const truthOf = (index: number, start: number) => {
      const at = script.results[index].segment.start + start;
      return words.reduce((best, w) => (Math.abs(w.start - at) < Math.abs(best.start - at) ? w : best)).voice;
    };
    let heardA = false;
    const ask: Parameters<typeof settleSpeakers>[2] = async (plan) => {
      const answer = await clean.ask(plan);
      if ("failed" in answer) return answer;
      const refOfA = plan.pieces.findIndex((p) => p.role === "ref" && p.speaker === voiceOfA);
      const labelOfA = answer.words.find((w) => Math.abs(w.start - (plan.pieces[refOfA].at + 0.1)) < 1e-9)?.speaker;
      const hasAHead = plan.pieces.some((p) => p.role === "head" && "segment" in p.span.from && truthOf(p.span.from.segment, p.span.start) === "A");
      const words = answer.words.flatMap((w) => {
        const piece = plan.pieces.find((p) => Math.abs(p.at + 0.1 - w.start) < 1e-9)!;
        if (piece.role !== "head" || !("segment" in piece.span.from)) return [w];
        const truth = truthOf(piece.span.from.segment, piece.span.start);
        if (truth === "D") return [{ ...w, speaker: labelOfA }];
        if (truth === "A" && !heardA) return [];
        return [w];
      });
      if (hasAHead) heardA = true;
      return { words };
    };

    // Act
    const { book } = await settleSpeakers(first.book, script.results.filter((r) => r.index >= 1), ask);

    // Assess: A keeps its voice in the later segments (D, the weaker claim, yields it)
    const later = script.results.filter((r) => r.index >= 2);
    expect(later.length).toBeGreaterThan(0);
    for (const result of later) {
      const labelOfA = Object.entries(script.truth[result.index]).find(([, voice]) => voice === "A")?.[0];
      if (labelOfA) expect(book.map[result.index][labelOfA], `segment ${result.index}`).toBe(voiceOfA);
    }
  });
});

