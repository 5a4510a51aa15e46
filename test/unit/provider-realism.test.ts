/**
 * The ground-truth provider's realism switches for what real providers get wrong beyond chunk edges:
 * a noisy diarizer on spliced probe clips, and Whisper's writing over silence (stock phrases, loops).
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildConversation, buildSilence, type Recording, type TrueWord } from "../audio/conversation.js";
import { sliceRecording, spliceRecordings } from "../audio/edit.js";
import { seededRandom } from "../audio/seeded-random.js";
import { encodeToBytes } from "../audio/write-audio.js";
import { hearWords } from "../provider/hear-words.js";
import { AudioLocator } from "../provider/locator.js";
import { DEFAULT_OPTIONS, type ProviderOptions } from "../provider/options.js";
import { postAudio } from "../provider/post-audio.js";
import { startGroundTruthProvider, type GroundTruthProvider } from "../provider/server.js";
import { STOCK_PHRASES } from "../provider/silence-hallucinations.js";
import { verboseBody, type VerboseBody } from "../provider/transcript-body.js";

const conversation = buildConversation({ seed: 21, voices: 3, durationSeconds: 180, style: "quick-turns", noiseDb: -60 });
let provider: GroundTruthProvider;

beforeAll(async () => {
  provider = await startGroundTruthProvider({ recordings: [conversation], seed: 5 });
});
afterAll(async () => {
  await provider.close();
});
beforeEach(() => {
  const { apiKey: _key, port: _port, host: _host, ...defaults } = DEFAULT_OPTIONS;
  provider.configure({ ...defaults, seed: 5 });
});

async function transcribe(recording: Recording, diarize = true): Promise<VerboseBody> {
  const audio = await encodeToBytes(recording, "flac");
  const response = await postAudio(provider.url, provider.apiKey, audio, {
    response_format: "verbose_json",
    timestamp_granularities: ["word", "segment"],
    diarize,
  });
  expect(response.status).toBe(200);
  return JSON.parse(response.text) as VerboseBody;
}

/** One whole turn (two words or more) of each of the given speakers, after `afterSeconds`: one voice per piece. */
function turnPieces(speakers: string[], afterSeconds: number): Recording[] {
  const words = conversation.words;
  return speakers.map((speaker, order) => {
    const first = words.findIndex(
      (word, index) =>
        word.start >= afterSeconds + 30 * order &&
        word.speaker === speaker &&
        words[index - 1]?.speaker !== speaker &&
        words[index + 1]?.speaker === speaker,
    );
    let last = first;
    while (words[last + 1]?.speaker === speaker) last++;
    return sliceRecording(conversation, words[first].start - 0.05, words[last].end + 0.05);
  });
}

function voiceOf(word: TrueWord): string {
  return conversation.speakerVoices![conversation.speakers.indexOf(word.speaker)];
}

function textOf(words: Array<{ word: string }> | undefined): string {
  return (words ?? []).map((word) => word.word).join(" ");
}

describe("ground-truth provider: noisy diarizer on spliced uploads", () => {
  it("with spliceUnheard=1 leaves every piece of a spliced upload unlabelled, and a one-piece upload alone", async () => {
    // Prepare
    provider.configure({ spliceUnheard: 1 });
    const probe = spliceRecordings(turnPieces(["S1", "S2", "S3"], 20), 0.3);
    const chunk = sliceRecording(conversation, 40, 55);

    // Act
    const spliced = await transcribe(probe);
    const plain = await transcribe(chunk);

    // Assess
    expect(textOf(spliced.words)).toBe(textOf(probe.words));
    expect(spliced.words?.every((word) => word.speaker_id === undefined)).toBe(true);
    expect(spliced.speaker_segments).toEqual([]);
    expect(spliced.segments.every((segment) => segment.speaker_id === undefined)).toBe(true);
    expect(textOf(plain.words)).toBe(textOf(chunk.words));
    expect(plain.words?.every((word) => /^SPEAKER_\d\d$/.test(word.speaker_id ?? ""))).toBe(true);
    expect(plain.speaker_segments?.flatMap((segment) => segment.words.map((word) => word.word)).join(" ")).toBe(textOf(chunk.words));
  });

  it("with spliceConfused=1 gives every piece the label of another voice in the clip", () => {
    // Prepare
    const pieces = turnPieces(["S1", "S2", "S3", "S1"], 60);
    const probe = spliceRecordings(pieces, 0.3);
    const locator = new AudioLocator();
    locator.add(conversation);
    const options: ProviderOptions = { ...DEFAULT_OPTIONS, spliceConfused: 1 };
    const random = seededRandom(3);

    // Act
    const heard = hearWords(locator.locate(probe.samples), probe.duration, options, random);
    const body = verboseBody(heard, { task: "transcribe", language: "en", duration: probe.duration, includeWords: true, diarize: true }, random);

    // Assess
    expect(textOf(heard)).toBe(textOf(probe.words));
    const clipVoices = new Set(probe.words.map(voiceOf));
    const labelOfVoice = new Map(heard.map((word, index) => [word.voice, body.words![index].speaker_id]));
    let at = 0;
    for (const piece of pieces) {
      const trueVoice = voiceOf(piece.words[0]);
      const heardVoices = new Set(heard.slice(at, at + piece.words.length).map((word) => word.voice));
      const labels = new Set(body.words!.slice(at, at + piece.words.length).map((word) => word.speaker_id));
      expect(heardVoices.size).toBe(1);
      const [voice] = heardVoices;
      expect(voice).not.toBe(trueVoice);
      expect(clipVoices.has(voice)).toBe(true);
      expect([...labels]).toEqual([labelOfVoice.get(voice)]);
      at += piece.words.length;
    }
  });

  it("with spliceConfused=1 answers a one-piece upload exactly as without it", async () => {
    // Prepare
    const chunk = sliceRecording(conversation, 100, 130);

    // Act
    const clean = await transcribe(chunk);
    provider.configure({ spliceConfused: 1, spliceUnheard: 1 });
    const noisy = await transcribe(chunk);

    // Assess
    expect(noisy).toEqual(clean);
  });
});

describe("ground-truth provider: hallucinations over silence", () => {
  it("with hallucinateSilence=1 writes a stock phrase inside an internal silence of 2 s or more", async () => {
    // Prepare
    provider.configure({ hallucinateSilence: 1 });
    const before = sliceRecording(conversation, 30, 38);
    const after = sliceRecording(conversation, 120, 128);
    const upload = spliceRecordings([before, buildSilence(3), after]);
    const silenceStart = before.words.at(-1)!.end;
    const silenceEnd = before.duration + 3 + after.words[0].start;

    // Act
    const body = await transcribe(upload, false);

    // Assess
    const inside = body.words!.filter((word) => word.start >= silenceStart && word.end <= silenceEnd);
    expect(STOCK_PHRASES).toContain(textOf(inside));
    expect(inside[0].start).toBeGreaterThan(silenceStart);
    expect(inside.at(-1)!.end).toBeLessThan(silenceEnd);
    expect(textOf(body.words)).toBe(`${textOf(before.words)} ${textOf(inside)} ${textOf(after.words)}`);
  });

  it.each([
    ["at the end", false],
    ["inside the upload", true],
  ])("with repetitionLoops=1 repeats the last phrase at least 4 times over a long silence %s", async (_where, inside) => {
    // Prepare
    provider.configure({ repetitionLoops: 1 });
    const before = sliceRecording(conversation, 50, 60);
    const after = sliceRecording(conversation, 140, 146);
    const upload = spliceRecordings(inside ? [before, buildSilence(6), after] : [before, buildSilence(6)]);
    const silenceStart = before.words.at(-1)!.end;
    const silenceEnd = inside ? before.duration + 6 + after.words[0].start : upload.duration;

    // Act
    const body = await transcribe(upload, false);

    // Assess
    const loop = body.words!.filter((word) => word.start >= silenceStart && word.end <= silenceEnd).map((word) => word.word);
    const phrase = [2, 3, 4, 5, 6]
      .map((length) => before.words.slice(-length).map((word) => word.word))
      .find((candidate) => loop.length % candidate.length === 0 && loop.every((word, index) => word === candidate[index % candidate.length]));
    expect(phrase).toBeDefined();
    expect(loop.length / phrase!.length).toBeGreaterThanOrEqual(4);
    expect(loop.length / phrase!.length).toBeLessThanOrEqual(10);
    expect(textOf(body.words)).toBe([textOf(before.words), ...loop, ...(inside ? [textOf(after.words)] : [])].join(" "));
  });

  it("repeats itself exactly for the same audio and seed", async () => {
    // Prepare
    provider.configure({ hallucinateSilence: 1, repetitionLoops: 0.5, spliceUnheard: 0.5, spliceConfused: 0.5 });
    const upload = spliceRecordings([sliceRecording(conversation, 10, 20), buildSilence(4), sliceRecording(conversation, 90, 100), buildSilence(6)]);

    // Act
    const first = await transcribe(upload);
    const second = await transcribe(upload);

    // Assess
    expect(second).toEqual(first);
  });
});
