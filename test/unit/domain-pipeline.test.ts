import { describe, expect, it } from "vitest";
import { seededRandom } from "../audio/seeded-random.js";
import { planCuts } from "../../shared/domain/cutting/plan-cuts.js";
import { linkSpeakers } from "../../shared/domain/speakers/link-speakers.js";
import { stitchSegments } from "../../shared/domain/stitching/stitch.js";
import type { CutSegment, SegmentResult, Word } from "../../shared/domain/types.js";
import { alignWords, meanStartError, speakerAccuracy, wordErrorRate, type TruthWord } from "../support/metrics.js";

/** A seeded generator, so every run of these tests sees the same data. */
const random = (seed: number): (() => number) => seededRandom(seed).next;

const FRAME = 0.01;

/** Two people taking turns of 2-6 s, with short pauses inside turns and longer ones between. */
function dialogue(seconds: number, rand: () => number): TruthWord[] {
  const words: TruthWord[] = [];
  let t = 0.3;
  let speaker = "A";
  while (t < seconds - 8) {
    const turnEnd = t + 2 + rand() * 4;
    while (t < turnEnd) {
      const length = 0.15 + rand() * 0.3;
      words.push({ word: `w${words.length}`, start: t, end: t + length, speaker });
      t += length + 0.05 + rand() * 0.1 + (rand() < 0.1 ? 0.4 : 0);
    }
    t += 0.3 + rand() * 0.7;
    speaker = speaker === "A" ? "B" : "A";
  }
  return words;
}

function envelopeOf(words: TruthWord[], seconds: number, rand: () => number): Float32Array {
  const envelope = new Float32Array(Math.round(seconds / FRAME)).map(() => -55 + rand() * 4);
  for (const w of words) {
    for (let f = Math.round(w.start / FRAME); f < Math.round(w.end / FRAME); f++) envelope[f] = -22 + rand() * 6;
  }
  return envelope;
}

/**
 * A provider's answer: the words fully inside the audio, ±100 ms jitter,
 * a fragment for a word cut by the audio's end, its own speaker numbering.
 */
function provider(truth: TruthWord[], segment: CutSegment, rand: () => number): SegmentResult {
  const labels = rand() < 0.5 ? { A: "SPEAKER_00", B: "SPEAKER_01" } : { A: "SPEAKER_01", B: "SPEAKER_00" };
  const local = (t: number) => Math.max(0, t - segment.start + (rand() - 0.5) * 0.2);
  const words: Word[] = [];
  for (const w of truth) {
    const label = labels[w.speaker as "A" | "B"];
    if (w.start >= segment.start && w.end <= segment.end) {
      words.push({ word: w.word, start: local(w.start), end: local(w.end), speaker: label });
    } else if (w.start < segment.end && w.end > segment.end) {
      words.push({ word: "frag", start: local(w.start), end: segment.end - segment.start, speaker: label });
    }
  }
  words.sort((a, b) => a.start - b.start);
  return {
    jobId: "job", index: segment.index, segment, language: "english",
    text: words.map((w) => w.word).join(" "), words, spans: [], speakers: ["SPEAKER_00", "SPEAKER_01"],
  };
}

describe("planned, transcribed and stitched", () => {
  it("recovers every word once, with the right speaker, from a 10-minute dialogue", () => {
    for (const seed of [1, 2, 3]) {
      // Prepare
      const rand = random(seed);
      const seconds = 600;
      const truth = dialogue(seconds, rand);
      const segments = planCuts(envelopeOf(truth, seconds, rand), { frameSeconds: FRAME, chunkSeconds: 60, overlapSeconds: 4 });
      const results = segments.map((s) => provider(truth, s, rand));
      // Act
      const links = linkSpeakers(results);
      const t = stitchSegments(results, { duration: seconds, diarize: true, speakerMap: links.map });
      // Assess
      expect(segments.length).toBeGreaterThanOrEqual(10);
      expect(links.unresolved).toEqual([]);
      expect(wordErrorRate(truth.map((w) => w.word), t.words.map((w) => w.word))).toBe(0);
      const pairs = alignWords(truth, t.words);
      expect(meanStartError(pairs)).toBeLessThan(0.06);
      expect(speakerAccuracy(pairs)).toBe(1);
      expect(t.speakers).toEqual(["SPEAKER_00", "SPEAKER_01"]);
      expect(t.language).toBe("en");
    }
  });
});
