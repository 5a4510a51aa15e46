/**
 * Fair share and running slots as the steps apply them (pipeline/release-segments.ts, pipeline/schedule-jobs.ts),
 * on the in-memory ports: what reaches the segments queue when, under repeats, crashes and newcomers.
 */
import { afterEach, describe, expect, it } from "vitest";
import { keys } from "../../shared/adapters/object-store.js";
import { releaseSegments } from "../../shared/pipeline/release-segments.js";
import { admitOrQueue, doneTranscribing, leaveSchedule } from "../../shared/pipeline/schedule-jobs.js";
import { memoryPipeline, type MemoryPipeline } from "../support/memory-context.js";
import { cutSegments, jobRecord, segmentMessage } from "../support/job-fixtures.js";

let pipeline: MemoryPipeline | undefined;
afterEach(() => pipeline?.dispose());

/** A job whose first `count` segments are cut (messages stored), admitted with `count` expected segments. */
async function cutJob(p: MemoryPipeline, jobId: string, count: number): Promise<"running" | "queued"> {
  p.jobs.put(jobRecord({ jobId, status: "CHUNKING", segmentCount: undefined, chunkedAt: undefined, duration: undefined }));
  for (const segment of cutSegments(count)) await p.work.putJson(keys.segmentMessage(jobId, segment.index), segmentMessage(segment, jobId));
  const admitted = await admitOrQueue(p.ctx, jobId, count);
  await p.jobs.markCut(jobId, count, p.clock.now());
  await releaseSegments(p.ctx, jobId, `cut-${count}`);
  return admitted;
}

/** Segment `index` of the job counted done, the schedule told when it was the last, then its release, as the transcriber does. */
async function finish(p: MemoryPipeline, jobId: string, index: number): Promise<number> {
  const updated = await p.jobs.addDoneSegment(jobId, index, p.clock.now());
  if (updated) await doneTranscribing(p.ctx, updated);
  return releaseSegments(p.ctx, jobId, `done-${index}`, updated);
}

const sent = (p: MemoryPipeline, jobId: string) => p.queues.segments.filter((m) => m.jobId === jobId).map((m) => m.segment.index);

describe("releaseSegments", () => {
  it("keeps a lone job's share of the cap out, one more each time one finishes, in index order", async () => {
    // Prepare
    pipeline = memoryPipeline({ config: { providerMaxInFlight: 4 } });

    // Act
    await cutJob(pipeline, "long", 10);
    const afterCut = sent(pipeline, "long");
    await finish(pipeline, "long", 1);
    await finish(pipeline, "long", 0);

    // Assess
    expect(afterCut).toEqual([0, 1, 2, 3]);
    expect(sent(pipeline, "long")).toEqual([0, 1, 2, 3, 4, 5]);
    expect(pipeline.jobs.peek("long")?.releasedSegments).toBe(6);
  });

  it("sends a repeat's range again (a crash between claim and send) and nothing more", async () => {
    // Prepare: the send of segment 4 (released by segment 0's finish) fails once
    pipeline = memoryPipeline({ config: { providerMaxInFlight: 4 } });
    await cutJob(pipeline, "long", 10);
    let failOnce = true;
    pipeline.queues.beforeSend = () => {
      if (failOnce) {
        failOnce = false;
        throw new Error("SQS unavailable");
      }
    };

    // Act: the transcriber fails, its message comes back, and the repeat runs the same step
    await expect(finish(pipeline, "long", 0)).rejects.toThrow("SQS unavailable");
    await finish(pipeline, "long", 0);
    await finish(pipeline, "long", 0);

    // Assess: segment 4 sent by the repeats (twice: a duplicate the transcriber absorbs), and no segment 5
    expect(sent(pipeline, "long")).toEqual([0, 1, 2, 3, 4, 4]);
    expect(pipeline.jobs.peek("long")?.releasedSegments).toBe(5);
  });

  it("makes room for a newcomer: the long job releases nothing until it is under its new share", async () => {
    // Prepare: a long job with the whole cap of 4 out
    pipeline = memoryPipeline({ config: { providerMaxInFlight: 4 } });
    await cutJob(pipeline, "long", 20);

    // Act: a 2-segment job arrives, then the long job's segments finish one by one
    await cutJob(pipeline, "short", 2);
    const releasedByFinishes = [];
    for (const index of [0, 1, 2]) releasedByFinishes.push(await finish(pipeline, "long", index));

    // Assess: the short job has its 2 out at once; the long one goes down to 2 before it releases again
    expect(sent(pipeline, "short")).toEqual([0, 1]);
    expect(releasedByFinishes).toEqual([0, 0, 1]);
    expect(sent(pipeline, "long")).toEqual([0, 1, 2, 3, 4]);
  });

  it("hands a finished job's share on at once: the job it grows releases without waiting for its own segments", async () => {
    // Prepare: the cap of 4 out for a long job; then "a" and "b" (2 segments each) arrive: shares a 2, b 1, long 1
    pipeline = memoryPipeline({ config: { providerMaxInFlight: 4 } });
    await cutJob(pipeline, "long", 20);
    await cutJob(pipeline, "a", 2);
    pipeline.clock.advance(1);
    await cutJob(pipeline, "b", 2);
    await pipeline.jobs.markChunked("a", { segmentCount: 2, duration: 120 }, pipeline.clock.now());
    const bBefore = sent(pipeline, "b");

    // Act: a's segments finish (the last one takes it off the shares); b's own segment is still out
    await finish(pipeline, "a", 0);
    await finish(pipeline, "a", 1);
    await finish(pipeline, "a", 1);

    // Assess: b gets its second segment out then, once (the repeat of a's last finish sends nothing more)
    expect(sent(pipeline, "a")).toEqual([0, 1]);
    expect(bBefore).toEqual([0]);
    expect(sent(pipeline, "b")).toEqual([0, 1]);
    expect(sent(pipeline, "long")).toEqual([0, 1, 2, 3]);
  });

  it("releases nothing for a job that has ended", async () => {
    pipeline = memoryPipeline({ config: { providerMaxInFlight: 4 } });
    await cutJob(pipeline, "long", 10);
    await pipeline.jobs.cancel("long", pipeline.clock.now());
    expect(await finish(pipeline, "long", 0)).toBe(0);
    expect(sent(pipeline, "long")).toEqual([0, 1, 2, 3]);
  });
});

describe("admitOrQueue and leaveSchedule", () => {
  it("queues a job over maxRunningJobs without sending any of its segments, and starts it when the running one ends", async () => {
    // Prepare
    pipeline = memoryPipeline({ config: { providerMaxInFlight: 4, maxRunningJobs: 1 } });
    await cutJob(pipeline, "first", 3);

    // Act
    const admitted = await cutJob(pipeline, "second", 3);
    const whileQueued = { status: pipeline.jobs.peek("second")?.status, sent: sent(pipeline, "second") };
    await pipeline.jobs.markChunked("second", { segmentCount: 3, duration: 180 }, pipeline.clock.now());
    await pipeline.jobs.fail("first", "test", "test", pipeline.clock.now());
    await leaveSchedule(pipeline.ctx, "first");

    // Assess
    expect(admitted).toBe("queued");
    expect(whileQueued).toEqual({ status: "QUEUED", sent: [] });
    expect(pipeline.jobs.peek("second")?.queuedAt).toBeDefined();
    expect(pipeline.jobs.peek("second")?.status).toBe("RUNNING");
    expect(sent(pipeline, "second")).toEqual([0, 1, 2]);
    expect(pipeline.schedule.queued.size).toBe(0);
    expect([...pipeline.schedule.running.keys()]).toEqual(["second"]);
  });

  it("starts queued jobs oldest first, one per slot freed", async () => {
    pipeline = memoryPipeline({ config: { providerMaxInFlight: 4, maxRunningJobs: 1 } });
    await cutJob(pipeline, "a", 1);
    pipeline.clock.advance(1);
    await cutJob(pipeline, "b", 1);
    pipeline.clock.advance(1);
    await cutJob(pipeline, "c", 1);

    await pipeline.jobs.fail("a", "test", "test", pipeline.clock.now());
    await leaveSchedule(pipeline.ctx, "a");

    expect(pipeline.jobs.peek("b")?.status).toBe("CHUNKING");
    expect(pipeline.jobs.peek("c")?.status).toBe("QUEUED");
    expect(sent(pipeline, "b")).toEqual([0]);
    expect(sent(pipeline, "c")).toEqual([]);
  });

  it("takes back the slot of a job that ended without leaving, instead of queueing behind it for ever", async () => {
    pipeline = memoryPipeline({ config: { providerMaxInFlight: 4, maxRunningJobs: 1 } });
    await cutJob(pipeline, "lost", 1);
    await pipeline.jobs.fail("lost", "test", "test", pipeline.clock.now());

    expect(await cutJob(pipeline, "next", 2)).toBe("running");
    expect(sent(pipeline, "next")).toEqual([0, 1]);
  });

  it("does not start a queued job that was cancelled meanwhile, and moves on to the next", async () => {
    pipeline = memoryPipeline({ config: { providerMaxInFlight: 4, maxRunningJobs: 1 } });
    await cutJob(pipeline, "a", 1);
    pipeline.clock.advance(1);
    await cutJob(pipeline, "b", 1);
    pipeline.clock.advance(1);
    await cutJob(pipeline, "c", 1);
    await pipeline.jobs.cancel("b", pipeline.clock.now());

    await pipeline.jobs.fail("a", "test", "test", pipeline.clock.now());
    await leaveSchedule(pipeline.ctx, "a");

    expect(pipeline.jobs.peek("b")?.status).toBe("CANCELLED");
    expect(sent(pipeline, "b")).toEqual([]);
    expect(pipeline.jobs.peek("c")?.status).toBe("CHUNKING");
    expect(sent(pipeline, "c")).toEqual([0]);
  });

  it("gives the slot back when a queued job is cancelled while it is being started", async () => {
    // Prepare: "b" waits; its cancel lands between the scheduler's read and its start
    pipeline = memoryPipeline({ config: { providerMaxInFlight: 4, maxRunningJobs: 1 } });
    await cutJob(pipeline, "a", 1);
    pipeline.clock.advance(1);
    await cutJob(pipeline, "b", 1);
    const p = pipeline;
    const startQueued = p.jobs.startQueued.bind(p.jobs);
    p.jobs.startQueued = async (jobId, now) => {
      await p.jobs.cancel(jobId, now);
      return startQueued(jobId, now);
    };

    // Act
    await p.jobs.fail("a", "test", "test", p.clock.now());
    await leaveSchedule(p.ctx, "a");

    // Assess: nothing sent for b, no slot held by it, the queue empty
    expect(p.jobs.peek("b")?.status).toBe("CANCELLED");
    expect(sent(p, "b")).toEqual([]);
    expect([...p.schedule.running.keys()]).toEqual([]);
    expect(p.schedule.queued.size).toBe(0);
  });
});

