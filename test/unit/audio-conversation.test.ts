import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { loadClipBank } from "../audio/clip-bank.js";
import { buildConversation, buildSilence, type Recording } from "../audio/conversation.js";
import { expectedWords, sliceRecording, spliceRecordings } from "../audio/edit.js";

const SAMPLE_RATE = 16000;

function fingerprint(recording: Recording): string {
  return createHash("sha1").update(new Uint8Array(recording.samples.buffer)).update(JSON.stringify(recording.words)).digest("hex");
}

function rms(samples: Int16Array, from: number, to: number): number {
  let sum = 0;
  for (let i = from; i < to; i++) sum += samples[i] * samples[i];
  return Math.sqrt(sum / Math.max(1, to - from));
}

describe("clip bank", () => {
  it("has 6 voices speaking the same distinct vocabulary", () => {
    // Act
    const bank = loadClipBank();

    // Assess
    expect(bank.voiceIds).toHaveLength(6);
    expect(bank.words.length).toBeGreaterThanOrEqual(75);
    expect(new Set(bank.words.map((word) => word.toLowerCase())).size).toBe(bank.words.length);
    for (const voice of bank.voiceIds) expect(bank.clip(voice, "meeting").length).toBeGreaterThan(0.2 * SAMPLE_RATE);
  });
});

describe("buildConversation", () => {
  it("is deterministic for a seed and differs across seeds", () => {
    // Act
    const first = buildConversation({ seed: 5, voices: 3, durationSeconds: 60, style: "quick-turns", noiseDb: -60 });
    const again = buildConversation({ seed: 5, voices: 3, durationSeconds: 60, style: "quick-turns", noiseDb: -60 });
    const other = buildConversation({ seed: 6, voices: 3, durationSeconds: 60, style: "quick-turns", noiseDb: -60 });

    // Assess
    expect(fingerprint(first)).toBe(fingerprint(again));
    expect(fingerprint(first)).not.toBe(fingerprint(other));
    expect(first.samples.length).toBe(60 * SAMPLE_RATE);
    expect(first.duration).toBe(60);
  });

  it("places every word exactly where its samples are: sound inside words, digital silence between", () => {
    // Prepare
    const recording = buildConversation({ seed: 9, voices: 4, durationSeconds: 90, style: "meeting" });
    const bank = loadClipBank();

    // Assess
    let previousEnd = 0;
    for (const word of recording.words) {
      const start = Math.round(word.start * SAMPLE_RATE);
      const end = Math.round(word.end * SAMPLE_RATE);
      expect(word.start * SAMPLE_RATE).toBeCloseTo(start, 6);
      const voice = recording.speakerVoices![recording.speakers.indexOf(word.speaker)];
      expect(recording.samples.subarray(start, end)).toEqual(bank.clip(voice, word.word));
      expect(rms(recording.samples, start, end)).toBeGreaterThan(300);
      expect(recording.samples.subarray(previousEnd, start).every((value) => value === 0)).toBe(true);
      previousEnd = end;
    }
  });

  it("keeps a noise floor low but not zero in pauses", () => {
    // Act
    const recording = buildConversation({ seed: 2, voices: 2, durationSeconds: 30, noiseDb: -60 });

    // Assess
    const gapStart = Math.round(recording.words[0].end * SAMPLE_RATE);
    const gapEnd = Math.round(recording.words[1].start * SAMPLE_RATE);
    const level = rms(recording.samples, gapStart, gapEnd);
    expect(level).toBeGreaterThan(10);
    expect(level).toBeLessThan(100);
  });

  it("lecture: one voice carries it, the others ask rare short questions", () => {
    // Act
    const recording = buildConversation({ seed: 3, voices: 4, durationSeconds: 900, style: "lecture" });

    // Assess
    const bySpeaker = new Map<string, number>();
    for (const word of recording.words) bySpeaker.set(word.speaker, (bySpeaker.get(word.speaker) ?? 0) + 1);
    expect(bySpeaker.get("S1")! / recording.words.length).toBeGreaterThan(0.9);
    const questionStarts = recording.words.filter((word, index) => word.speaker !== "S1" && recording.words[index - 1]?.speaker === "S1");
    const longestWithoutQuestion = Math.max(...questionStarts.map((word, index) => word.start - (questionStarts[index - 1]?.start ?? 0)));
    expect(longestWithoutQuestion).toBeGreaterThan(100);
  });

  it("follows an explicit script, even past the requested duration", () => {
    // Act
    const recording = buildConversation({ seed: 1, voices: 2, durationSeconds: 1, turns: [{ speaker: 2, words: 3 }, { speaker: 1, words: 4 }] });

    // Assess
    expect(recording.words.map((word) => word.speaker)).toEqual(["S2", "S2", "S2", "S1", "S1", "S1", "S1"]);
    expect(recording.duration).toBeGreaterThan(recording.words[6].end);
  });

  it("builds an hour in a few seconds", () => {
    // Act
    const started = performance.now();
    const recording = buildConversation({ seed: 4, voices: 6, durationSeconds: 3600, style: "meeting", noiseDb: -60 });

    // Assess
    expect(performance.now() - started).toBeLessThan(8000);
    expect(recording.words.length).toBeGreaterThan(3000);
    expect(new Set(recording.words.map((word) => word.speaker)).size).toBe(6);
  });
});

describe("editing recordings", () => {
  it("slices by the half-word rule and splices with shifted truth", () => {
    // Prepare
    const recording = buildConversation({ seed: 8, voices: 2, durationSeconds: 60, style: "quick-turns" });
    const word = recording.words[10];
    const cutInside = word.start + 0.6 * (word.end - word.start); // 40% of the word is inside: not heard

    // Act
    const slice = sliceRecording(recording, cutInside, cutInside + 10);
    const splice = spliceRecordings([slice, buildSilence(1), slice], 0.5);

    // Assess
    expect(slice.words[0].word).toBe(recording.words[11].word);
    const cutLate = word.start + 0.6 * (word.end - word.start);
    expect(expectedWords(recording, cutLate - 5, cutLate).at(-1)?.word).toBe(word.word);
    expect(splice.words).toHaveLength(slice.words.length * 2);
    expect(splice.words[slice.words.length].start).toBeCloseTo(slice.words[0].start + slice.duration + 1 + 1, 6);
  });
});
