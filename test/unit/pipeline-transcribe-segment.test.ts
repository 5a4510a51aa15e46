/**
 * The transcribe step (shared/pipeline/transcribe-segment.ts) on in-memory adapters and a fake provider: what
 * it stores, what it counts, when it asks for the stitch, and how it treats a redelivered message.
 */
import { afterEach, describe, expect, it } from "vitest";
import { keys } from "../../shared/adapters/object-store.js";
import { encodeFlacPcm } from "../../shared/audio/flac-encoder.js";
import { SAMPLE_RATE } from "../../shared/audio/ffmpeg.js";
import { PermanentError, RetryableError } from "../../shared/errors.js";
import type { SegmentResult } from "../../shared/domain/types.js";
import { speakerBookSchema } from "../../shared/domain/speakers/speaker-book.js";
import { transcribeSegment } from "../../shared/pipeline/transcribe-segment.js";
import { wiring } from "../../shared/wiring.js";
import { answerOf, wordsEverySecond } from "../support/fake-provider.js";
import { cutSegments, envelopeOf, JOB_ID, jobOptions, jobRecord, segmentMessage } from "../support/job-fixtures.js";
import { memoryPipeline, type MemoryPipeline } from "../support/memory-context.js";

let pipeline: MemoryPipeline;
afterEach(() => pipeline?.dispose());

const [first, second] = cutSegments(2);

/** A RUNNING two-segment job whose segment audio the chunker stored (bytes the fake provider does not read). */
function twoSegmentJob(options: Parameters<typeof memoryPipeline>[0] = {}): MemoryPipeline {
  pipeline = memoryPipeline({ answer: (req) => answerOf(wordsEverySecond(5, { prefix: req.filename.replace(/\W/g, "") })), ...options });
  pipeline.jobs.put(jobRecord());
  for (const segment of [first, second]) pipeline.work.objects.set(keys.segmentAudio(JOB_ID, segment.index), { body: new Uint8Array([segment.index]) });
  return pipeline;
}

describe("transcribeSegment", () => {
  it("sends the segment's audio with the job's options, stores the result and counts the segment done", async () => {
    // Prepare
    const { ctx, provider, work, jobs, queues } = twoSegmentJob();

    // Act
    const outcome = await transcribeSegment(ctx, segmentMessage(first));

    // Assess
    expect(outcome).toBe("transcribed");
    expect(provider.calls).toHaveLength(1);
    expect(provider.calls[0].request).toMatchObject({
      audio: new Uint8Array([0]),
      filename: "segment-0.flac",
      audioSeconds: first.end - first.start,
      model: jobOptions().model,
      task: "transcribe",
      diarize: false,
    });
    const result = work.json<SegmentResult>(keys.segmentResult(JOB_ID, 0));
    expect(result).toMatchObject({ jobId: JOB_ID, index: 0, segment: first, language: "en", audioSeconds: first.end - first.start });
    expect(result.words?.map((w) => w.word)).toEqual(["segment0flac0", "segment0flac1", "segment0flac2", "segment0flac3", "segment0flac4"]);
    expect(work.objects.get(keys.segmentResult(JOB_ID, 0))?.contentType).toBe("application/json");
    expect([...(jobs.peek(JOB_ID)?.doneSegments ?? [])]).toEqual([0]);
    expect(queues.stitches).toEqual([]);
  });

  it("does not pay twice for a redelivered message, and counts the segment once", async () => {
    // Prepare
    const { ctx, provider, work, jobs } = twoSegmentJob();
    await transcribeSegment(ctx, segmentMessage(first));
    const stored = work.text(keys.segmentResult(JOB_ID, 0));

    // Act
    const outcome = await transcribeSegment(ctx, segmentMessage(first));

    // Assess
    expect(outcome).toBe("already-done");
    expect(provider.calls).toHaveLength(1);
    expect(work.writes.filter((k) => k === keys.segmentResult(JOB_ID, 0))).toHaveLength(1);
    expect(work.text(keys.segmentResult(JOB_ID, 0))).toBe(stored);
    expect([...(jobs.peek(JOB_ID)?.doneSegments ?? [])]).toEqual([0]);
  });

  it("consumes a copy of the segment's message (another message id) while the first delivery is at the provider", async () => {
    // Prepare: the provider answers once the test lets it
    const { ctx, provider, jobs } = twoSegmentJob();
    let answer!: () => void;
    const held = new Promise<void>((resolve) => (answer = resolve));
    provider.answer = async (req) => (await held, answerOf(wordsEverySecond(5, { prefix: req.filename.replace(/\W/g, "") })));

    // Act: the first message reaches the provider; a copy arrives meanwhile
    const firstDelivery = transcribeSegment(ctx, segmentMessage(first), "message-1");
    while (provider.calls.length === 0) await new Promise((resolve) => setImmediate(resolve));
    const copy = await transcribeSegment(ctx, segmentMessage(first), "message-2");
    answer();

    // Assess: one request; the copy left the counting to the first
    expect(copy).toBe("copy-consumed");
    expect(await firstDelivery).toBe("transcribed");
    expect(provider.calls).toHaveLength(1);
    expect([...(jobs.peek(JOB_ID)?.doneSegments ?? [])]).toEqual([0]);
  });

  it("lets a redelivery of the holding message ask again, and another message once the holder's lease ran out", async () => {
    // Prepare: the first delivery dies at the provider (after taking the lease)
    const { ctx, provider, clock } = twoSegmentJob();
    const answers = provider.answer;
    provider.answer = () => {
      throw new RetryableError("provider_unavailable", "no answer");
    };
    await expect(transcribeSegment(ctx, segmentMessage(first), "message-1")).rejects.toThrow("no answer");
    await expect(transcribeSegment(ctx, segmentMessage(second), "message-3")).rejects.toThrow("no answer");
    provider.answer = answers;

    // Act: the same message comes back; a copy of the other segment's comes after its holder's lease ran out
    const redelivered = await transcribeSegment(ctx, segmentMessage(first), "message-1");
    const copyWhileHeld = await transcribeSegment(ctx, segmentMessage(second), "message-4");
    clock.advance(wiring.functions.transcriber.timeoutSeconds + 31);
    const copyAfterLease = await transcribeSegment(ctx, segmentMessage(second), "message-4");

    // Assess
    expect([redelivered, copyWhileHeld, copyAfterLease]).toEqual(["transcribed", "copy-consumed", "transcribed"]);
    expect(provider.segmentCalls.map((r) => r.filename)).toEqual(["segment-0.flac", "segment-1.flac", "segment-0.flac", "segment-1.flac"]);
  });

  it("asks for the stitch once the last segment is done, whichever finishes last", async () => {
    // Prepare
    const { ctx, queues, jobs } = twoSegmentJob();

    // Act: the second segment first, then the first
    await transcribeSegment(ctx, segmentMessage(second));
    const afterOne = queues.stitches.length;
    await transcribeSegment(ctx, segmentMessage(first));

    // Assess
    expect(afterOne).toBe(0);
    expect(queues.stitches).toEqual([{ kind: "stitch", jobId: JOB_ID }]);
    expect([...(jobs.peek(JOB_ID)?.doneSegments ?? [])].sort()).toEqual([0, 1]);
  });

  it("a message redelivered after its handler died between storing and counting counts the segment without a second request", async () => {
    // Prepare: the first delivery died after storing the result, before counting the segment
    const crash = new Error("crashed after store");
    let crashes = 0;
    const { ctx, jobs, queues, provider } = twoSegmentJob({
      checkpoint: (step) => {
        if (step === "transcriber:after-store" && provider.calls.length === 2 && crashes++ === 0) throw crash;
      },
    });
    await transcribeSegment(ctx, segmentMessage(first));
    await expect(transcribeSegment(ctx, segmentMessage(second))).rejects.toBe(crash);
    expect([...(jobs.peek(JOB_ID)?.doneSegments ?? [])]).toEqual([0]);

    // Act: the message comes back
    const outcome = await transcribeSegment(ctx, segmentMessage(second));

    // Assess
    expect(outcome).toBe("already-done");
    expect(provider.calls).toHaveLength(2);
    expect(queues.stitches).toEqual([{ kind: "stitch", jobId: JOB_ID }]);
  });

  it("does nothing for a job that has ended but make sure its end was announced", async () => {
    // Prepare
    const { ctx, jobs, provider, notifier, work } = twoSegmentJob();
    jobs.put(jobRecord({ status: "FAILED", error: "gave up", errorCode: "dead_lettered" }));

    // Act
    const outcome = await transcribeSegment(ctx, segmentMessage(first));
    const again = await transcribeSegment(ctx, segmentMessage(first));

    // Assess
    expect([outcome, again]).toEqual(["job-ended", "job-ended"]);
    expect(provider.calls).toEqual([]);
    expect(await work.exists(keys.segmentResult(JOB_ID, 0))).toBe(false);
    expect(notifier.events).toMatchObject([{ jobId: JOB_ID, status: "FAILED", errorCode: "dead_lettered" }]);
    expect(jobs.peek(JOB_ID)?.notifiedAt).toBeDefined();
  });

  it("fails retryably for a job with no record yet (the chunker's create may not be visible)", async () => {
    // Prepare
    pipeline = memoryPipeline();

    // Act
    const attempt = transcribeSegment(pipeline.ctx, segmentMessage(first));

    // Assess: a plain error, so the queue handler retries it
    await expect(attempt).rejects.toThrow(/has no record yet/);
    await expect(attempt).rejects.not.toBeInstanceOf(PermanentError);
  });

  it("passes a provider's permanent error on unchanged and stores nothing", async () => {
    // Prepare
    const rejected = new PermanentError("provider_401", "provider rejected the request (401): bad key");
    const { ctx, work, jobs } = twoSegmentJob({
      answer: () => {
        throw rejected;
      },
    });

    // Act
    const attempt = transcribeSegment(ctx, segmentMessage(first));

    // Assess
    await expect(attempt).rejects.toBe(rejected);
    expect(await work.exists(keys.segmentResult(JOB_ID, 0))).toBe(false);
    expect(jobs.peek(JOB_ID)?.doneSegments).toBeUndefined();
  });

  it("retries a segment with seconds of sound that the provider found no words in", async () => {
    // Prepare: an envelope with 8 s of sound, and an empty answer
    const { ctx, work, jobs } = twoSegmentJob({ answer: () => answerOf([]) });
    work.objects.set(keys.segmentEnvelope(JOB_ID, 0), { body: envelopeOf(10, (t) => t >= 2) });

    // Act
    const attempt = transcribeSegment(ctx, segmentMessage(first));

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(RetryableError);
    await expect(attempt).rejects.toMatchObject({ code: "provider_empty" });
    expect(await work.exists(keys.segmentResult(JOB_ID, 0))).toBe(false);
    expect(jobs.peek(JOB_ID)?.doneSegments).toBeUndefined();
  });

  it("drops the words the provider placed where the stored envelope is silent", async () => {
    // Prepare: silence for the first 4 s, sound after; a word every second from 0.5 s
    const { ctx, work } = twoSegmentJob({ answer: () => answerOf(wordsEverySecond(10)) });
    work.objects.set(keys.segmentEnvelope(JOB_ID, 0), { body: envelopeOf(12, (t) => t >= 4) });

    // Act
    await transcribeSegment(ctx, segmentMessage(first));

    // Assess
    const words = work.json<SegmentResult>(keys.segmentResult(JOB_ID, 0)).words!.map((w) => w.word);
    expect(words).not.toContain("word0");
    expect(words).not.toContain("word1");
    expect(words).toEqual(expect.arrayContaining(["word5", "word6", "word7", "word8", "word9"]));
  });

  it("settles a diarized job's speakers as its segments finish, then asks for the stitch", async () => {
    // Prepare: a one-segment diarized job with real audio (the settler decodes it for the voice's clip)
    const segment = cutSegments(1, 8, 0)[0];
    const speech = Array.from({ length: 14 }, (_, i) => ({ word: `w${i}`, start: 0.5 + i * 0.5, end: 0.95 + i * 0.5, speaker: "SPEAKER_00" }));
    pipeline = memoryPipeline({ answer: () => answerOf(speech) });
    const { ctx, jobs, work, queues, provider } = pipeline;
    jobs.put(jobRecord({ options: { ...jobOptions({ diarize: true }) }, segmentCount: 1, duration: 8 }));
    work.objects.set(keys.segmentAudio(JOB_ID, 0), { body: encodeFlacPcm(tone(8)) });

    // Act
    await transcribeSegment(ctx, segmentMessage(segment));

    // Assess: the first segment's voice is the job's first voice, with its own clip; no probe was needed
    expect(provider.calls.map((c) => c.request.filename)).toEqual(["segment-0.flac"]);
    const book = speakerBookSchema.parse(work.json(keys.speakerBook(JOB_ID, 1)));
    expect(book.map).toEqual({ 0: { SPEAKER_00: "V0" } });
    expect(book.voices.map((v) => v.id)).toEqual(["V0"]);
    const clip = book.voices[0].spans[0].from;
    expect(clip).toHaveProperty("voice");
    expect((await work.getBytes(keys.voiceClip(JOB_ID, (clip as { voice: string }).voice))).byteLength).toBeGreaterThan(SAMPLE_RATE);
    expect(jobs.peek(JOB_ID)).toMatchObject({ speakersSettled: 1 });
    expect(jobs.peek(JOB_ID)?.speakerLeaseUntil).toBeUndefined();
    expect(queues.stitches).toEqual([{ kind: "stitch", jobId: JOB_ID }]);
  });
});

/** `seconds` of a loud, slowly varying tone: audio ffmpeg decodes and the settler slices. */
function tone(seconds: number): Buffer {
  const pcm = Buffer.alloc(seconds * SAMPLE_RATE * 2);
  for (let i = 0; i < seconds * SAMPLE_RATE; i++) pcm.writeInt16LE(Math.round(8000 * Math.sin((2 * Math.PI * 220 * i) / SAMPLE_RATE)), i * 2);
  return pcm;
}
