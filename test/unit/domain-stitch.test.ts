import { describe, expect, it } from "vitest";
import { seededRandom } from "../audio/seeded-random.js";
import { stitchSegments } from "../../shared/domain/stitching/stitch.js";
import { resolveOverlaps } from "../../shared/domain/stitching/resolve-overlaps.js";
import type { CutSegment, SegmentResult, Word } from "../../shared/domain/types.js";

interface SpokenWord {
  word: string;
  start: number;
  end: number;
  speaker: string;
}

/** A seeded generator, so every run of these tests sees the same data. */
const random = (seed: number): (() => number) => seededRandom(seed).next;

const VOCABULARY = "the quick brown fox jumps over a lazy dog while we talk about serverless speech pipelines today".split(" ");

/** Continuous speech: a word every 0.3-0.5 s, nothing longer than a short gap. */
function spoken(seconds: number, seed: number, speaker = "A"): SpokenWord[] {
  const rand = random(seed);
  const words: SpokenWord[] = [];
  for (let t = 0.2; t < seconds - 0.5; ) {
    const length = 0.2 + rand() * 0.15;
    words.push({ word: VOCABULARY[Math.floor(rand() * VOCABULARY.length)], start: t, end: t + length, speaker });
    t += length + 0.1 + rand() * 0.1;
  }
  return words;
}

/** Segments cut at the given times with `overlap` seconds shared around each cut. */
function segmentsAt(cuts: number[], duration: number, overlap: number): CutSegment[] {
  const edges = [0, ...cuts, duration];
  return edges.slice(0, -1).map((ownStart, index) => {
    const ownEnd = edges[index + 1];
    return { index, ownStart, ownEnd, start: Math.max(0, ownStart - overlap / 2), end: Math.min(duration, ownEnd + overlap / 2) };
  });
}

interface Hearing {
  jitter?: () => number;
  labels?: Record<string, string>;
  extra?: Word[];
}

/** What a provider would answer for one segment: the words fully inside its audio, in local time. */
function hear(truth: SpokenWord[], segment: CutSegment, hearing: Hearing = {}): SegmentResult {
  const jitter = hearing.jitter ?? (() => 0);
  const words: Word[] = truth
    .filter((w) => w.start >= segment.start && w.end <= segment.end)
    .map((w) => {
      const shift = jitter();
      return {
        word: w.word,
        start: Math.max(0, w.start - segment.start + shift),
        end: w.end - segment.start + shift,
        speaker: hearing.labels?.[w.speaker] ?? "SPEAKER_00",
      };
    });
  words.push(...(hearing.extra ?? []));
  words.sort((a, b) => a.start - b.start);
  return {
    jobId: "job",
    index: segment.index,
    segment,
    language: "english",
    text: words.map((w) => w.word).join(" "),
    words,
    spans: [],
    speakers: [...new Set(words.flatMap((w) => (w.speaker ? [w.speaker] : [])))],
  };
}

const texts = (words: Array<{ word: string }>) => words.map((w) => w.word);

describe("resolveOverlaps", () => {
  it("neither loses nor doubles a word whose two hearings jitter to opposite sides of the cut", () => {
    // Prepare: "brown" starts 30 ms before the cut at 10 s; left hears it 80 ms late, right 80 ms early
    const truth: SpokenWord[] = [
      { word: "the", start: 9.2, end: 9.5, speaker: "A" },
      { word: "quick", start: 9.6, end: 9.9, speaker: "A" },
      { word: "brown", start: 9.97, end: 10.3, speaker: "A" },
      { word: "fox", start: 10.4, end: 10.7, speaker: "A" },
    ];
    const [left, right] = segmentsAt([10], 20, 4);
    const late = (w: SpokenWord) => (w.word === "brown" ? 0.08 : 0);
    const leftResult = hear(truth, left);
    leftResult.words = leftResult.words!.map((w) => ({ ...w, start: w.start + late({ ...w, speaker: "A" }) }));
    const rightResult = hear(truth, right);
    rightResult.words = rightResult.words!.map((w) => (w.word === "brown" ? { ...w, start: w.start - 0.08 } : w));
    // Act
    const { words } = resolveOverlaps([leftResult, rightResult]);
    // Assess
    expect(texts(words)).toEqual(["the", "quick", "brown", "fox"]);
  });

  it("reproduces continuous speech exactly under ±100 ms jitter, over many cuts and seeds", () => {
    for (let seed = 1; seed <= 40; seed++) {
      // Prepare
      const truth = spoken(60, seed);
      const rand = random(1000 + seed);
      const segments = segmentsAt([14.1, 29.05, 44.5], 60, 4);
      const results = segments.map((s) => hear(truth, s, { jitter: () => (rand() - 0.5) * 0.2 }));
      // Act
      const { words } = resolveOverlaps(results);
      // Assess
      expect(texts(words), `seed ${seed}`).toEqual(texts(truth));
    }
  });

  it("drops the half-heard word at the end of a segment's audio and keeps the full one", () => {
    // Prepare: the left audio ends at 12 s, in the middle of "serverless" (11.8-12.3)
    const truth: SpokenWord[] = [
      { word: "about", start: 11.3, end: 11.7, speaker: "A" },
      { word: "serverless", start: 11.8, end: 12.3, speaker: "A" },
    ];
    const [left, right] = segmentsAt([10], 20, 4);
    const leftResult = hear(truth, left, { extra: [{ word: "server-", start: 11.8 - left.start, end: 12 - left.start, speaker: "SPEAKER_00" }] });
    const rightResult = hear(truth, right);
    // Act
    const { words } = resolveOverlaps([leftResult, rightResult]);
    // Assess
    expect(texts(words)).toEqual(["about", "serverless"]);
  });

  it("drops the half-heard word at the start of a segment's audio", () => {
    // Prepare: the right audio starts at 8 s, in the middle of "pipelines" (7.7-8.2)
    const truth: SpokenWord[] = [
      { word: "pipelines", start: 7.7, end: 8.2, speaker: "A" },
      { word: "today", start: 8.4, end: 8.8, speaker: "A" },
    ];
    const [left, right] = segmentsAt([10], 20, 4);
    const rightResult = hear(truth, right, { extra: [{ word: "lines", start: 0, end: 0.2, speaker: "SPEAKER_00" }] });
    // Act
    const { words } = resolveOverlaps([hear(truth, left), rightResult]);
    // Assess
    expect(texts(words)).toEqual(["pipelines", "today"]);
  });

  it("drops a 'Thank you.' invented over the trailing overlap's silence", () => {
    // Prepare: speech stops at 9 s; the left segment hallucinates at 10.5-11.5 s (past the cut)
    const truth = spoken(9, 5);
    truth.push({ word: "again", start: 14, end: 14.4, speaker: "A" });
    const [left, right] = segmentsAt([10], 20, 4);
    const extra = [
      { word: "Thank", start: 10.5 - left.start, end: 10.9 - left.start },
      { word: "you.", start: 11 - left.start, end: 11.5 - left.start },
    ];
    // Act
    const { words } = resolveOverlaps([hear(truth, left, { extra }), hear(truth, right)]);
    // Assess
    expect(texts(words)).toEqual(texts(truth));
  });

  it("keeps two different words that meet at a hard cut", () => {
    // Prepare: no overlap; "fox" ends just before the cut at 10 s and "jumps" starts just after
    const truth: SpokenWord[] = [
      { word: "fox", start: 9.8, end: 9.99, speaker: "A" },
      { word: "jumps", start: 10.02, end: 10.3, speaker: "A" },
    ];
    const results = segmentsAt([10], 20, 0).map((s) => hear(truth, s));
    // Act
    const { words } = resolveOverlaps(results);
    // Assess
    expect(texts(words)).toEqual(["fox", "jumps"]);
  });

  it("takes every word once when segments do not overlap", () => {
    // Prepare
    const truth = spoken(40, 9);
    const results = segmentsAt([13.33, 26.71], 40, 0).map((s) => hear(truth, s));
    // Act
    const { words } = resolveOverlaps(results);
    // Assess: words that straddle a cut are heard by neither side; all others exactly once
    const straddling = (w: SpokenWord) => [13.33, 26.71].some((c) => w.start < c && w.end > c);
    expect(texts(words)).toEqual(texts(truth.filter((w) => !straddling(w))));
  });
});

describe("stitchSegments", () => {
  it("moves words to global time and clamps ends stretched over silence", () => {
    // Prepare: "in." ends 4 s after it starts, as Whisper reports the last word before a pause
    const segment: CutSegment = { index: 0, start: 0, end: 20, ownStart: 0, ownEnd: 20 };
    const result = hear([], segment, {
      extra: [
        { word: "live", start: 3.07, end: 3.21 },
        { word: "in.", start: 3.26, end: 7.27 },
        { word: "Yes.", start: 7.5, end: 12 },
      ],
    });
    // Act
    const t = stitchSegments([result], { duration: 20, diarize: false });
    // Assess
    expect(t.words.map((w) => [w.start, w.end])).toEqual([
      [3.07, 3.21],
      [3.26, 5.26],
      [7.5, 9.5],
    ]);
  });

  it("uses global times for the second segment's words", () => {
    // Prepare
    const truth = spoken(30, 3);
    const results = segmentsAt([15], 30, 4).map((s) => hear(truth, s));
    // Act
    const t = stitchSegments(results, { duration: 30, diarize: false });
    // Assess
    t.words.forEach((w, i) => expect(w.start).toBeCloseTo(truth[i].start, 3));
  });

  it("stitches text-only answers, dropping the words the neighbours both heard", () => {
    // Prepare: Voxtral-style answers, one span each, 4 s of shared audio around 30 s
    const [left, right] = segmentsAt([30], 60, 4);
    const leftText = "one two three four five six seven eight nine ten alpha beta gamma delta";
    const rightText = "beta gamma delta epsilon zeta eta theta iota kappa";
    const textOnly = (segment: CutSegment, text: string): SegmentResult => ({
      jobId: "job",
      index: segment.index,
      segment,
      text,
      words: null,
      spans: [{ start: 0, end: segment.end - segment.start, text }],
      speakers: [],
    });
    // Act
    const t = stitchSegments([textOnly(left, leftText), textOnly(right, rightText)], { duration: 60, diarize: false });
    // Assess
    expect(t.text).toBe("one two three four five six seven eight nine ten alpha beta gamma delta epsilon zeta eta theta iota kappa");
    for (let i = 1; i < t.words.length; i++) expect(t.words[i].start).toBeGreaterThanOrEqual(t.words[i - 1].start);
    expect(t.words[t.words.length - 1].end).toBeLessThanOrEqual(60);
  });

  it("keeps every word of text-only answers that do not overlap", () => {
    // Prepare
    const [left, right] = segmentsAt([30], 60, 0);
    const answer = (segment: CutSegment, text: string): SegmentResult => ({
      jobId: "job", index: segment.index, segment, text, words: null, spans: [], speakers: [],
    });
    // Act
    const t = stitchSegments([answer(left, "so it begins"), answer(right, "and so it ends")], { duration: 60, diarize: false });
    // Assess
    expect(t.text).toBe("so it begins and so it ends");
    expect(t.words[3].start).toBeGreaterThanOrEqual(30);
  });

  it("sets every speaker to null when not diarizing", () => {
    // Prepare
    const truth = spoken(30, 4);
    const results = segmentsAt([15], 30, 4).map((s) => hear(truth, s, { labels: { A: "SPEAKER_01" } }));
    // Act
    const t = stitchSegments(results, { duration: 30, diarize: false });
    // Assess
    expect(t.speakers).toEqual([]);
    expect(t.words.every((w) => w.speaker_id === null)).toBe(true);
    expect(t.segments.every((s) => s.speaker_id === null)).toBe(true);
  });

  it("groups utterances by speaker, pause and maximum length", () => {
    // Prepare: A talks 0-2 s, B 2-4 s, a 3 s pause, B again, then A for 40 s without pausing
    const words: Word[] = [
      { word: "hi", start: 0.5, end: 0.9, speaker: "SPEAKER_00" },
      { word: "hello", start: 2.2, end: 2.8, speaker: "SPEAKER_01" },
      { word: "again", start: 5.8, end: 6.2, speaker: "SPEAKER_01" },
      ...Array.from({ length: 80 }, (_, i) => ({ word: `w${i}`, start: 7 + i * 0.5, end: 7.4 + i * 0.5, speaker: "SPEAKER_00" })),
    ];
    const segment: CutSegment = { index: 0, start: 0, end: 50, ownStart: 0, ownEnd: 50 };
    const result = hear([], segment, { extra: words });
    // Act
    const t = stitchSegments([result], { duration: 50, diarize: true });
    // Assess
    expect(t.segments.map((s) => [s.speaker_id, s.text.split(" ")[0]])).toEqual([
      ["SPEAKER_00", "hi"],
      ["SPEAKER_01", "hello"],
      ["SPEAKER_01", "again"],
      ["SPEAKER_00", "w0"],
      ["SPEAKER_00", expect.stringMatching(/^w\d+$/)],
    ]);
    for (const s of t.segments) expect(s.end - s.start).toBeLessThanOrEqual(30);
    expect(t.speakers).toEqual(["SPEAKER_00", "SPEAKER_01"]);
    expect(t.text.split(" ")).toHaveLength(83);
  });

  it("reports the majority language as an ISO 639-1 code", () => {
    // Prepare
    const truth = spoken(45, 8);
    const results = segmentsAt([15, 30], 45, 4).map((s) => hear(truth, s));
    results[2].language = "fr";
    // Act
    const t = stitchSegments(results, { duration: 45, diarize: false });
    // Assess
    expect(t.language).toBe("en");
  });

  it("gives an empty transcript for silence", () => {
    // Prepare
    const segment: CutSegment = { index: 0, start: 0, end: 10, ownStart: 0, ownEnd: 10 };
    // Act
    const t = stitchSegments([hear([], segment)], { duration: 10, diarize: true });
    // Assess
    expect(t).toMatchObject({ text: "", words: [], segments: [], speakers: [], duration: 10 });
  });
});
