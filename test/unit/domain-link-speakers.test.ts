import { describe, expect, it } from "vitest";
import { seededRandom } from "../audio/seeded-random.js";
import { linkSpeakers, speakerSamples } from "../../shared/domain/speakers/link-speakers.js";
import { stitchSegments } from "../../shared/domain/stitching/stitch.js";
import type { CutSegment, SegmentResult, Word } from "../../shared/domain/types.js";
import { alignWords, speakerAccuracy, speakerCount, type TruthWord } from "../support/metrics.js";

/** A seeded generator, so every run of these tests sees the same data. */
const random = (seed: number): (() => number) => seededRandom(seed).next;

/** Words for a sequence of speaker turns [speaker, from, to]. */
function conversation(turns: Array<[string, number, number]>, seed = 1): TruthWord[] {
  const rand = random(seed);
  const words: TruthWord[] = [];
  let n = 0;
  for (const [speaker, from, to] of turns) {
    for (let t = from + 0.05; t < to - 0.3; ) {
      const length = 0.2 + rand() * 0.1;
      words.push({ word: `w${n++}`, start: t, end: t + length, speaker });
      t += length + 0.08 + rand() * 0.05;
    }
  }
  return words;
}

/** Turns of `turnSeconds` each, cycling through the speakers. */
function rotation(speakers: string[], seconds: number, turnSeconds: number): Array<[string, number, number]> {
  const turns: Array<[string, number, number]> = [];
  for (let t = 0, k = 0; t < seconds; t += turnSeconds, k++) turns.push([speakers[k % speakers.length], t, Math.min(seconds, t + turnSeconds)]);
  return turns;
}

function segmentsAt(cuts: number[], duration: number, overlap: number): CutSegment[] {
  const edges = [0, ...cuts, duration];
  return edges.slice(0, -1).map((ownStart, index) => {
    const ownEnd = edges[index + 1];
    return { index, ownStart, ownEnd, start: Math.max(0, ownStart - overlap / 2), end: Math.min(duration, ownEnd + overlap / 2) };
  });
}

/** A provider's answer with its own arbitrary numbering of the speakers. */
function hear(truth: TruthWord[], segment: CutSegment, labels: Record<string, string>): SegmentResult {
  const words: Word[] = truth
    .filter((w) => w.start >= segment.start && w.end <= segment.end)
    .map((w) => ({ word: w.word, start: w.start - segment.start, end: w.end - segment.start, speaker: labels[w.speaker] }));
  return {
    jobId: "job",
    index: segment.index,
    segment,
    language: "en",
    text: words.map((w) => w.word).join(" "),
    words,
    spans: [],
    speakers: [...new Set(words.map((w) => w.speaker as string))].sort(),
  };
}

function shuffledLabels(speakers: string[], rand: () => number): Record<string, string> {
  const numbers = speakers.map((_, i) => i).sort(() => rand() - 0.5);
  return Object.fromEntries(speakers.map((s, i) => [s, `SPEAKER_0${numbers[i]}`]));
}

describe("linkSpeakers", () => {
  it("unifies labels that each segment numbered differently", () => {
    // Prepare
    const truth = conversation(rotation(["A", "B"], 60, 1.5));
    const segments = segmentsAt([20, 40], 60, 4);
    const labelings = [{ A: "SPEAKER_00", B: "SPEAKER_01" }, { A: "SPEAKER_01", B: "SPEAKER_00" }, { A: "SPEAKER_00", B: "SPEAKER_01" }];
    const results = segments.map((s, i) => hear(truth, s, labelings[i]));
    // Act
    const { map, unresolved } = linkSpeakers(results);
    // Assess
    expect(unresolved).toEqual([]);
    expect(map).toEqual({
      0: { SPEAKER_00: "SPEAKER_00", SPEAKER_01: "SPEAKER_01" },
      1: { SPEAKER_01: "SPEAKER_00", SPEAKER_00: "SPEAKER_01" },
      2: { SPEAKER_00: "SPEAKER_00", SPEAKER_01: "SPEAKER_01" },
    });
  });

  it("chains three speakers across five segments, whatever each segment calls them", () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      // Prepare
      const rand = random(seed);
      const truth = conversation(rotation(["A", "B", "C"], 150, 1.2), seed);
      const results = segmentsAt([30, 60, 90, 120], 150, 6).map((s) => hear(truth, s, shuffledLabels(["A", "B", "C"], rand)));
      // Act
      const links = linkSpeakers(results);
      const t = stitchSegments(results, { duration: 150, diarize: true, speakerMap: links.map });
      // Assess
      expect(links.unresolved, `seed ${seed}`).toEqual([]);
      expect(speakerCount(t.words)).toBe(3);
      expect(speakerAccuracy(alignWords(truth, t.words))).toBe(1);
      expect(t.words[0].speaker_id).toBe("SPEAKER_00");
    }
  });

  it("reports a speaker who returns without speaking across a cut as unresolved", () => {
    // Prepare: B speaks 5-8.5 s (segment 0) and 48-51.5 s (segment 2) only, never in an overlap
    const turns: Array<[string, number, number]> = [
      ["A", 0, 5], ["B", 5, 8.5], ["A", 8.5, 48], ["B", 48, 51.5], ["A", 51.5, 60],
    ];
    const truth = conversation(turns);
    const segments = segmentsAt([20, 40], 60, 4);
    const labelings: Array<Record<string, string>> = [{ A: "SPEAKER_00", B: "SPEAKER_01" }, { A: "SPEAKER_00" }, { A: "SPEAKER_01", B: "SPEAKER_00" }];
    const results = segments.map((s, i) => hear(truth, s, labelings[i]));
    // Act
    const { map, unresolved } = linkSpeakers(results);
    // Assess
    expect(unresolved).toEqual([{ index: 2, label: "SPEAKER_00" }]);
    expect(map[2].SPEAKER_01).toBe("SPEAKER_00");
    expect(map[0].SPEAKER_01).toBe("SPEAKER_01");
    expect(map[2].SPEAKER_00).toBe("SPEAKER_02");
  });

  it("does not link on a single shared word", () => {
    // Prepare: segment 1's second speaker shares just one overlap word with segment 0's
    const segments = segmentsAt([10], 20, 4);
    const left = hear([], segments[0], {});
    const right = hear([], segments[1], {});
    left.words = [
      { word: "yes", start: 3, end: 3.4, speaker: "SPEAKER_00" },
      { word: "right", start: 9, end: 9.3, speaker: "SPEAKER_01" },
    ];
    right.words = [
      { word: "right", start: 1, end: 1.3, speaker: "SPEAKER_00" },
      { word: "later", start: 9, end: 9.3, speaker: "SPEAKER_00" },
    ];
    // Act
    const { unresolved } = linkSpeakers([left, right]);
    // Assess
    expect(unresolved).toEqual([{ index: 1, label: "SPEAKER_00" }]);
  });
});

describe("speakerSamples", () => {
  it("picks clean stretches of each known speaker and of the unresolved one, in segment-local time", () => {
    // Prepare
    const turns: Array<[string, number, number]> = [
      ["A", 0, 5], ["B", 5, 9], ["A", 9, 48], ["B", 48, 52], ["A", 52, 60],
    ];
    const truth = conversation(turns);
    const segments = segmentsAt([20, 40], 60, 4);
    const labelings: Array<Record<string, string>> = [{ A: "SPEAKER_00", B: "SPEAKER_01" }, { A: "SPEAKER_00" }, { A: "SPEAKER_01", B: "SPEAKER_00" }];
    const results = segments.map((s, i) => hear(truth, s, labelings[i]));
    const links = linkSpeakers(results);
    // Act
    const samples = speakerSamples(results, links.map, { unresolved: links.unresolved });
    // Assess
    expect(Object.keys(samples.global)).toEqual(["SPEAKER_00", "SPEAKER_01"]);
    expect(samples.global.SPEAKER_00).toHaveLength(3);
    expect(new Set(samples.global.SPEAKER_00.map((s) => s.index)).size).toBe(3);
    const bSamples = samples.global.SPEAKER_01;
    expect(bSamples.length).toBeGreaterThan(0);
    for (const s of bSamples) {
      expect(s.index).toBe(0);
      expect(s.start).toBeGreaterThanOrEqual(5);
      expect(s.end).toBeLessThanOrEqual(9);
    }
    expect(samples.unresolved).toHaveLength(1);
    const [u] = samples.unresolved;
    expect(u.samples.length).toBeGreaterThan(0);
    for (const s of [...u.samples, ...bSamples, ...samples.global.SPEAKER_00]) {
      expect(s.end - s.start).toBeGreaterThanOrEqual(1.5);
      expect(s.end - s.start).toBeLessThanOrEqual(4);
    }
    // Local time: 48-52 s global is 10-14 s into segment 2, which starts at 38 s
    for (const s of u.samples) {
      expect(s.index).toBe(2);
      expect(s.start).toBeGreaterThanOrEqual(10);
      expect(s.end).toBeLessThanOrEqual(14);
    }
  });
});
