/**
 * A job's end (shared/pipeline/finish-job.ts) on in-memory adapters: failing moves the job once, the end is
 * announced until it is recorded as announced, and a realtime session's job reports to its session.
 */
import { afterEach, describe, expect, it } from "vitest";
import { ensureNotified, failJob } from "../../shared/pipeline/finish-job.js";
import { JOB_ID, jobRecord } from "../support/job-fixtures.js";
import { memoryPipeline, type MemoryPipeline } from "../support/memory-context.js";

let pipeline: MemoryPipeline;
afterEach(() => pipeline?.dispose());

const SESSION = "sess_abc123";

describe("failJob", () => {
  it("moves a running job to FAILED with its reason and code, once, and announces it once", async () => {
    // Prepare
    pipeline = memoryPipeline();
    const { ctx, jobs, notifier, metrics, log } = pipeline;
    jobs.put(jobRecord());

    // Act: failed twice (a dead letter and a redelivery, say)
    await failJob(ctx, JOB_ID, "gave up on segment 1 after repeated failures", "dead_lettered");
    await failJob(ctx, JOB_ID, "another reason", "other_code");

    // Assess
    expect(jobs.peek(JOB_ID)).toMatchObject({
      status: "FAILED",
      error: "gave up on segment 1 after repeated failures",
      errorCode: "dead_lettered",
      completedAt: ctx.now().toISOString(),
      notifiedAt: ctx.now().toISOString(),
    });
    expect(metrics.failed).toEqual([{ code: "dead_lettered" }]);
    expect(notifier.events).toEqual([expect.objectContaining({ jobId: JOB_ID, status: "FAILED", errorCode: "dead_lettered" })]);
    expect(log.messages("warn")).toEqual(["job failed"]);
  });

  it("cuts presigned URLs (ffmpeg names its input) out of the stored and announced reason", async () => {
    // Prepare
    pipeline = memoryPipeline();
    const { ctx, jobs, notifier } = pipeline;
    jobs.put(jobRecord({ status: "CHUNKING" }));
    const url = "https://stt-input.s3.amazonaws.com/call.mp3?X-Amz-Algorithm=AWS4&X-Amz-Signature=deadbeef";

    // Act
    await failJob(ctx, JOB_ID, `audio could not be decoded: ${url}: Invalid data found`, "decode_failed");

    // Assess
    expect(jobs.peek(JOB_ID)?.error).toBe("audio could not be decoded: Invalid data found");
    expect(JSON.stringify(notifier.events)).not.toContain("X-Amz-Signature");
  });

  it("leaves a completed job completed, and counts no failure", async () => {
    // Prepare
    pipeline = memoryPipeline();
    const { ctx, jobs, notifier, metrics } = pipeline;
    jobs.put(jobRecord({ status: "COMPLETED", notifiedAt: "2026-01-01T00:00:00.000Z" }));

    // Act
    await failJob(ctx, JOB_ID, "late dead letter", "dead_lettered");

    // Assess
    expect(jobs.peek(JOB_ID)?.status).toBe("COMPLETED");
    expect(metrics.failed).toEqual([]);
    expect(notifier.events).toEqual([]);
  });

  it("announces again on the next try when the first announcement failed", async () => {
    // Prepare
    pipeline = memoryPipeline();
    const { ctx, jobs, notifier, metrics } = pipeline;
    jobs.put(jobRecord());
    notifier.failNext = new Error("SNS is down");

    // Act
    await expect(failJob(ctx, JOB_ID, "provider rejected the request (401)", "provider_401")).rejects.toThrow("SNS is down");
    const between = jobs.peek(JOB_ID);
    await failJob(ctx, JOB_ID, "provider rejected the request (401)", "provider_401");

    // Assess: failed once, announced once it could be
    expect(between).toMatchObject({ status: "FAILED" });
    expect(between?.notifiedAt).toBeUndefined();
    expect(metrics.failed).toHaveLength(1);
    expect(notifier.events).toHaveLength(1);
    expect(jobs.peek(JOB_ID)?.notifiedAt).toBeDefined();
  });

  it("does nothing for a job that has no record", async () => {
    // Prepare
    pipeline = memoryPipeline();

    // Act
    await failJob(pipeline.ctx, "no-such-job", "gave up", "dead_lettered");

    // Assess
    expect(pipeline.notifier.events).toEqual([]);
    expect(pipeline.metrics.failed).toEqual([]);
  });
});

describe("ensureNotified", () => {
  it("reports a completed realtime job's cost on its session item and announces it", async () => {
    // Prepare
    pipeline = memoryPipeline();
    const { ctx, jobs, notifier } = pipeline;
    jobs.sessions.set(SESSION, { status: "SUBMITTED" });
    jobs.put(jobRecord({ status: "COMPLETED", realtimeSessionId: SESSION, audioSecondsBilled: 42.5 }));

    // Act
    await ensureNotified(ctx, jobs.peek(JOB_ID)!);

    // Assess
    expect(jobs.sessions.get(SESSION)).toEqual({ status: "SUBMITTED", batchJobId: JOB_ID, batchAudioSecondsBilled: 42.5 });
    expect(notifier.events).toMatchObject([{ status: "COMPLETED", realtimeSessionId: SESSION, audioSecondsBilled: 42.5 }]);
  });

  it("announces a realtime job whose session item is gone all the same", async () => {
    // Prepare
    pipeline = memoryPipeline();
    const { ctx, jobs, notifier, log } = pipeline;
    jobs.put(jobRecord({ status: "COMPLETED", realtimeSessionId: SESSION, audioSecondsBilled: 42.5 }));

    // Act
    await ensureNotified(ctx, jobs.peek(JOB_ID)!);

    // Assess
    expect(notifier.events).toHaveLength(1);
    expect(log.messages("info")).toContain("realtime session item not found; job not linked to it");
  });

  it("announces nothing for a job that is still running, or was announced already", async () => {
    // Prepare
    pipeline = memoryPipeline();
    const { ctx, notifier } = pipeline;

    // Act
    await ensureNotified(ctx, jobRecord());
    await ensureNotified(ctx, jobRecord({ status: "FAILED", notifiedAt: "2026-01-01T00:00:00.000Z" }));

    // Assess
    expect(notifier.events).toEqual([]);
  });
});
