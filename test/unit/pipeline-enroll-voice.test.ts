/**
 * Voice enrollment (shared/pipeline/enroll-voice.ts) and the enrolled-voice snapshot a job takes when it is
 * chunked (enrolled-snapshot.ts), on in-memory adapters with the real ffmpeg and a fake provider.
 */
import { afterEach, describe, expect, it } from "vitest";
import { SAMPLE_RATE } from "../../shared/audio/ffmpeg.js";
import { wavBytes } from "../../shared/audio/wav.js";
import { chunkRecording } from "../../shared/pipeline/chunk-recording.js";
import { removeVoiceOfClip } from "../../shared/pipeline/enroll-voice.js";
import { enrolledKeys, enrolledSnapshotSchema } from "../../shared/domain/speakers/enrolled-voices.js";
import { answerOf, wordsEverySecond } from "../support/fake-provider.js";
import { memoryPipeline, type MemoryPipeline } from "../support/memory-context.js";

let pipeline: MemoryPipeline | undefined;
afterEach(() => {
  pipeline?.dispose();
  pipeline = undefined;
});

const BUCKET = "stt-input";

/** 0.8 s tone bursts with pauses: sound the energy check hears. */
function bursts(seconds: number): Buffer {
  const pcm = Buffer.alloc(Math.round(seconds * SAMPLE_RATE) * 2);
  for (let i = 0; i < seconds * SAMPLE_RATE; i++) {
    const t = i / SAMPLE_RATE;
    pcm.writeInt16LE(t % 1.1 < 0.8 ? Math.round(6000 * Math.sin(2 * Math.PI * 180 * t)) : 0, i * 2);
  }
  return pcm;
}

function oneVoice(): MemoryPipeline {
  return (pipeline = memoryPipeline({ answer: () => answerOf(wordsEverySecond(6, { speaker: "SPEAKER_00" })) }));
}

describe("enrollVoice: a clip under voices/ registers a voice", () => {
  it("stores a READY voice with its speech pieces, and starts no job", async () => {
    // Prepare
    const { ctx, sources, jobs, provider } = oneVoice();
    const etag = sources.put({ bucket: BUCKET, key: "voices/alice.wav", body: wavBytes(bursts(8)) });

    // Act
    const outcome = await chunkRecording(ctx, { bucket: BUCKET, key: "voices/alice.wav", etag });

    // Assess
    expect(outcome).toEqual({ kind: "voice", status: "READY", repeat: false });
    const voice = await jobs.getVoice("alice");
    expect(voice).toMatchObject({ name: "alice", status: "READY", source: { bucket: BUCKET, key: "voices/alice.wav" } });
    expect(voice!.seconds).toBeCloseTo(8, 1);
    expect(voice!.speech.length).toBeGreaterThanOrEqual(2);
    expect(provider.calls).toHaveLength(1);
    expect(provider.calls[0].request).toMatchObject({ diarize: true });
    expect(await jobs.jobsForSource(BUCKET, "voices/alice.wav", "bySource")).toEqual([]);
  });

  it("is idempotent: the same object's event again asks nothing and keeps the item", async () => {
    // Prepare
    const { ctx, sources, jobs, provider } = oneVoice();
    const etag = sources.put({ bucket: BUCKET, key: "voices/alice.wav", body: wavBytes(bursts(8)) });
    await chunkRecording(ctx, { bucket: BUCKET, key: "voices/alice.wav", etag });
    const first = await jobs.getVoice("alice");

    // Act
    const again = await chunkRecording(ctx, { bucket: BUCKET, key: "voices/alice.wav", etag });

    // Assess
    expect(again).toEqual({ kind: "voice", status: "READY", repeat: true });
    expect(provider.calls).toHaveLength(1);
    expect(await jobs.getVoice("alice")).toEqual(first);
  });

  it("ignores an event for an older upload of the key", async () => {
    // Prepare
    const { ctx, sources, provider } = oneVoice();
    sources.put({ bucket: BUCKET, key: "voices/alice.wav", body: wavBytes(bursts(8)) });

    // Act
    const outcome = await chunkRecording(ctx, { bucket: BUCKET, key: "voices/alice.wav", etag: '"0123456789abcdef0123456789abcdef"' });

    // Assess
    expect(outcome).toEqual({ kind: "voice-ignored", why: "stale" });
    expect(provider.calls).toHaveLength(0);
  });

  it.each([
    ["too short", 2, "too short: 2.0 s"],
    ["too long", 33, "too long: more than 31 s"],
    ["silent", 0, "no speech heard"],
  ])("refuses a clip that is %s, with the reason, without asking the provider", async (_what, seconds, reason) => {
    // Prepare
    const { ctx, sources, jobs, provider } = oneVoice();
    const body = seconds === 0 ? wavBytes(Buffer.alloc(6 * SAMPLE_RATE * 2)) : wavBytes(bursts(seconds));
    sources.put({ bucket: BUCKET, key: "voices/bob.wav", body });

    // Act
    await chunkRecording(ctx, { bucket: BUCKET, key: "voices/bob.wav" });

    // Assess
    const voice = await jobs.getVoice("bob");
    expect(voice).toMatchObject({ status: "REFUSED", speech: [] });
    expect(voice!.reason).toContain(reason);
    expect(provider.calls).toHaveLength(0);
  });

  it("refuses a clip where the provider hears two voices", async () => {
    // Prepare
    const { ctx, sources, jobs } = (pipeline = memoryPipeline({
      answer: () => answerOf([...wordsEverySecond(3, { speaker: "SPEAKER_00" }), ...wordsEverySecond(3, { from: 4, speaker: "SPEAKER_01" })]),
    }));
    sources.put({ bucket: BUCKET, key: "voices/pair.wav", body: wavBytes(bursts(8)) });

    // Act
    await chunkRecording(ctx, { bucket: BUCKET, key: "voices/pair.wav" });

    // Assess
    expect(await jobs.getVoice("pair")).toMatchObject({ status: "REFUSED", reason: expect.stringContaining("two voices heard") });
  });
});

describe("a job with speakers: the enrolled voices it names, resolved when it is chunked", () => {
  it("copies each named voice's clip into the job's work area, with its pieces", async () => {
    // Prepare
    const { ctx, sources, work } = oneVoice();
    const etag = sources.put({ bucket: BUCKET, key: "voices/alice.wav", body: wavBytes(bursts(8)) });
    await chunkRecording(ctx, { bucket: BUCKET, key: "voices/alice.wav", etag });
    sources.put({ bucket: BUCKET, key: "calls/a.wav", body: wavBytes(bursts(30)), metadata: { speakers: "alice", "chunk-seconds": "20" } });

    // Act
    const outcome = await chunkRecording(ctx, { bucket: BUCKET, key: "calls/a.wav" });

    // Assess
    expect(outcome.kind).toBe("started");
    if (outcome.kind !== "started") return;
    const snapshot = enrolledSnapshotSchema.parse(await work.getJson(enrolledKeys.snapshot(outcome.jobId)));
    expect(snapshot.voices).toHaveLength(1);
    expect(snapshot.voices[0].name).toBe("alice");
    const clip = await work.getBytes(enrolledKeys.clip(outcome.jobId, snapshot.voices[0].clip));
    expect(clip.byteLength / 2 / SAMPLE_RATE).toBeCloseTo(8, 1);
  });

  it("fails the job at once when a name is not a READY voice", async () => {
    // Prepare
    const { ctx, sources, jobs } = oneVoice();
    sources.put({ bucket: BUCKET, key: "calls/b.wav", body: wavBytes(bursts(30)), metadata: { speakers: "alice,bob" } });

    // Act
    const outcome = await chunkRecording(ctx, { bucket: BUCKET, key: "calls/b.wav" });

    // Assess
    expect(outcome).toMatchObject({ kind: "failed", reason: "speakers: no registered voice 'alice'" });
    if (outcome.kind !== "failed") return;
    expect(jobs.peek(outcome.jobId)).toMatchObject({ status: "FAILED", errorCode: "invalid_options" });
  });

  it("fails a job asking for every voice when none is registered", async () => {
    // Prepare
    const { ctx, sources } = oneVoice();
    sources.put({ bucket: BUCKET, key: "calls/c.wav", body: wavBytes(bursts(30)), metadata: { speakers: "*" } });

    // Act
    const outcome = await chunkRecording(ctx, { bucket: BUCKET, key: "calls/c.wav" });

    // Assess
    expect(outcome).toMatchObject({ kind: "failed", reason: expect.stringContaining("none is registered") });
  });
});

describe("removeVoiceOfClip: a deleted clip under voices/ removes its voice", () => {
  it("removes the voice once its clip is gone, and keeps one uploaded again", async () => {
    // Prepare
    const { ctx, sources, jobs } = oneVoice();
    const etag = sources.put({ bucket: BUCKET, key: "voices/alice.wav", body: wavBytes(bursts(8)) });
    await chunkRecording(ctx, { bucket: BUCKET, key: "voices/alice.wav", etag });

    // Act: an event while the clip is there again, then one after it is gone
    const whileThere = await removeVoiceOfClip(ctx, { bucket: BUCKET, key: "voices/alice.wav" });
    sources.delete(BUCKET, "voices/alice.wav");
    const afterDelete = await removeVoiceOfClip(ctx, { bucket: BUCKET, key: "voices/alice.wav" });
    const repeated = await removeVoiceOfClip(ctx, { bucket: BUCKET, key: "voices/alice.wav" });

    // Assess
    expect([whileThere, afterDelete, repeated]).toEqual([false, true, false]);
    expect(await jobs.getVoice("alice")).toBeUndefined();
  });
});
