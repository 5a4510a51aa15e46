/** The ground-truth provider speaks Together's API: auth, formats, models, errors and fault switches. */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { buildConversation, buildSilence } from "../audio/conversation.js";
import { sliceRecording, spliceRecordings } from "../audio/edit.js";
import { encodeToBytes } from "../audio/write-audio.js";
import { DEFAULT_OPTIONS } from "../provider/options.js";
import { postAudio } from "../provider/post-audio.js";
import { startGroundTruthProvider, type GroundTruthProvider } from "../provider/server.js";
import type { VerboseBody } from "../provider/transcript-body.js";

const conversation = buildConversation({ seed: 31, voices: 2, durationSeconds: 40, style: "quick-turns" });
const chunk = sliceRecording(conversation, 5.123, 17.123);
const truthText = chunk.words.map((word) => word.word).join(" ");
let provider: GroundTruthProvider;
let audio: Buffer;

beforeAll(async () => {
  provider = await startGroundTruthProvider({ recordings: [conversation], seed: 7 });
  audio = await encodeToBytes(chunk, "flac");
});
afterAll(async () => {
  await provider.close();
});
beforeEach(() => {
  // Every test starts from the documented defaults.
  const { apiKey: _key, port: _port, host: _host, ...defaults } = DEFAULT_OPTIONS;
  provider.configure({ ...defaults, seed: 7 });
  provider.resetStats();
});

describe("ground-truth provider: API surface", () => {
  it("rejects a missing or wrong key with 401 in the error shape", async () => {
    // Act
    const missing = await postAudio(provider.url, undefined, audio);
    const wrong = await postAudio(provider.url, "nope", audio);

    // Assess
    for (const response of [missing, wrong]) {
      expect(response.status).toBe(401);
      const body = JSON.parse(response.text) as { error: Record<string, unknown> };
      expect(Object.keys(body.error).sort()).toEqual(["code", "message", "param", "type"]);
    }
  });

  it("answers json with text only, verbose_json with segments and words, text as plain text", async () => {
    // Act
    const json = await postAudio(provider.url, provider.apiKey, audio, { response_format: "json" });
    const verbose = await postAudio(provider.url, provider.apiKey, audio, { response_format: "verbose_json", timestamp_granularities: ["word"] });
    const segmentsOnly = await postAudio(provider.url, provider.apiKey, audio, { response_format: "verbose_json" });
    const text = await postAudio(provider.url, provider.apiKey, audio, { response_format: "text" });

    // Assess
    expect(JSON.parse(json.text)).toEqual({ text: truthText });
    const body = JSON.parse(verbose.text) as VerboseBody;
    expect(body).toMatchObject({ task: "transcribe", language: "en", text: truthText });
    expect(body.words).toHaveLength(chunk.words.length);
    expect(body.words?.[0].speaker_id).toBeUndefined();
    expect(body.speaker_segments).toBeUndefined();
    expect(body.segments.map((segment) => segment.text).join(" ")).toBe(truthText);
    expect((JSON.parse(segmentsOnly.text) as VerboseBody).words).toBeUndefined();
    expect(text.headers["content-type"]).toMatch(/^text\/plain/);
    expect(text.text).toBe(truthText);
  });

  it("diarizes only when asked, with SPEAKER_nn labels", async () => {
    // Act
    const response = await postAudio(provider.url, provider.apiKey, audio, { response_format: "verbose_json", diarize: true });

    // Assess
    const body = JSON.parse(response.text) as VerboseBody;
    expect(body.words?.every((word) => /^SPEAKER_\d\d$/.test(word.speaker_id ?? ""))).toBe(true);
    expect(body.speaker_segments?.flatMap((segment) => segment.words.map((word) => word.word)).join(" ")).toBe(truthText);
  });

  it("translates with task translate, and can name the language", async () => {
    // Prepare
    provider.configure({ languageAsName: true });

    // Act
    const translation = await postAudio(provider.url, provider.apiKey, audio, { response_format: "verbose_json" }, { endpoint: "translations" });
    const transcription = await postAudio(provider.url, provider.apiKey, audio, { response_format: "verbose_json", language: "en" });

    // Assess
    expect(JSON.parse(translation.text)).toMatchObject({ task: "translate", text: truthText });
    expect(JSON.parse(transcription.text)).toMatchObject({ task: "transcribe", language: "english" });
  });

  it("returns text only for Voxtral, even when verbose_json is asked for", async () => {
    // Act
    const response = await postAudio(provider.url, provider.apiKey, audio, { model: "mistralai/Voxtral-Mini-3B-2507", response_format: "verbose_json" });

    // Assess
    expect(JSON.parse(response.text)).toEqual({ text: truthText });
  });

  it("rejects unknown models, bad formats, undecodable files and oversize bodies", async () => {
    // Prepare
    provider.configure({ maxUploadBytes: 1000 });

    // Act
    const tooLarge = await postAudio(provider.url, provider.apiKey, audio);
    provider.configure({ maxUploadBytes: DEFAULT_OPTIONS.maxUploadBytes });
    const model = await postAudio(provider.url, provider.apiKey, audio, { model: "whisper-9" });
    const format = await postAudio(provider.url, provider.apiKey, audio, { response_format: "srt" });
    const garbage = await postAudio(provider.url, provider.apiKey, Buffer.from("not audio at all"));

    // Assess
    expect(tooLarge.status).toBe(413);
    expect([model.status, format.status, garbage.status]).toEqual([400, 400, 400]);
    expect(JSON.parse(garbage.text).error.param).toBe("file");
  });

  it("injects 429 with Retry-After and rate-limit headers, and counts it", async () => {
    // Prepare
    provider.configure({ failureRate: 1, failureKinds: ["429"], retryAfterSeconds: 3 });

    // Act
    const response = await postAudio(provider.url, provider.apiKey, audio);

    // Assess
    expect(response.status).toBe(429);
    expect(response.headers["retry-after"]).toBe("3");
    expect(response.headers["x-ratelimit-remaining"]).toBe("0");
    expect(provider.stats()).toMatchObject({ requests: 1, byStatus: { "429": 1 }, faultsInjected: 1, audioSecondsBilled: 0 });
  });

  it("hangs then resets the connection on a timeout fault", async () => {
    // Prepare
    provider.configure({ failureRate: 1, failureKinds: ["timeout"], hangSeconds: 0.2 });

    // Act
    const outcome = await postAudio(provider.url, provider.apiKey, audio).then(
      () => "answered",
      () => "reset",
    );

    // Assess
    expect(outcome).toBe("reset");
    expect(provider.stats().byStatus.timeout).toBe(1);
  });

  it("answers a permanent error every time when told to", async () => {
    // Prepare
    provider.configure({ permanentError: 413 });

    // Act
    const responses = await Promise.all([1, 2].map(() => postAudio(provider.url, provider.apiKey, audio)));

    // Assess
    expect(responses.map((response) => response.status)).toEqual([413, 413]);
  });

  it("breaks answers on purpose when malformed is set", async () => {
    // Prepare
    provider.configure({ malformed: ["invalid-json"] });

    // Act
    const response = await postAudio(provider.url, provider.apiKey, audio, { response_format: "verbose_json" });

    // Assess
    expect(response.status).toBe(200);
    expect(() => JSON.parse(response.text)).toThrow();
  });

  it("counts requests, parallelism and billed audio", async () => {
    // Prepare
    provider.configure({ latency: { baseSeconds: 0.2, perAudioSecond: 0 } });

    // Act
    await Promise.all([1, 2, 3].map(() => postAudio(provider.url, provider.apiKey, audio)));

    // Assess
    const stats = provider.stats();
    expect(stats.requests).toBe(3);
    expect(stats.byStatus["200"]).toBe(3);
    expect(stats.maxInFlight).toBeGreaterThanOrEqual(2);
    expect(stats.inFlight).toBe(0);
    expect(stats.audioSecondsBilled).toBeCloseTo(3 * chunk.duration, 1);
  });

  it("repeats itself exactly for the same audio and seed, realism included", async () => {
    // Prepare
    provider.configure({ jitterSeconds: 0.05, perturbWords: 0.3, stretchWordEnds: true });

    // Act
    const first = await postAudio(provider.url, provider.apiKey, audio, { response_format: "verbose_json", timestamp_granularities: ["word"] });
    const second = await postAudio(provider.url, provider.apiKey, audio, { response_format: "verbose_json", timestamp_granularities: ["word"] });

    // Assess
    expect(second.text).toBe(first.text);
    expect(first.text).not.toContain(JSON.stringify(truthText));
  });

  it("locates the same bytes once, and again once the known recordings change", async () => {
    // Prepare
    const other = await encodeToBytes(sliceRecording(conversation, 20.5, 31.5), "flac");
    const ask = () => postAudio(provider.url, provider.apiKey, other, { response_format: "verbose_json", timestamp_granularities: ["word"] });

    // Act
    const first = await ask();
    const second = await ask();
    const remembered = provider.stats().uploadsHeardBefore;
    provider.addRecording(conversation);
    const third = await ask();

    // Assess
    expect(remembered).toBe(1);
    expect(second.text).toBe(first.text);
    expect(provider.stats().uploadsHeardBefore).toBe(1);
    expect(third.text).toBe(first.text);
  });

  it("places a probe cut from audio it located before through that audio, with the answer the locator gives (rehearSlices)", async () => {
    // Prepare: the whole conversation heard once; then a probe of two stretches of it between silences
    const w = conversation.words;
    const probe = spliceRecordings([
      buildSilence(0.4),
      sliceRecording(conversation, w[2].start - 0.05, w[6].end + 0.05),
      buildSilence(0.4),
      sliceRecording(conversation, w[15].start - 0.05, w[20].end + 0.05),
      buildSilence(0.4),
    ]);
    const probeBytes = await encodeToBytes(probe, "flac");
    const ask = (bytes: Uint8Array) => postAudio(provider.url, provider.apiKey, bytes, { response_format: "verbose_json", timestamp_granularities: ["word"] });
    provider.configure({ rehearSlices: true });
    await ask(await encodeToBytes(conversation, "flac"));

    // Act
    const rehearsed = await ask(probeBytes);
    const placed = provider.stats().uploadsRehearsed;
    provider.configure({ rehearSlices: false });
    provider.addRecording(conversation);
    const located = await ask(probeBytes);

    // Assess
    expect(placed).toBe(1);
    expect(provider.stats().uploadsRehearsed).toBe(1);
    expect(rehearsed.text).toBe(located.text);
    expect((JSON.parse(rehearsed.text) as VerboseBody).words?.map((x) => x.word)).toEqual([...w.slice(2, 7), ...w.slice(15, 21)].map((x) => x.word));
  });

  it("hallucinates over trailing silence when told to", async () => {
    // Prepare
    provider.configure({ hallucinateTrailing: true });
    const withSilence = await encodeToBytes(spliceRecordings([chunk, buildSilence(2)]), "flac");

    // Act
    const response = await postAudio(provider.url, provider.apiKey, withSilence, { response_format: "json" });

    // Assess
    const { text } = JSON.parse(response.text) as { text: string };
    expect(text.startsWith(truthText)).toBe(true);
    expect(text.slice(truthText.length).trim()).toMatch(/^(you|Thank you\.)$/);
  });
});
