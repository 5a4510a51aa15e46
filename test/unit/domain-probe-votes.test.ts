import { describe, expect, it } from "vitest";
import { planProbe, type ProbeSpeaker } from "../../shared/domain/speakers/probe-plan.js";
import { readProbeVotes } from "../../shared/domain/speakers/probe-votes.js";
import type { Word } from "../../shared/domain/types.js";

const span = (segment: number, start: number) => ({ from: { segment }, start, end: start + 2 });
const speakers: ProbeSpeaker[] = [
  { key: "V0", role: "ref", spans: [span(0, 1), span(0, 5)] },
  { key: "V1", role: "ref", spans: [span(1, 1), span(1, 5)] },
  { key: "h", role: "head", spans: [span(4, 1), span(4, 5), span(4, 9)] },
];
const plan = planProbe(speakers, { gapSeconds: 0.5 })!;
const bySpan = (a: { from: object; start: number }, b: { from: object; start: number }) =>
  JSON.stringify(a.from).localeCompare(JSON.stringify(b.from)) || a.start - b.start;

/** The diarizer's answer: one word in the middle of each piece, with the given label (null: unlabelled). */
function answer(labels: Array<string | null>): Word[] {
  return plan.pieces.flatMap((piece, i) => (labels[i] === null ? [] : [{ word: "w", start: piece.at + 0.5, end: piece.at + 1, speaker: labels[i]! }]));
}

describe("planProbe", () => {
  it("interleaves every voice's pieces with silence between", () => {
    // Assess: pieces in rounds (V0, V1, h), 2 s each with 0.5 s gaps
    expect(plan.pieces.map((p) => p.speaker)).toEqual(["V0", "V1", "h", "V0", "V1", "h", "h"]);
    expect(plan.pieces.map((p) => p.at)).toEqual([0.5, 3, 5.5, 8, 10.5, 13, 15.5]);
    expect(plan.duration).toBeCloseTo(18, 6);
  });

  it("lays the same pieces out differently on another turn, so a clip asked again is not the same bytes", () => {
    // Act
    const again = planProbe(speakers, { gapSeconds: 0.5, turn: 1 })!;

    // Assess: every piece still there, in rounds starting at the next speaker
    expect(again.pieces.map((p) => p.speaker)).toEqual(["V1", "h", "V0", "V1", "h", "V0", "h"]);
    expect(again.pieces.map((p) => p.span).sort(bySpan)).toEqual(plan.pieces.map((p) => p.span).sort(bySpan));
    expect(again.duration).toBeCloseTo(plan.duration, 6);
  });

  it("has nothing to ask without a head", () => {
    expect(planProbe(speakers.filter((s) => s.role === "ref"))).toBeNull();
  });
});

describe("readProbeVotes", () => {
  it("names each ref's label one-to-one and counts a head's pieces as votes", () => {
    // Act: pieces in order V0, V1, h, V0, V1, h, h
    const votes = readProbeVotes(plan, answer(["B", "A", "A", "B", "A", "A", null]));

    // Assess
    expect([...votes.refLabels]).toEqual([["V0", "B"], ["V1", "A"]]);
    expect([...votes.solidRefs]).toEqual(["V0", "V1"]);
    expect(Object.fromEntries(votes.headVotes.get("h")!)).toEqual({ V1: 2 });
    expect(votes.unheardPieces).toBe(1);
  });

  it("outvotes a ref piece put with another voice, counts the confusion, and weighs its claim less", () => {
    // Act: V1's second piece came back with V0's label
    const votes = readProbeVotes(plan, answer(["B", "A", "A", "B", "B", "A", "A"]));

    // Assess
    expect([...votes.refLabels]).toEqual([["V0", "B"], ["V1", "A"]]);
    expect([...votes.solidRefs]).toEqual(["V0"]);
    expect(votes.confusedRefs.get("V0|V1")).toBe(1);
    // V1 held its label on one piece only: each head piece under it is worth half a vote.
    expect(votes.headVotes.get("h")!.get("V1")).toBeCloseTo(1.5, 6);
  });

  it("keeps a label that no ref claimed apart, as a possible new voice", () => {
    // Act
    const votes = readProbeVotes(plan, answer(["B", "A", "C", "B", "A", "C", "C"]));

    // Assess
    expect(Object.fromEntries(votes.headVotes.get("h")!)).toEqual({ "?C": 3 });
    expect(votes.refPieceLabels.has("C")).toBe(false);
  });

  it("splits a head's vote between refs the diarizer gave one label", () => {
    // Act: both refs' pieces came back as "A"
    const votes = readProbeVotes(plan, answer(["A", "A", "A", "A", "A", "A", "A"]));

    // Assess: no ref can take the head on that evidence
    const tally = votes.headVotes.get("h")!;
    expect(tally.get("V0") ?? 0).toBeLessThan(2);
    expect(tally.get("V1") ?? 0).toBeLessThan(2);
    expect(votes.solidRefs.size).toBe(1);
  });
});
