/**
 * The ground-truth provider hears only the uploaded audio: these tests check that it finds where
 * that audio comes from and answers with the true words, in upload time, through real HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation, buildSilence, type Recording, type TrueWord } from "../audio/conversation.js";
import { expectedWords, sliceRecording, spliceRecordings } from "../audio/edit.js";
import { encodeToBytes, type AudioFormat } from "../audio/write-audio.js";
import { postAudio } from "../provider/post-audio.js";
import { startGroundTruthProvider, type GroundTruthProvider } from "../provider/server.js";
import type { VerboseBody } from "../provider/transcript-body.js";

const conversation = buildConversation({ seed: 21, voices: 3, durationSeconds: 180, style: "quick-turns", noiseDb: -60 });
const decoy = buildConversation({ seed: 22, voices: 3, durationSeconds: 120, style: "meeting" });
let provider: GroundTruthProvider;

beforeAll(async () => {
  provider = await startGroundTruthProvider({ recordings: [conversation, decoy] });
});
afterAll(async () => {
  await provider.close();
});

async function transcribe(recording: Recording, format: AudioFormat, diarize = false): Promise<VerboseBody> {
  const audio = await encodeToBytes(recording, format);
  const response = await postAudio(provider.url, provider.apiKey, audio, {
    response_format: "verbose_json",
    timestamp_granularities: ["word", "segment"],
    diarize,
  }, { filename: `chunk.${format}` });
  expect(response.status).toBe(200);
  return JSON.parse(response.text) as VerboseBody;
}

function expectSameWords(body: VerboseBody, truth: TrueWord[]): void {
  expect(body.words?.map((word) => word.word)).toEqual(truth.map((word) => word.word));
  body.words?.forEach((word, index) => {
    expect(Math.abs(word.start - truth[index].start)).toBeLessThan(0.03);
    expect(Math.abs(word.end - truth[index].end)).toBeLessThan(0.03);
  });
}

describe("ground-truth provider: locating uploads", () => {
  it.each([
    ["flac", 0.0, 30],
    ["flac", 47.3311, 77.3311],
    ["flac", 149.987, 180],
    ["mp3", 12.5021, 42.5021],
    ["mp3", 95.0707, 155.0707],
  ] as const)("finds a %s chunk [%d, %d) and answers its true words in chunk time", async (format, from, to) => {
    // Prepare
    const chunk = sliceRecording(conversation, from, to);

    // Act
    const body = await transcribe(chunk, format);

    // Assess
    expectSameWords(body, chunk.words);
    expect(body.text).toBe(chunk.words.map((word) => word.word).join(" "));
    expect(body.duration).toBeCloseTo(to - from, 1);
    expect(body.task).toBe("transcribe");
  });

  it("applies the edge rule: a word cut by the upload edge is heard only if more than half is inside", async () => {
    // Prepare: start 60% into one word (40% inside) and end 60% into another (60% inside)
    const first = conversation.words[40];
    const last = conversation.words[70];
    const from = first.start + 0.6 * (first.end - first.start);
    const to = last.start + 0.6 * (last.end - last.start);
    const chunk = sliceRecording(conversation, from, to);

    // Act
    const body = await transcribe(chunk, "flac");

    // Assess
    expect(body.words?.[0].word).toBe(conversation.words[41].word);
    expect(body.words?.at(-1)?.word).toBe(last.word);
    expect(body.words?.at(-1)?.end).toBeCloseTo(to - from, 2);
    expectSameWords(body, expectedWords(conversation, from, to));
  });

  it("locates each piece of a spliced probe clip and labels each true voice consistently", async () => {
    // Prepare: three pieces from three places, each mostly one voice, with short silences between
    const pieces = [40, 95, 150].map((at) => {
      const anchor = conversation.words.find((word) => word.start >= at)!;
      return sliceRecording(conversation, anchor.start - 0.05, anchor.start + 3);
    });
    const probe = spliceRecordings(pieces, 0.3);

    // Act
    const body = await transcribe(probe, "flac", true);

    // Assess
    expectSameWords(body, probe.words);
    const labelOf = new Map<string, Set<string>>();
    body.words?.forEach((word, index) => {
      const set = labelOf.get(probe.words[index].speaker) ?? new Set();
      set.add(word.speaker_id!);
      labelOf.set(probe.words[index].speaker, set);
    });
    for (const labels of labelOf.values()) expect(labels.size).toBe(1);
    const distinctLabels = new Set([...labelOf.values()].map((labels) => [...labels][0]));
    expect(distinctLabels.size).toBe(labelOf.size);
    expect(body.speaker_segments?.every((segment) => segment.words.every((word) => word.speaker_id === segment.speaker_id))).toBe(true);
  });

  it("answers empty text for silence and for sound it does not know", async () => {
    // Prepare
    const tone = buildSilence(5);
    for (let i = 0; i < tone.samples.length; i++) tone.samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * i) / 16000) * (i % 16000 < 8000 ? 1 : 0));

    // Act
    const silent = await transcribe(buildSilence(10, -60), "flac");
    const unknown = await transcribe(tone, "mp3");

    // Assess
    expect(silent.text).toBe("");
    expect(silent.words).toEqual([]);
    expect(unknown.text).toBe("");
  });
});
