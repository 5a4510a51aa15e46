import { describe, expect, it } from "vitest";
import { loudSeconds, refineWordStarts } from "../../shared/domain/words/refine-starts.js";

/** An envelope (10 ms frames) of -70 dB silence with words as -20 dB bursts. */
function envelope(seconds: number, bursts: Array<[number, number]>): Float32Array {
  const frames = new Float32Array(Math.round(seconds * 100)).fill(-70);
  for (const [from, to] of bursts) for (let f = Math.round(from * 100); f < Math.round(to * 100); f++) frames[f] = -20;
  return frames;
}

describe("refineWordStarts", () => {
  it("moves jittered starts to the onsets of words that follow a pause", () => {
    // Prepare
    const env = envelope(3, [[0.5, 0.8], [1.0, 1.4], [2.0, 2.3]]);
    const words = [
      { word: "a", start: 0.58, end: 0.8 },
      { word: "b", start: 0.93, end: 1.4 },
      { word: "c", start: 2.1, end: 2.3 },
    ];

    // Act
    const refined = refineWordStarts(words, env, { frameSeconds: 0.01 });

    // Assess
    expect(refined.map((w) => +w.start.toFixed(2))).toEqual([0.5, 1.0, 2.0]);
  });

  it("keeps the provider's time where no onset is near (connected speech)", () => {
    const env = envelope(3, [[0.2, 2.8]]);
    const words = [{ word: "a", start: 0.2, end: 0.5 }, { word: "b", start: 1.1, end: 1.5 }];
    expect(refineWordStarts(words, env, { frameSeconds: 0.01 })[1].start).toBe(1.1);
  });

  it("never reorders words", () => {
    const env = envelope(2, [[0.5, 0.6], [0.7, 1.0]]);
    const words = [{ word: "a", start: 0.62, end: 0.65 }, { word: "b", start: 0.64, end: 1.0 }];
    const refined = refineWordStarts(words, env, { frameSeconds: 0.01 });
    expect(refined[0].start).toBeLessThan(refined[1].start);
  });
});

describe("loudSeconds", () => {
  it("counts sound well above the segment's floor, and none in near-silence", () => {
    expect(loudSeconds(envelope(10, [[1, 3], [5, 5.5]]), 0.01)).toBeCloseTo(2.5, 2);
    expect(loudSeconds(new Float32Array(1000).fill(-62), 0.01)).toBe(0);
  });
});
