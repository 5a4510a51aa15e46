/**
 * The stitch step (shared/pipeline/stitch-job.ts) on in-memory adapters: the claim, the outputs, the
 * completed record and its notification, and what a second stitch message does.
 */
import { afterEach, describe, expect, it } from "vitest";
import { keys } from "../../shared/adapters/object-store.js";
import { emptyBook, type SpeakerBook } from "../../shared/domain/speakers/speaker-book.js";
import type { Transcript } from "../../shared/domain/types.js";
import { RetryableError } from "../../shared/errors.js";
import { OUTPUT_FILES, VIEWER_PAGE_FILE, stitchJob } from "../../shared/pipeline/stitch-job.js";
import { wiring } from "../../shared/wiring.js";
import { wordsEverySecond } from "../support/fake-provider.js";
import { cutSegments, JOB_ID, jobOptions, jobRecord, segmentResult } from "../support/job-fixtures.js";
import { memoryPipeline, type MemoryPipeline } from "../support/memory-context.js";

let pipeline: MemoryPipeline;
afterEach(() => pipeline?.dispose());

const segments = cutSegments(2);

/** A job whose two segments are transcribed and counted: what the stitcher finds when its message arrives. */
function transcribedJob(overrides: Parameters<typeof jobRecord>[0] = {}, options: Parameters<typeof memoryPipeline>[0] = {}): MemoryPipeline {
  pipeline = memoryPipeline(options);
  pipeline.jobs.put(jobRecord({ doneSegments: new Set([0, 1]), ...overrides }));
  // Segment 0 says a0..a4 from 10 s, segment 1 says b0..b4 from 70 s (10 s into its audio, which starts at 58 s).
  pipeline.work.objects.set(keys.segmentResult(JOB_ID, 0), json(segmentResult(segments[0], wordsEverySecond(5, { from: 10, prefix: "a" }))));
  pipeline.work.objects.set(keys.segmentResult(JOB_ID, 1), json(segmentResult(segments[1], wordsEverySecond(5, { from: 12, prefix: "b" }))));
  return pipeline;
}

const json = (value: unknown) => ({ body: Buffer.from(JSON.stringify(value)), contentType: "application/json" });

describe("stitchJob", () => {
  it("writes every output format, the utterances and the completed record, and announces it", async () => {
    // Prepare
    const { ctx, output, jobs, notifier, metrics, clock } = transcribedJob();
    clock.advance(200);

    // Act
    const outcome = await stitchJob(ctx, JOB_ID);

    // Assess: the five files and the viewer page, each with its content type
    expect(outcome).toBe("completed");
    const files = [...Object.values(OUTPUT_FILES), VIEWER_PAGE_FILE];
    expect([...output.objects.keys()].sort()).toEqual(files.map((f) => keys.output(JOB_ID, f.file)).sort());
    for (const { file, contentType } of files) expect(output.objects.get(keys.output(JOB_ID, file))?.contentType).toBe(contentType);
    const transcript = output.json<Transcript>(keys.output(JOB_ID, "transcript.verbose.json"));
    expect(transcript.words.map((w) => w.word)).toEqual(["a0", "a1", "a2", "a3", "a4", "b0", "b1", "b2", "b3", "b4"]);
    expect(transcript.words[5].start).toBeCloseTo(70, 3);
    expect(output.text(keys.output(JOB_ID, "transcript.txt"))).toContain("a0 a1 a2 a3 a4");
    // ... the record: completed, with its figures and no lease left
    const job = jobs.peek(JOB_ID)!;
    expect(job).toMatchObject({
      status: "COMPLETED",
      wordCount: 10,
      language: "en",
      completedAt: clock.now().toISOString(),
      audioSecondsBilled: 124,
      billing: { segmentSeconds: 124, segmentRequests: 2, probeSeconds: 0, probeRequests: 0 },
    });
    expect(job.outputs).toEqual({
      ...Object.fromEntries(Object.entries(OUTPUT_FILES).map(([format, f]) => [format, keys.output(JOB_ID, f.file)])),
      html: keys.output(JOB_ID, VIEWER_PAGE_FILE.file),
    });
    expect(output.text(keys.output(JOB_ID, VIEWER_PAGE_FILE.file))).toContain("a0");
    expect(job.stitchLeaseUntil).toBeUndefined();
    expect((await jobs.utterances(JOB_ID)).map((u) => u.text).join(" ")).toBe("a0 a1 a2 a3 a4 b0 b1 b2 b3 b4");
    // ... one notification, one metric
    expect(notifier.events).toMatchObject([{ jobId: JOB_ID, status: "COMPLETED", wordCount: 10, outputBucket: ctx.config.outputBucket }]);
    expect(job.notifiedAt).toBeDefined();
    expect(metrics.completed).toEqual([
      expect.objectContaining({ segments: 2, durationSeconds: 200, recordingSeconds: transcript.duration, audioSecondsBilled: 124 }),
    ]);
  });

  it("does nothing for a second stitch message of a completed job", async () => {
    // Prepare
    const { ctx, output, notifier, metrics, jobs } = transcribedJob();
    await stitchJob(ctx, JOB_ID);
    const writes = output.writes.length;
    const record = jobs.peek(JOB_ID);

    // Act
    const outcome = await stitchJob(ctx, JOB_ID);

    // Assess
    expect(outcome).toBe("already-completed");
    expect(output.writes).toHaveLength(writes);
    expect(notifier.events).toHaveLength(1);
    expect(metrics.completed).toHaveLength(1);
    expect(jobs.peek(JOB_ID)).toEqual(record);
  });

  it("waits (retryably) for a job whose segments are not all done, without claiming it", async () => {
    // Prepare
    const { ctx, output, jobs } = transcribedJob({ doneSegments: new Set([0]) });

    // Act
    const attempt = stitchJob(ctx, JOB_ID);

    // Assess
    await expect(attempt).rejects.toBeInstanceOf(RetryableError);
    await expect(attempt).rejects.toMatchObject({ code: "not_ready" });
    expect(jobs.peek(JOB_ID)?.stitchLeaseUntil).toBeUndefined();
    expect(output.writes).toEqual([]);
  });

  it("hands its lease back when it fails, so the message's next delivery can stitch at once", async () => {
    // Prepare: the first stitch fails right after claiming the job
    let crashes = 1;
    const { ctx, jobs, output } = transcribedJob({}, {
      checkpoint: (step) => {
        if (step === "stitcher:after-claim" && crashes-- > 0) throw new Error("crash after the claim");
      },
    });

    // Act
    await expect(stitchJob(ctx, JOB_ID)).rejects.toThrow("crash after the claim");
    const lease = jobs.peek(JOB_ID)?.stitchLeaseUntil;
    const again = await stitchJob(ctx, JOB_ID);

    // Assess
    expect(lease).toBeUndefined();
    expect(again).toBe("completed");
    expect(output.writes.length).toBeGreaterThan(0);
  });

  it("leaves a job another stitcher holds alone until that stitcher's lease runs out", async () => {
    // Prepare: another worker claimed the job and died
    const { ctx, output, jobs, clock } = transcribedJob();
    expect(await jobs.claimStitch(JOB_ID, clock.now().getTime(), wiring.functions.stitcher.timeoutSeconds + 30)).toBeDefined();

    // Act
    const meanwhile = stitchJob(ctx, JOB_ID);
    // It asks to come back when that lease ends, not after the usual short retry backoff.
    await expect(meanwhile).rejects.toMatchObject({ code: "stitch_in_progress", retryAfterSeconds: wiring.functions.stitcher.timeoutSeconds + 31 });
    clock.advance(wiring.functions.stitcher.timeoutSeconds + 31);
    const after = await stitchJob(ctx, JOB_ID);

    // Assess
    await expect(meanwhile).rejects.toBeInstanceOf(RetryableError);
    expect(after).toBe("completed");
    expect(output.writes).toHaveLength(Object.keys(OUTPUT_FILES).length + 1);
  });

  it("a stitcher that died after writing the outputs is simply run again: same files, completed once", async () => {
    // Prepare: the first run dies before completing the job; its lease runs out
    let crashed = false;
    pipeline = transcribedJob();
    const { ctx, output, jobs, clock, metrics, notifier } = pipeline;
    ctx.checkpoint = (step) => {
      if (step === "stitcher:after-utterances" && !crashed) {
        crashed = true;
        throw new Error("killed");
      }
    };
    await expect(stitchJob(ctx, JOB_ID)).rejects.toThrow("killed");
    const first = new Map([...output.objects].map(([key, o]) => [key, Buffer.from(o.body).toString()]));
    clock.advance(wiring.functions.stitcher.timeoutSeconds + 31);

    // Act
    const outcome = await stitchJob(ctx, JOB_ID);

    // Assess
    expect(outcome).toBe("completed");
    for (const [key, text] of first) expect(output.text(key)).toBe(text);
    expect(jobs.peek(JOB_ID)?.status).toBe("COMPLETED");
    expect(metrics.completed).toHaveLength(1);
    expect(notifier.events).toHaveLength(1);
  });

  it("does not stitch a failed job, and announces its end once", async () => {
    // Prepare
    const { ctx, output, notifier } = transcribedJob({ status: "FAILED", error: "gave up on segment 1", errorCode: "dead_lettered" });

    // Act
    const outcomes = [await stitchJob(ctx, JOB_ID), await stitchJob(ctx, JOB_ID)];

    // Assess
    expect(outcomes).toEqual(["job-ended", "job-ended"]);
    expect(output.writes).toEqual([]);
    expect(notifier.events).toMatchObject([{ status: "FAILED", error: "gave up on segment 1" }]);
  });

  it("labels a diarized job's words by the speaker book the settlers left, and counts its probes", async () => {
    // Prepare: segment 0's A and segment 1's B are the same voice (V0) by the book
    const { ctx, work, output, jobs } = transcribedJob({ options: { ...jobOptions({ diarize: true }) }, speakersSettled: 2 });
    work.objects.set(keys.segmentResult(JOB_ID, 0), json(segmentResult(segments[0], wordsEverySecond(5, { from: 10, prefix: "a", speaker: "A" }))));
    work.objects.set(keys.segmentResult(JOB_ID, 1), json(segmentResult(segments[1], wordsEverySecond(5, { from: 12, prefix: "b", speaker: "B" }))));
    const book: SpeakerBook = {
      ...emptyBook(),
      settled: 2,
      map: { 0: { A: "V0" }, 1: { B: "V0" } },
      voices: [{ id: "V0", spans: [], seconds: 4 }],
      probes: { requests: 1, seconds: 6.5 },
    };
    work.objects.set(keys.speakerBook(JOB_ID, 2), json(book));

    // Act
    await stitchJob(ctx, JOB_ID);

    // Assess
    const transcript = output.json<Transcript>(keys.output(JOB_ID, "transcript.verbose.json"));
    expect(new Set(transcript.words.map((w) => w.speaker_id)).size).toBe(1);
    expect(transcript.speakers).toHaveLength(1);
    expect(jobs.peek(JOB_ID)).toMatchObject({ audioSecondsBilled: 130.5, billing: { probeRequests: 1, probeSeconds: 6.5 } });
  });

  it("retries a diarized job whose settlers have not settled every segment", async () => {
    // Prepare
    const { ctx } = transcribedJob({ options: { ...jobOptions({ diarize: true }) }, speakersSettled: 1 });

    // Act
    const attempt = stitchJob(ctx, JOB_ID);

    // Assess
    await expect(attempt).rejects.toMatchObject({ code: "not_ready" });
  });
});
