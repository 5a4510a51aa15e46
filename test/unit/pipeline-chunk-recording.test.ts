/**
 * The chunk step (shared/pipeline/chunk-recording.ts) on in-memory adapters, with the real ffprobe/ffmpeg
 * and FLAC workers on a small generated WAV: the job it creates, the segments it stores and queues, and the
 * uploads it refuses.
 */
import { afterEach, describe, expect, it } from "vitest";
import { keys } from "../../shared/adapters/object-store.js";
import { SAMPLE_RATE } from "../../shared/audio/ffmpeg.js";
import { wavBytes } from "../../shared/audio/wav.js";
import { chunkRecording } from "../../shared/pipeline/chunk-recording.js";
import { memoryPipeline, type MemoryPipeline } from "../support/memory-context.js";

let pipeline: MemoryPipeline | undefined;
afterEach(() => {
  pipeline?.dispose();
  pipeline = undefined;
});

const BUCKET = "stt-input";
const SECONDS = 45;
/** Short segments, so a 45 s file makes several; no diarization, so the stitch needs no settled speakers. */
const METADATA = { "chunk-seconds": "20", "overlap-seconds": "2", diarize: "false" };

/** "Speech": 0.8 s bursts of a tone with 0.3 s pauses between, so the cut planner has quiet moments to choose. */
function bursts(seconds: number): Buffer {
  const pcm = Buffer.alloc(seconds * SAMPLE_RATE * 2);
  for (let i = 0; i < seconds * SAMPLE_RATE; i++) {
    const t = i / SAMPLE_RATE;
    const on = t % 1.1 < 0.8;
    pcm.writeInt16LE(on ? Math.round(6000 * Math.sin(2 * Math.PI * 180 * t)) : 0, i * 2);
  }
  return pcm;
}

const recording = wavBytes(bursts(SECONDS));

function upload(key: string, body: Uint8Array = recording, metadata: Record<string, string> = METADATA): MemoryPipeline {
  pipeline ??= memoryPipeline();
  pipeline.sources.put({ bucket: BUCKET, key, body, metadata });
  return pipeline;
}

describe("chunkRecording", () => {
  it("cuts an upload into segments, stores each one's FLAC and envelope, queues them in order and starts the job", async () => {
    // Prepare
    const { ctx, work, queues, jobs, checkpoints } = upload("calls/standup.wav");

    // Act
    const outcome = await chunkRecording(ctx, { bucket: BUCKET, key: "calls/standup.wav" });

    // Assess: the job
    expect(outcome).toMatchObject({ kind: "started", duration: SECONDS });
    if (outcome.kind !== "started") return;
    expect(outcome.segments).toBeGreaterThanOrEqual(2);
    const job = jobs.peek(outcome.jobId)!;
    expect(job).toMatchObject({ status: "RUNNING", segmentCount: outcome.segments, duration: SECONDS, source: { bucket: BUCKET, key: "calls/standup.wav" } });
    expect(job.source.etag).toMatch(/^[0-9a-f]{32}$/);
    expect(job.source.size).toBe(recording.byteLength);
    expect(job.options).toMatchObject({ chunkSeconds: 20, overlapSeconds: 2, diarize: false });
    // ... the messages: one per segment, in order, covering the recording with no gap
    const cuts = queues.segments.map((m) => m.segment);
    expect(queues.segments.map((m) => m.segment.index)).toEqual(cuts.map((_, i) => i));
    expect(queues.segments.map((m) => m.audioKey)).toEqual(cuts.map((_, i) => keys.segmentAudio(outcome.jobId, i)));
    expect(cuts[0]).toMatchObject({ start: 0, ownStart: 0 });
    expect(cuts[cuts.length - 1].end).toBeCloseTo(SECONDS, 2);
    for (let i = 1; i < cuts.length; i++) expect(cuts[i].ownStart).toBe(cuts[i - 1].ownEnd);
    // ... the audio each message names, as FLAC, and its envelope (a byte per 10 ms)
    for (const cut of cuts) {
      const audio = work.objects.get(keys.segmentAudio(outcome.jobId, cut.index))!;
      expect(audio.contentType).toBe("audio/flac");
      expect(Buffer.from(audio.body.subarray(0, 4)).toString("latin1")).toBe("fLaC");
      const envelope = work.objects.get(keys.segmentEnvelope(outcome.jobId, cut.index))!;
      expect(envelope.body.byteLength).toBeCloseTo((cut.end - cut.start) * 100, -1);
    }
    expect(queues.stitches).toEqual([]);
    expect(checkpoints).toEqual(["chunker:after-create", "chunker:before-mark-chunked"]);
  });

  it("treats the same upload event again as a duplicate: nothing cut or queued twice", async () => {
    // Prepare
    const { ctx, work, queues } = upload("calls/twice.wav");
    const first = await chunkRecording(ctx, { bucket: BUCKET, key: "calls/twice.wav" });
    const writes = work.writes.length;
    const queued = queues.segments.length;

    // Act
    const second = await chunkRecording(ctx, { bucket: BUCKET, key: "calls/twice.wav" });

    // Assess
    expect(second).toEqual({ kind: "duplicate", jobId: "jobId" in first ? first.jobId : "" });
    expect(work.writes).toHaveLength(writes);
    expect(queues.segments).toHaveLength(queued);
  });

  it("cuts again, to the same job, after a run that failed to queue a segment", async () => {
    // Prepare: the first send fails (SQS refused a batch)
    const { ctx, queues, jobs } = upload("calls/retry.wav");
    let refused = false;
    queues.beforeSend = () => {
      if (!refused) {
        refused = true;
        throw new Error("could not queue 1 segment message(s): throttled");
      }
    };
    const failed = chunkRecording(ctx, { bucket: BUCKET, key: "calls/retry.wav" });
    await expect(failed).rejects.toThrow("throttled");
    const [job] = await jobs.jobsForSource(BUCKET, "calls/retry.wav", "bySource");
    expect(job.status).toBe("CHUNKING");

    // Act: the upload event is delivered again (Lambda's retry)
    const outcome = await chunkRecording(ctx, { bucket: BUCKET, key: "calls/retry.wav" });

    // Assess
    expect(outcome).toMatchObject({ kind: "started", jobId: job.jobId });
    expect(jobs.peek(job.jobId)?.status).toBe("RUNNING");
    const indexes = queues.segments.map((m) => m.segment.index);
    expect(indexes.slice(-(outcome as { segments: number }).segments)).toEqual([...Array((outcome as { segments: number }).segments).keys()]);
  });

  it("asks for the stitch itself when every segment was done before it finished", async () => {
    // Prepare: transcribers so fast that each segment is counted as soon as it is queued
    const { ctx, queues, jobs } = upload("calls/fast.wav");
    queues.beforeSend = async (kind, messages) => {
      if (kind !== "segments") return;
      for (const m of messages) if ("segment" in m) await jobs.addDoneSegment(m.jobId, m.segment.index, ctx.now());
    };

    // Act
    const outcome = await chunkRecording(ctx, { bucket: BUCKET, key: "calls/fast.wav" });

    // Assess
    expect(outcome.kind).toBe("started");
    expect(queues.stitches).toEqual([{ kind: "stitch", jobId: "jobId" in outcome ? outcome.jobId : "" }]);
  });

  it("does nothing for an upload that is gone before its event is handled", async () => {
    // Prepare
    const { ctx, jobs } = (pipeline = memoryPipeline());

    // Act
    const outcome = await chunkRecording(ctx, { bucket: BUCKET, key: "calls/deleted.wav" });

    // Assess
    expect(outcome).toEqual({ kind: "gone" });
    expect(await jobs.jobsForSource(BUCKET, "calls/deleted.wav", "bySource")).toEqual([]);
  });

  const refused: Array<{ name: string; key: string; body: Uint8Array; metadata: Record<string, string>; code: string; reason: RegExp }> = [
    { name: "a file type it does not take", key: "notes/minutes.txt", body: Buffer.from("hello"), metadata: {}, code: "unsupported_type", reason: /unsupported file type '\.txt'/ },
    { name: "an empty file", key: "calls/empty.mp3", body: Buffer.alloc(0), metadata: {}, code: "empty_file", reason: /empty \(0 bytes\)/ },
    { name: "options that do not parse", key: "calls/bad.wav", body: recording, metadata: { "max-speakers": "0" }, code: "invalid_options", reason: /max-speakers/ },
    { name: "bytes that are not media", key: "calls/noise.mp3", body: Buffer.from("this is not an mp3 file at all ".repeat(40)), metadata: {}, code: "not_media", reason: /not a readable audio or video file/ },
  ];
  it.each(refused)("fails the job at once, and announces it, for $name", async ({ key, body, metadata, code, reason }) => {
    // Prepare
    const { ctx, jobs, queues, notifier, work } = upload(key, body, metadata);

    // Act
    const outcome = await chunkRecording(ctx, { bucket: BUCKET, key });

    // Assess
    expect(outcome).toMatchObject({ kind: "failed", reason: expect.stringMatching(reason) });
    const [job] = await jobs.jobsForSource(BUCKET, key, "bySource");
    expect(job).toMatchObject({ status: "FAILED", errorCode: code });
    expect(job.error).not.toContain("stt-unit-");
    expect(notifier.events).toMatchObject([{ jobId: job.jobId, status: "FAILED", errorCode: code }]);
    expect(queues.segments).toEqual([]);
    expect(work.writes).toEqual([]);
  });
});
