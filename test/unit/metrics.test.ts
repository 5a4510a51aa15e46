import { describe, expect, it } from "vitest";
import {
  alignWords,
  meanStartError,
  normalizeTokens,
  speakerAccuracy,
  speakerCount,
  wordErrorRate,
  type HypWord,
  type TruthWord,
} from "../support/metrics.js";

const truthWord = (word: string, start: number, speaker: string): TruthWord => ({ word, start, end: start + 0.3, speaker });
const hypWord = (word: string, start: number, speaker_id: string | null): HypWord => ({ word, start, end: start + 0.3, speaker_id });

describe("wordErrorRate", () => {
  it("counts substitutions, deletions and insertions against the truth length", () => {
    expect(wordErrorRate(["the", "cat", "sat", "down"], ["the", "bat", "sat", "down"])).toBe(0.25);
    expect(wordErrorRate(["the", "cat", "sat", "down"], ["the", "cat", "down"])).toBe(0.25);
    expect(wordErrorRate(["the", "cat"], ["the", "cat", "sat", "down"])).toBe(1);
  });

  it("ignores case and punctuation", () => {
    expect(wordErrorRate(["Hello,", "world!"], ["hello", "World."])).toBe(0);
    expect(normalizeTokens(["Hello,", "it's", "—"])).toEqual(["hello", "it", "s"]);
  });

  it("is 0 for two empty texts and 1 for words where there were none", () => {
    expect(wordErrorRate([], [])).toBe(0);
    expect(wordErrorRate([], ["you"])).toBe(1);
  });
});

describe("alignWords and meanStartError", () => {
  it("pairs the same words said at about the same time, skipping the rest", () => {
    // Prepare
    const truth = [truthWord("a", 0, "A"), truthWord("b", 1, "A"), truthWord("c", 2, "A"), truthWord("a", 10, "A")];
    const hyp = [hypWord("A.", 0.1, "X"), hypWord("x", 1, "X"), hypWord("c", 2.3, "X"), hypWord("a", 30, "X")];
    // Act
    const pairs = alignWords(truth, hyp);
    // Assess: the late "a" is 20 s off, outside the window
    expect(pairs.map((p) => [p.truth.start, p.hyp.start])).toEqual([[0, 0.1], [2, 2.3]]);
    expect(meanStartError(pairs)).toBeCloseTo(0.2, 9);
    expect(meanStartError([])).toBeNaN();
  });

  it("keeps the order of both sequences", () => {
    // Prepare: a repeated word must not pair crosswise
    const truth = [truthWord("go", 0, "A"), truthWord("stop", 0.5, "A"), truthWord("go", 1, "A")];
    const hyp = [hypWord("stop", 0.5, "X"), hypWord("go", 1, "X")];
    // Act
    const pairs = alignWords(truth, hyp);
    // Assess
    expect(pairs.map((p) => [p.truth.start, p.hyp.start])).toEqual([[0.5, 0.5], [1, 1]]);
  });
});

describe("speakerAccuracy and speakerCount", () => {
  const truth = ["A", "A", "B", "B", "C", "C"].map((s, i) => truthWord(`w${i}`, i, s));

  it("scores 1 for a consistent renaming of the speakers", () => {
    // Prepare
    const hyp = ["S2", "S2", "S0", "S0", "S1", "S1"].map((s, i) => hypWord(`w${i}`, i, s));
    // Act
    const accuracy = speakerAccuracy(alignWords(truth, hyp));
    // Assess
    expect(accuracy).toBe(1);
  });

  it("maps labels one-to-one, so merged speakers and null labels count as wrong", () => {
    // Prepare: B and C merged into S1; one word without a label
    const hyp = ["S0", null, "S1", "S1", "S1", "S1"].map((s, i) => hypWord(`w${i}`, i, s));
    // Act
    const accuracy = speakerAccuracy(alignWords(truth, hyp));
    // Assess: S0->A (1 word), S1->B or C (2 words)
    expect(accuracy).toBeCloseTo(3 / 6, 9);
  });

  it("counts distinct speaker labels in either shape of word", () => {
    expect(speakerCount([hypWord("a", 0, "S0"), hypWord("b", 1, null), hypWord("c", 2, "S1"), hypWord("d", 3, "S0")])).toBe(2);
    expect(speakerCount(truth)).toBe(3);
  });
});
