/**
 * Job control on in-memory adapters: cancelling from every state and racing the stitcher both ways
 * (shared/pipeline/cancel-job.ts), running a job again with other options (rerun-job.ts), deleting a job
 * and the jobs of a deleted recording (delete-job.ts), and what the steps do with a cancelled job.
 */
import { afterEach, describe, expect, it } from "vitest";
import { keys } from "../../shared/adapters/object-store.js";
import { SAMPLE_RATE } from "../../shared/audio/ffmpeg.js";
import { wavBytes } from "../../shared/audio/wav.js";
import { JOB_STATUSES, TERMINAL_STATUSES, isTerminal, parseJobEvent } from "../../shared/domain/jobs/job-event.js";
import { DEFAULT_JOB_OPTIONS, parseJobOptions } from "../../shared/domain/options/options.js";
import { cancelJob } from "../../shared/pipeline/cancel-job.js";
import { chunkRecording } from "../../shared/pipeline/chunk-recording.js";
import { deleteJob, deleteJobsOfSource } from "../../shared/pipeline/delete-job.js";
import { optionsToMetadata, rerunJob, rerunMetadata, rerunRequestKey } from "../../shared/pipeline/rerun-job.js";
import { stitchJob } from "../../shared/pipeline/stitch-job.js";
import { transcribeSegment } from "../../shared/pipeline/transcribe-segment.js";
import { chunkerHandler, deadLetterHandler } from "../../shared/pipeline/queue-handlers.js";
import { onFailureRecord, s3Event } from "../../local/runner.js";
import { sqsRecord } from "../support/sqs-record.js";
import { wordsEverySecond } from "../support/fake-provider.js";
import { cutSegments, JOB_ID, jobRecord, segmentMessage, segmentResult } from "../support/job-fixtures.js";
import { memoryPipeline, type MemoryPipeline, type MemoryPipelineOptions } from "../support/memory-context.js";

let pipeline: MemoryPipeline | undefined;
afterEach(() => {
  pipeline?.dispose();
  pipeline = undefined;
});

const segments = cutSegments(2);
const json = (value: unknown) => ({ body: Buffer.from(JSON.stringify(value)), contentType: "application/json" });

/** A job in `status`, its two segments transcribed and counted when RUNNING: what the stitcher would find. */
function jobIn(status: (typeof JOB_STATUSES)[number], options: MemoryPipelineOptions = {}): MemoryPipeline {
  pipeline = memoryPipeline(options);
  pipeline.jobs.put(jobRecord({ status, doneSegments: new Set([0, 1]), ...(status === "FAILED" ? { error: "the provider said no", errorCode: "provider_400" } : {}) }));
  pipeline.work.objects.set(keys.segmentResult(JOB_ID, 0), json(segmentResult(segments[0], wordsEverySecond(5, { from: 10, prefix: "a" }))));
  pipeline.work.objects.set(keys.segmentResult(JOB_ID, 1), json(segmentResult(segments[1], wordsEverySecond(5, { from: 12, prefix: "b" }))));
  for (const s of segments) pipeline.work.objects.set(keys.segmentAudio(JOB_ID, s.index), { body: new Uint8Array([s.index]) });
  return pipeline;
}

describe("job statuses", () => {
  it("lists CANCELLED as a terminal state that notifications carry", () => {
    // Assess
    expect(JOB_STATUSES).toContain("CANCELLED");
    expect(TERMINAL_STATUSES).toEqual(["COMPLETED", "FAILED", "CANCELLED"]);
    expect(isTerminal("CANCELLED")).toBe(true);
    expect(isTerminal("RUNNING")).toBe(false);
    const parsed = parseJobEvent(JSON.stringify({ jobId: JOB_ID, status: "CANCELLED", source: { bucket: "b", key: "k" } }));
    expect(parsed).toMatchObject({ ok: true, event: { status: "CANCELLED", event: "JOB_ENDED" } });
  });
});

describe("cancelJob", () => {
  for (const status of ["CHUNKING", "RUNNING"] as const) {
    it(`cancels a ${status} job and announces it once`, async () => {
      // Prepare
      const { ctx, jobs, notifier, clock } = jobIn(status);
      clock.advance(30);

      // Act
      const outcome = await cancelJob(ctx, JOB_ID);
      const again = await cancelJob(ctx, JOB_ID);

      // Assess
      expect(outcome.kind).toBe("cancelled");
      expect(again.kind).toBe("already-cancelled");
      expect(jobs.peek(JOB_ID)).toMatchObject({ status: "CANCELLED", completedAt: clock.now().toISOString() });
      expect(jobs.peek(JOB_ID)?.outputs).toBeUndefined();
      expect(notifier.events).toHaveLength(1);
      expect(notifier.events[0]).toMatchObject({ event: "JOB_ENDED", jobId: JOB_ID, status: "CANCELLED" });
      expect(notifier.events[0].outputs).toBeUndefined();
    });
  }

  it("refuses a COMPLETED job as too late, and a FAILED one as ended, changing nothing", async () => {
    for (const status of ["COMPLETED", "FAILED"] as const) {
      // Prepare
      const { ctx, jobs, notifier } = jobIn(status);
      jobs.put({ ...jobs.peek(JOB_ID)!, notifiedAt: "2026-01-01T00:10:00.000Z" });

      // Act
      const outcome = await cancelJob(ctx, JOB_ID);

      // Assess
      expect(outcome.kind).toBe("refused");
      if (outcome.kind === "refused") expect(outcome.reason).toMatch(status === "COMPLETED" ? /already COMPLETED.*too late/ : /already FAILED.*provider said no/);
      expect(jobs.peek(JOB_ID)?.status).toBe(status);
      expect(notifier.events).toEqual([]);
      pipeline!.dispose();
    }
  });

  it("says so for a job that does not exist", async () => {
    // Prepare
    pipeline = memoryPipeline();

    // Act
    const outcome = await cancelJob(pipeline.ctx, JOB_ID);

    // Assess
    expect(outcome).toEqual({ kind: "unknown", jobId: JOB_ID });
  });

  it("keeps a cancelled job from failing afterwards (a dead letter arriving late)", async () => {
    // Prepare
    const { ctx, jobs } = jobIn("RUNNING");
    await cancelJob(ctx, JOB_ID);

    // Act
    const failed = await jobs.fail(JOB_ID, "gave up", "dead_lettered", ctx.now());

    // Assess
    expect(failed).toBe(false);
    expect(jobs.peek(JOB_ID)?.status).toBe("CANCELLED");
  });
});

describe("steps on a cancelled job", () => {
  it("the transcriber consumes its message without a provider request", async () => {
    // Prepare
    const { ctx, provider, work } = jobIn("RUNNING");
    work.objects.delete(keys.segmentResult(JOB_ID, 1));
    await cancelJob(ctx, JOB_ID);

    // Act
    const outcome = await transcribeSegment(ctx, segmentMessage(segments[1]));

    // Assess
    expect(outcome).toBe("job-ended");
    expect(provider.calls).toHaveLength(0);
    expect(work.objects.has(keys.segmentResult(JOB_ID, 1))).toBe(false);
  });

  it("the chunker stops cutting: no segment is stored or queued after the cancel", async () => {
    // Prepare: the cancel lands right after the chunker created the job
    const createdId = async () => (await pipeline!.jobs.recentJobs({ limit: 1 }))[0].jobId;
    pipeline = memoryPipeline({ checkpoint: async (step) => void (step === "chunker:after-create" && (await cancelJob(pipeline!.ctx, await createdId()))) });
    pipeline.sources.put({ bucket: "stt-input", key: "calls/long.wav", body: recording, metadata: METADATA });

    // Act
    const outcome = await chunkRecording(pipeline.ctx, { bucket: "stt-input", key: "calls/long.wav" });

    // Assess
    expect(outcome.kind).toBe("ended");
    expect(pipeline.queues.segments).toEqual([]);
    expect([...pipeline.work.objects.keys()].filter((k) => k.includes("/segments/"))).toEqual([]);
    expect(pipeline.jobs.peek(await createdId())?.status).toBe("CANCELLED");
    expect(pipeline.notifier.events.map((e) => e.status)).toEqual(["CANCELLED"]);
  });
});

describe("cancel racing the stitcher", () => {
  it("cancel first: the stitcher's complete is refused, and it removes the outputs and utterances it wrote", async () => {
    // Prepare: the cancel lands after the stitcher wrote its outputs and utterances, before it completes
    const { ctx, jobs, output, notifier } = jobIn("RUNNING", {
      checkpoint: async (step) => void (step === "stitcher:after-utterances" && (await cancelJob(pipeline!.ctx, JOB_ID))),
    });

    // Act
    const outcome = await stitchJob(ctx, JOB_ID);

    // Assess
    expect(outcome).toBe("cancelled-meanwhile");
    const job = jobs.peek(JOB_ID)!;
    expect(job.status).toBe("CANCELLED");
    expect(job.outputs).toBeUndefined();
    expect([...output.objects.keys()]).toEqual([]);
    expect(await jobs.utterances(JOB_ID)).toEqual([]);
    expect(notifier.events.map((e) => e.status)).toEqual(["CANCELLED"]);
  });

  it("stitcher first: the job completes with its outputs, and the cancel is refused as too late", async () => {
    // Prepare: the cancel is asked right after the stitcher completed
    let cancel: Awaited<ReturnType<typeof cancelJob>> | undefined;
    const { ctx, jobs, output, notifier } = jobIn("RUNNING", {
      checkpoint: async (step) => void (step === "stitcher:after-complete" && (cancel = await cancelJob(pipeline!.ctx, JOB_ID))),
    });

    // Act
    const outcome = await stitchJob(ctx, JOB_ID);

    // Assess
    expect(outcome).toBe("completed");
    expect(cancel?.kind).toBe("refused");
    const job = jobs.peek(JOB_ID)!;
    expect(job.status).toBe("COMPLETED");
    // Five formats and the viewer page.
    expect(Object.keys(job.outputs ?? {})).toHaveLength(6);
    expect(output.objects.size).toBe(6);
    expect((await jobs.utterances(JOB_ID)).length).toBeGreaterThan(0);
    expect(notifier.events.map((e) => e.status)).toEqual(["COMPLETED"]);
  });

  it("a stitch message for a job cancelled before it arrives writes nothing", async () => {
    // Prepare
    const { ctx, output } = jobIn("RUNNING");
    await cancelJob(ctx, JOB_ID);

    // Act
    const outcome = await stitchJob(ctx, JOB_ID);

    // Assess
    expect(outcome).toBe("job-ended");
    expect(output.objects.size).toBe(0);
  });
});

const SECONDS = 45;
const METADATA = { "chunk-seconds": "20", "overlap-seconds": "2", diarize: "false", language: "en" };
/** Tone bursts with pauses (the cut planner's quiet moments). */
const recording = wavBytes(
  (() => {
    const pcm = Buffer.alloc(SECONDS * SAMPLE_RATE * 2);
    for (let i = 0; i < SECONDS * SAMPLE_RATE; i++) {
      const t = i / SAMPLE_RATE;
      pcm.writeInt16LE(t % 1.1 < 0.8 ? Math.round(6000 * Math.sin(2 * Math.PI * 180 * t)) : 0, i * 2);
    }
    return pcm;
  })(),
);

/** An upload chunked into a job; returns its id. */
async function chunkedUpload(p: MemoryPipeline, key = "calls/standup.wav"): Promise<string> {
  p.sources.put({ bucket: "stt-input", key, body: recording, metadata: METADATA });
  const outcome = await chunkRecording(p.ctx, { bucket: "stt-input", key });
  if (outcome.kind !== "started") throw new Error(`not started: ${JSON.stringify(outcome)}`);
  return outcome.jobId;
}

/** The CLI's submit, on the in-memory input bucket: a zero-byte request object with its metadata. */
const submitTo = (p: MemoryPipeline) => async (key: string, metadata: Record<string, string>) => {
  p.sources.put({ bucket: "stt-input", key, body: new Uint8Array(0), metadata });
};

describe("rerun: options", () => {
  it("reads every option of a job back as upload metadata", () => {
    // Prepare
    const options = { ...DEFAULT_JOB_OPTIONS, language: "de", prompt: "Grüße, Zürich", temperature: 0.2, minSpeakers: 2, maxSpeakers: 4, chunkSeconds: 90, speakers: ["alice", "bob"] };

    // Act
    const parsed = parseJobOptions(optionsToMetadata(options));

    // Assess
    expect(parsed).toEqual({ ok: true, options });
  });

  it("lays the given flags over the old options, and keeps the raw metadata of a job whose options did not parse", () => {
    // Act
    const merged = rerunMetadata({ ...DEFAULT_JOB_OPTIONS, maxSpeakers: 5, speakers: ["alice"] }, { "max-speakers": "3", diarize: "false" });
    const fromBad = rerunMetadata({ metadata: { "max-speakers": "0", language: "en" } }, { "max-speakers": "2" });

    // Assess
    expect(merged).toMatchObject({ "max-speakers": "3", diarize: "false", language: "auto", model: DEFAULT_JOB_OPTIONS.model });
    // Voices to name need diarization: turning it off drops them.
    expect(merged.speakers).toBeUndefined();
    expect(fromBad).toEqual({ "max-speakers": "2", language: "en" });
  });
});

describe("rerunJob", () => {
  it("starts a job from the same object version with the flags over the old options; the same rerun twice is one job", async () => {
    // Prepare
    pipeline = memoryPipeline();
    const oldId = await chunkedUpload(pipeline);
    const old = pipeline.jobs.peek(oldId)!;

    // Act: asked, then handled by the chunker as S3 delivers the request's event, then asked again
    const asked = await rerunJob(pipeline.ctx, oldId, { "chunk-seconds": "30", "max-speakers": "3" }, submitTo(pipeline));
    if (asked.kind !== "requested") throw new Error(asked.kind);
    await chunkerHandler(pipeline.ctx)(s3Event("stt-input", asked.requestKey, "", 0));
    const again = await rerunJob(pipeline.ctx, oldId, { "max-speakers": "3", "chunk-seconds": "30" }, submitTo(pipeline));
    const redelivered = await chunkRecording(pipeline.ctx, { bucket: "stt-input", key: asked.requestKey });

    // Assess
    expect(asked.requestKey).toBe(rerunRequestKey(asked.jobId));
    expect(asked.jobId).not.toBe(oldId);
    const job = pipeline.jobs.peek(asked.jobId)!;
    expect(job).toMatchObject({ status: "RUNNING", source: { bucket: "stt-input", key: "calls/standup.wav", etag: old.source.etag } });
    expect(job.options).toEqual({ ...old.options, chunkSeconds: 30, maxSpeakers: 3 });
    expect(again).toMatchObject({ kind: "exists", jobId: asked.jobId });
    expect(redelivered).toEqual({ kind: "duplicate", jobId: asked.jobId });
    expect(pipeline.queues.segments.filter((m) => m.jobId === asked.jobId).length).toBe(job.segmentCount);
  });

  it("with nothing changed names the old job itself and sends no request", async () => {
    // Prepare
    pipeline = memoryPipeline();
    const oldId = await chunkedUpload(pipeline);
    const requests: string[] = [];

    // Act
    const outcome = await rerunJob(pipeline.ctx, oldId, { language: "en" }, async (key) => void requests.push(key));

    // Assess
    expect(outcome).toMatchObject({ kind: "exists", jobId: oldId });
    expect(requests).toEqual([]);
  });

  it("refuses options that do not go with the old ones, a replaced source and an unknown job, with the reason", async () => {
    // Prepare
    pipeline = memoryPipeline();
    const oldId = await chunkedUpload(pipeline);
    const submit = submitTo(pipeline);

    // Act + Assess
    await expect(rerunJob(pipeline.ctx, oldId, { "min-speakers": "5", "max-speakers": "2" }, submit)).rejects.toThrow(/max-speakers \(2\) must be at least min-speakers \(5\)/);
    await expect(rerunJob(pipeline.ctx, "ffffffffffffffffffffffff", {}, submit)).rejects.toThrow(/no job ffff/);
    pipeline.sources.put({ bucket: "stt-input", key: "calls/standup.wav", body: wavBytes(Buffer.alloc(SAMPLE_RATE * 2)), metadata: METADATA });
    await expect(rerunJob(pipeline.ctx, oldId, { "max-speakers": "2" }, submit)).rejects.toThrow(/was replaced since job/);
  });

  it("fails the rerun's job when the chunker gave up on its request (a dead-lettered on-failure record)", async () => {
    // Prepare: the rerun's job was created, then the chunker kept failing
    const { ctx, jobs, notifier } = jobIn("CHUNKING");
    const record = onFailureRecord("chunker", s3Event("stt-input", rerunRequestKey(JOB_ID), "", 0), new Error("ffmpeg crashed"), 3);

    // Act
    await deadLetterHandler(ctx)({ Records: [sqsRecord("m1", JSON.stringify(record), { queue: "stt-chunker-failures" })] });

    // Assess
    expect(jobs.peek(JOB_ID)).toMatchObject({ status: "FAILED", errorCode: "chunker_failed", error: expect.stringMatching(/ffmpeg crashed/) });
    expect(notifier.events.map((e) => e.status)).toEqual(["FAILED"]);
  });

  it("is ignored by the chunker when the request names no job, or the source changed since", async () => {
    // Prepare
    pipeline = memoryPipeline();
    const oldId = await chunkedUpload(pipeline);
    pipeline.sources.put({ bucket: "stt-input", key: "reruns/x", body: new Uint8Array(0), metadata: { "rerun-of": "not-a-job" } });
    pipeline.sources.put({ bucket: "stt-input", key: "reruns/y", body: new Uint8Array(0), metadata: { "rerun-of": oldId, "max-speakers": "2" } });
    pipeline.sources.put({ bucket: "stt-input", key: "calls/standup.wav", body: wavBytes(Buffer.alloc(SAMPLE_RATE * 2)) });

    // Act
    const bad = await chunkRecording(pipeline.ctx, { bucket: "stt-input", key: "reruns/x" });
    const changed = await chunkRecording(pipeline.ctx, { bucket: "stt-input", key: "reruns/y" });

    // Assess
    expect(bad).toMatchObject({ kind: "rerun-ignored", why: expect.stringMatching(/rerun-of 'not-a-job' is not a job id/) });
    expect(changed).toMatchObject({ kind: "rerun-ignored", why: expect.stringMatching(/replaced/) });
  });
});

describe("deleteJob", () => {
  it("removes outputs, work objects, utterances and the record; a repeat finds nothing", async () => {
    // Prepare: a completed job
    const { ctx, jobs, output, work } = jobIn("RUNNING");
    await stitchJob(ctx, JOB_ID);
    work.objects.set("jobs/other-job/results/00000.json", json({}));

    // Act
    const first = await deleteJob(ctx, JOB_ID);
    const second = await deleteJob(ctx, JOB_ID);

    // Assess
    expect(first).toMatchObject({ existed: true, cancelled: false, outputObjects: 6, workObjects: 4 });
    expect(first.utterances).toBeGreaterThan(0);
    expect(jobs.peek(JOB_ID)).toBeUndefined();
    expect(output.objects.size).toBe(0);
    expect([...work.objects.keys()]).toEqual(["jobs/other-job/results/00000.json"]);
    expect(await jobs.utterances(JOB_ID)).toEqual([]);
    expect(second).toEqual({ jobId: JOB_ID, existed: false, cancelled: false, outputObjects: 0, workObjects: 0, utterances: 0 });
  });

  it("cancels a running job first (announced), then deletes it; its late messages spend nothing", async () => {
    // Prepare
    const { ctx, jobs, work, notifier, provider } = jobIn("RUNNING");
    work.objects.delete(keys.segmentResult(JOB_ID, 1));

    // Act
    const report = await deleteJob(ctx, JOB_ID);
    const late = transcribeSegment(ctx, segmentMessage(segments[1]));

    // Assess
    expect(report).toMatchObject({ existed: true, cancelled: true, workObjects: 3 });
    expect(jobs.peek(JOB_ID)).toBeUndefined();
    expect(work.objects.size).toBe(0);
    expect(notifier.events.map((e) => e.status)).toEqual(["CANCELLED"]);
    await expect(late).rejects.toThrow(/no record/);
    expect(provider.calls).toHaveLength(0);
  });

  it("deletes while a stitcher runs: the stitcher's complete is refused and it takes its files back", async () => {
    // Prepare: the delete lands after the stitcher wrote its outputs
    const { ctx, jobs, output } = jobIn("RUNNING", {
      checkpoint: async (step) => void (step === "stitcher:after-utterances" && (await deleteJob(pipeline!.ctx, JOB_ID))),
    });

    // Act
    const outcome = await stitchJob(ctx, JOB_ID);

    // Assess
    expect(outcome).toBe("cancelled-meanwhile");
    expect(jobs.peek(JOB_ID)).toBeUndefined();
    expect(output.objects.size).toBe(0);
    expect(await jobs.utterances(JOB_ID)).toEqual([]);
  });
});

describe("deleteJobsOfSource", () => {
  it("deletes the jobs of a deleted recording, reruns too, and only those", async () => {
    // Prepare: a job and its rerun from one upload, and a job of another upload
    pipeline = memoryPipeline();
    const oldId = await chunkedUpload(pipeline);
    const rerun = await rerunJob(pipeline.ctx, oldId, { "chunk-seconds": "30" }, submitTo(pipeline));
    if (rerun.kind !== "requested") throw new Error(rerun.kind);
    await chunkRecording(pipeline.ctx, { bucket: "stt-input", key: rerun.requestKey });
    const otherId = await chunkedUpload(pipeline, "calls/other.wav");
    pipeline.sources.delete("stt-input", "calls/standup.wav");

    // Act: the removal event, as S3 sends it, twice (at least once)
    const removal = s3Event("stt-input", "calls/standup.wav", "", 0, "us-east-1", undefined, "ObjectRemoved:Delete");
    await chunkerHandler(pipeline.ctx)(removal);
    await chunkerHandler(pipeline.ctx)(removal);

    // Assess
    expect(pipeline.jobs.peek(oldId)).toBeUndefined();
    expect(pipeline.jobs.peek(rerun.jobId)).toBeUndefined();
    expect(pipeline.jobs.peek(otherId)?.status).toBe("RUNNING");
    expect([...pipeline.work.objects.keys()].every((k) => k.startsWith(`jobs/${otherId}/`))).toBe(true);
  });

  it("keeps the jobs of an object uploaded again under the key before the removal event was handled", async () => {
    // Prepare
    pipeline = memoryPipeline();
    const oldId = await chunkedUpload(pipeline);

    // Act: the object is still there (the same bytes uploaded again)
    const reports = await deleteJobsOfSource(pipeline.ctx, { bucket: "stt-input", key: "calls/standup.wav" }, "bySource");

    // Assess
    expect(reports).toEqual([]);
    expect(pipeline.jobs.peek(oldId)).toBeDefined();
  });
});
