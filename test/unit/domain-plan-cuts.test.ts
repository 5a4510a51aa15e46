import { describe, expect, it } from "vitest";
import { seededRandom } from "../audio/seeded-random.js";
import { CutPlanner, planCuts, type CutOptions } from "../../shared/domain/cutting/plan-cuts.js";

const FRAME = 0.01;
const SPEECH_DB = -20;
const BETWEEN_WORDS_DB = -38;
const PAUSE_DB = -55;

/** Deterministic pseudo-random numbers (mulberry32), so failures replay. */
/** A seeded generator, so every run of these tests sees the same data. */
const random = (seed: number): (() => number) => seededRandom(seed).next;

interface Speech {
  envelope: Float32Array;
  words: Array<{ start: number; end: number }>;
  pauses: Array<{ start: number; end: number }>;
}

/**
 * Speech-like energy: words of 0.15-0.6 s with short shallow dips between them,
 * and a real pause (0.35-0.9 s, much quieter) every few seconds.
 */
function speech(seconds: number, seed: number): Speech {
  const rand = random(seed);
  const frames = Math.round(seconds / FRAME);
  const envelope = new Float32Array(frames).fill(PAUSE_DB);
  const words: Speech["words"] = [];
  const pauses: Speech["pauses"] = [];
  const fill = (from: number, to: number, db: number) => {
    for (let f = Math.round(from / FRAME); f < Math.min(frames, Math.round(to / FRAME)); f++) envelope[f] = db + rand() * 3;
  };
  let t = 0.5;
  while (t < seconds) {
    const wordsInPhrase = 3 + Math.floor(rand() * 12);
    for (let k = 0; k < wordsInPhrase && t < seconds; k++) {
      const length = 0.15 + rand() * 0.45;
      fill(t, t + length, SPEECH_DB);
      words.push({ start: t, end: Math.min(seconds, t + length) });
      t += length;
      const gap = 0.03 + rand() * 0.1;
      fill(t, t + gap, BETWEEN_WORDS_DB);
      t += gap;
    }
    const pause = 0.35 + rand() * 0.55;
    pauses.push({ start: t, end: Math.min(seconds, t + pause) });
    t += pause;
  }
  return { envelope, words, pauses };
}

function flat(seconds: number, db: number): Float32Array {
  return new Float32Array(Math.round(seconds / FRAME)).fill(db);
}

const OPTS: CutOptions = { frameSeconds: FRAME, chunkSeconds: 60, overlapSeconds: 4 };

describe("planCuts", () => {
  it("keeps a recording shorter than a chunk in one segment", () => {
    // Prepare
    const envelope = speech(50, 1).envelope;
    // Act
    const segments = planCuts(envelope, OPTS);
    // Assess
    expect(segments).toEqual([{ index: 0, start: 0, end: 50, ownStart: 0, ownEnd: 50 }]);
  });

  it("plans nothing for an empty envelope", () => {
    expect(planCuts(new Float32Array(0), OPTS)).toEqual([]);
  });

  it("cuts in the middle of the one pause inside the search window", () => {
    // Prepare: loud everywhere except a 0.6 s silence at 52.0-52.6 s (window is 45-60 s)
    const envelope = flat(100, SPEECH_DB);
    envelope.fill(-70, 5200, 5260);
    // Act
    const segments = planCuts(envelope, OPTS);
    // Assess
    expect(segments).toHaveLength(2);
    expect(segments[0].ownEnd).toBeGreaterThanOrEqual(52.2);
    expect(segments[0].ownEnd).toBeLessThanOrEqual(52.4);
  });

  it("prefers a long pause to a deeper but brief dip", () => {
    // Prepare: a 40 ms digital-silence click at 58 s, a 0.8 s quiet pause at 48 s
    const envelope = flat(100, SPEECH_DB);
    envelope.fill(-Infinity, 5800, 5804);
    envelope.fill(-60, 4800, 4880);
    // Act
    const cut = planCuts(envelope, OPTS)[0].ownEnd;
    // Assess
    expect(cut).toBeGreaterThan(48.2);
    expect(cut).toBeLessThan(48.6);
  });

  it("never cuts inside a word when a pause lies within the search window", () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
      // Prepare
      const { envelope, words, pauses } = speech(600, seed);
      // Act
      const segments = planCuts(envelope, OPTS);
      // Assess
      expect(segments.length).toBeGreaterThan(5);
      for (const s of segments.slice(0, -1)) {
        const cut = s.ownEnd;
        const inWord = words.some((w) => cut > w.start + FRAME && cut < w.end - FRAME);
        expect(inWord, `seed ${seed}: cut ${cut} inside a word`).toBe(false);
        const inPause = pauses.some((p) => cut >= p.start && cut <= p.end);
        expect(inPause, `seed ${seed}: cut ${cut} not in a pause`).toBe(true);
      }
    }
  });

  it("gives every segment its own range plus half the overlap on each side", () => {
    // Prepare
    const { envelope } = speech(400, 11);
    const duration = envelope.length * FRAME;
    // Act
    const segments = planCuts(envelope, OPTS);
    // Assess
    expect(segments[0].ownStart).toBe(0);
    expect(segments[segments.length - 1].ownEnd).toBeCloseTo(duration, 6);
    segments.forEach((s, i) => {
      expect(s.index).toBe(i);
      if (i > 0) expect(s.ownStart).toBe(segments[i - 1].ownEnd);
      expect(s.start).toBeCloseTo(Math.max(0, s.ownStart - 2), 6);
      expect(s.end).toBeCloseTo(Math.min(duration, s.ownEnd + 2), 6);
      // The cut moves back from the target by at most the search window (15 s here).
      if (i < segments.length - 1) {
        expect(s.ownEnd - s.ownStart).toBeGreaterThanOrEqual(60 - 15 - 1e-6);
        expect(s.ownEnd - s.ownStart).toBeLessThanOrEqual(60 + 1e-6);
      }
    });
  });

  it("merges a last segment shorter than the minimum into the one before", () => {
    // Prepare: flat energy cuts mid-window (52.5, 105); 114 s would leave a 9 s tail
    const envelope = flat(114, SPEECH_DB);
    // Act
    const segments = planCuts(envelope, { ...OPTS, minSegmentSeconds: 10 });
    // Assess
    expect(segments.map((s) => s.ownEnd)).toEqual([52.5, 114]);
  });

  it("works without overlap: segments abut exactly", () => {
    // Prepare
    const { envelope } = speech(200, 3);
    // Act
    const segments = planCuts(envelope, { ...OPTS, overlapSeconds: 0 });
    // Assess
    for (const s of segments) {
      expect(s.start).toBe(s.ownStart);
      expect(s.end).toBe(s.ownEnd);
    }
  });
});

describe("CutPlanner", () => {
  it("plans the same cuts whatever blocks the envelope arrives in", () => {
    for (const seed of [21, 22, 23]) {
      // Prepare
      const { envelope } = speech(500, seed);
      const rand = random(seed);
      const planner = new CutPlanner(OPTS);
      const streamed = [];
      // Act
      for (let at = 0; at < envelope.length; ) {
        const size = 1 + Math.floor(rand() * 3000);
        streamed.push(...planner.push(envelope.subarray(at, at + size)));
        at += size;
      }
      streamed.push(...planner.finish());
      // Assess
      expect(streamed).toEqual(planCuts(envelope, OPTS));
    }
  });

  it("decides each segment within a bounded look-ahead and holds a bounded buffer", () => {
    // Prepare
    const { envelope } = speech(1800, 31);
    const planner = new CutPlanner(OPTS);
    const block = 100;
    let maxBuffered = 0;
    const lags: number[] = [];
    // Act
    for (let at = 0; at < envelope.length; at += block) {
      const ready = planner.push(envelope.subarray(at, at + block));
      const heard = Math.min(envelope.length, at + block) * FRAME;
      for (const s of ready) lags.push(heard - s.ownEnd);
      maxBuffered = Math.max(maxBuffered, planner.bufferedSeconds);
    }
    planner.finish();
    // Assess
    expect(lags.length).toBeGreaterThan(25);
    for (const lag of lags) expect(lag).toBeLessThanOrEqual(planner.lookAheadSeconds + block * FRAME);
    expect(planner.lookAheadSeconds).toBeLessThanOrEqual(15 + 10 + 0.2);
    expect(maxBuffered).toBeLessThan(60 + planner.lookAheadSeconds + 2 * block * FRAME);
  });

  it("refuses options that cannot give segments", () => {
    expect(() => new CutPlanner({ ...OPTS, frameSeconds: 0 })).toThrow(RangeError);
    expect(() => new CutPlanner({ ...OPTS, overlapSeconds: 60 })).toThrow(RangeError);
  });
});
