import { describe, expect, it } from "vitest";
import { planProbe, readProbeAnswer } from "../../shared/domain/probe-clip.js";
import { guessByExclusion } from "../../shared/domain/speaker-fallback.js";
import type { SegmentResult, Word } from "../../shared/domain/types.js";

const sample = (index: number, start: number, end: number) => ({ index, start, end });

describe("planProbe", () => {
  it("lays known speakers first, then the unknown ones, interleaved, with gaps", () => {
    // Act
    const plan = planProbe(
      { SPEAKER_00: [sample(0, 1, 3), sample(1, 5, 7)], SPEAKER_01: [sample(0, 8, 10)] },
      [{ key: "3/SPEAKER_00", samples: [sample(3, 2, 4.5)] }],
      { gapSeconds: 0.5 },
    )!;

    // Assess
    expect(plan.pieces.map((p) => (p.owner.kind === "known" ? p.owner.label : p.owner.key))).toEqual([
      "SPEAKER_00", "SPEAKER_01", "3/SPEAKER_00", "SPEAKER_00",
    ]);
    expect(plan.pieces.map((p) => p.at)).toEqual([0.5, 3, 5.5, 8.5]);
    expect(plan.duration).toBeCloseTo(11, 6);
  });

  it("has nothing to ask without an unknown sample", () => {
    expect(planProbe({ SPEAKER_00: [sample(0, 1, 3)] }, [{ key: "1/X", samples: [] }])).toBeNull();
  });
});

describe("readProbeAnswer", () => {
  const plan = planProbe(
    { SPEAKER_00: [sample(0, 0, 2)], SPEAKER_01: [sample(0, 3, 5)] },
    [
      { key: "a", samples: [sample(2, 0, 2)] },
      { key: "b", samples: [sample(3, 0, 2)] },
      { key: "c", samples: [sample(4, 0, 2)] },
    ],
    { gapSeconds: 1 },
  )!;
  // Pieces at 1, 4, 7, 10, 13 (2 s each); the diarizer numbers labels its own way.
  const said = (at: number, speaker: string): Word[] => [0.2, 0.8, 1.4].map((d) => ({ word: "w", start: at + d, end: at + d + 0.3, speaker }));

  it("matches an unknown to the known speaker whose label it shares, and groups new voices", () => {
    // Prepare
    const words = [...said(1, "B"), ...said(4, "A"), ...said(7, "A"), ...said(10, "C"), ...said(13, "C")];

    // Act
    const verdicts = readProbeAnswer(plan, words);

    // Assess
    expect(verdicts.get("a")).toEqual({ kind: "known", label: "SPEAKER_01" });
    expect(verdicts.get("b")).toEqual({ kind: "new", group: "C" });
    expect(verdicts.get("c")).toEqual({ kind: "new", group: "C" });
  });

  it("reports an unknown piece the diarizer did not hear", () => {
    const verdicts = readProbeAnswer(plan, [...said(1, "B"), ...said(4, "A")]);
    expect(verdicts.get("a")).toEqual({ kind: "unheard" });
  });
});

describe("guessByExclusion", () => {
  const result = (index: number, words: Array<[number, string]>): SegmentResult => ({
    jobId: "j",
    index,
    segment: { index, start: index * 10, end: index * 10 + 10, ownStart: index * 10, ownEnd: index * 10 + 10 },
    text: "",
    words: words.map(([start, speaker]) => ({ word: "w", start, end: start + 0.3, speaker })),
    spans: [],
    speakers: [...new Set(words.map(([, s]) => s))],
  });

  it("picks the one settled speaker not already present in the segment", () => {
    const results = [result(0, [[1, "A"], [3, "B"], [5, "C"]]), result(1, [[1, "X"], [2, "Y"], [6, "Z"]])];
    const map = { 0: { A: "SPEAKER_00", B: "SPEAKER_01", C: "SPEAKER_02" }, 1: { X: "SPEAKER_00", Y: "SPEAKER_02", Z: "SPEAKER_03" } };
    expect(guessByExclusion(results, map, { index: 1, label: "Z" }, ["SPEAKER_00", "SPEAKER_01", "SPEAKER_02"])).toBe("SPEAKER_01");
  });

  it("prefers the speaker heard nearest in time when several are left", () => {
    const results = [result(0, [[1, "A"], [9, "B"]]), result(1, [[0.5, "Q"]])];
    const map = { 0: { A: "SPEAKER_00", B: "SPEAKER_01" }, 1: { Q: "SPEAKER_02" } };
    expect(guessByExclusion(results, map, { index: 1, label: "Q" }, ["SPEAKER_00", "SPEAKER_01"])).toBe("SPEAKER_01");
  });

  it("says new when nobody is left", () => {
    const results = [result(0, [[1, "A"]]), result(1, [[1, "X"], [2, "Y"]])];
    const map = { 0: { A: "SPEAKER_00" }, 1: { X: "SPEAKER_00", Y: "SPEAKER_01" } };
    expect(guessByExclusion(results, map, { index: 1, label: "Y" }, ["SPEAKER_00"])).toBeNull();
  });
});
