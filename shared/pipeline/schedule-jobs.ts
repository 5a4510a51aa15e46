import type { JobRecord } from "../adapters/job-store.js";
import { isTerminal } from "../domain/jobs/job-event.js";
import type { PipelineContext } from "./context.js";
import { readyToStitch } from "./job-progress.js";
import { releaseGrownShares, releaseSegments } from "./release-segments.js";
import { sendStitch } from "./request-stitch.js";

/**
 * At most `maxRunningJobs` jobs run at once (issue 18); the others wait as QUEUED and start oldest first as
 * running ones end. A queued job is still cut (its chunker runs on: segments and messages are stored), but
 * none of its segments is sent until it starts: then the release of its share (release-segments.ts) sends
 * them. So starting a queued job needs nothing but the table: no chunker to wake up again.
 *
 * The running set is one item (adapters/job-schedule.ts): admission is one conditional update, and leaving
 * is idempotent. Every job end (ensureNotified) leaves and starts the oldest queued jobs; a chunker that
 * queues its job looks once more after queueing, so a slot freed between its refusal and its queue item is
 * not missed. A running entry whose job ended without leaving (a bug, or a record deleted by hand) is
 * reclaimed when admission finds the set full.
 */
export async function admitOrQueue(ctx: PipelineContext, jobId: string, segments: number): Promise<"running" | "queued"> {
  const entry = { jobId, segments, since: ctx.now().toISOString() };
  if (await admit(ctx, entry)) return "running";
  const job = await ctx.jobs.markQueued(jobId, ctx.now());
  // Started meanwhile (a repeat of this chunker after the job was started), or ended: not queued.
  if (!job || job.status !== "QUEUED" || !job.queuedAt) return "running";
  await ctx.schedule.enqueue({ jobId, queuedAt: job.queuedAt, segments });
  ctx.log.info("job queued: the most running jobs are running", { jobId, maxRunningJobs: ctx.config.maxRunningJobs });
  await startQueuedJobs(ctx);
  return "queued";
}

/** Admits the job, reclaiming slots of ended jobs once when the set is full. */
async function admit(ctx: PipelineContext, entry: { jobId: string; segments: number; since: string }): Promise<boolean> {
  const max = ctx.config.maxRunningJobs;
  if (await ctx.schedule.admit(entry, max)) return true;
  return (await reclaimEnded(ctx)) > 0 && ctx.schedule.admit(entry, max);
}

/**
 * Removes running entries whose job has ended or is gone; how many. A slot is only left behind by a step that
 * died between a job's end and its leaving, which is rare: so a few running entries drawn at random are looked
 * at, in parallel, not every running job's record on every refused admission (a queue of hundreds would read
 * them hundreds of times). Every refusal draws again, so a leaked slot is found after a few of them.
 */
async function reclaimEnded(ctx: PipelineContext): Promise<number> {
  const { running } = await ctx.schedule.snapshot();
  const drawn = [...running].sort(() => Math.random() - 0.5).slice(0, RECLAIM_CHECKS);
  const ended = await Promise.all(
    drawn.map(async (jobId) => {
      const job = await ctx.jobs.get(jobId);
      if (job && !isTerminal(job.status)) return false;
      await ctx.schedule.leave(jobId);
      ctx.log.warn("running slot of an ended job reclaimed", { jobId, status: job?.status ?? "gone" });
      return true;
    }),
  );
  return ended.filter(Boolean).length;
}

/** Running entries looked at per refused admission. */
const RECLAIM_CHECKS = 5;

/**
 * A job that ended: its slot and share go back, the jobs whose share grows release up to it (a job that ends
 * while transcribing: failed, cancelled), and the oldest queued jobs start in its place.
 */
export async function leaveSchedule(ctx: PipelineContext, jobId: string): Promise<void> {
  const { transcribing } = await ctx.schedule.snapshot();
  await ctx.schedule.leave(jobId);
  await releaseGrownShares(ctx, jobId, transcribing);
  await startQueuedJobs(ctx);
}

/**
 * The job's segments are all transcribed: it stops taking a share, and the jobs whose share grows release up
 * to it now. A repeat after the job left finds it gone from the schedule and hands nothing on: those jobs
 * then grow at their own next release, as they would have without the hand-on.
 */
export async function doneTranscribing(ctx: PipelineContext, job: JobRecord): Promise<void> {
  if (job.segmentCount === undefined || (job.doneSegments?.size ?? 0) < job.segmentCount) return;
  const { transcribing } = await ctx.schedule.snapshot();
  await ctx.schedule.doneTranscribing(job.jobId);
  await releaseGrownShares(ctx, job.jobId, transcribing);
}

/**
 * Starts queued jobs, oldest first, while running slots are free. Each step is safe to repeat after a crash:
 * a job admitted but still QUEUED is admitted again (it holds its slot) and moved on; one moved on but still
 * in the queue gets its start release (a claim: sent once) and leaves the queue.
 */
export async function startQueuedJobs(ctx: PipelineContext): Promise<number> {
  let started = 0;
  for (;;) {
    const [next] = await ctx.schedule.oldestQueued(1);
    if (!next) return started;
    const job = await ctx.jobs.get(next.jobId);
    if (job?.status === "QUEUED") {
      if (!(await admit(ctx, { jobId: next.jobId, segments: next.segments, since: ctx.now().toISOString() }))) return started;
      const moved = await ctx.jobs.startQueued(next.jobId, ctx.now());
      if (moved?.status === "CHUNKING" || moved?.status === "RUNNING") {
        await begin(ctx, moved);
        started++;
      } else {
        // Cancelled (or deleted) between the read and the admission: its end already left the schedule, so
        // the slot just taken for it would never be given back.
        await ctx.schedule.leave(next.jobId);
      }
    } else if (job && !isTerminal(job.status)) {
      // Started before, by a step that stopped before the queue item was removed.
      await begin(ctx, job);
    }
    await ctx.schedule.dequeue(next);
  }
}

/** A started job's first share goes to the queue; a job cut into nothing (silence) goes straight to its stitch. */
async function begin(ctx: PipelineContext, job: JobRecord): Promise<void> {
  ctx.log.info("queued job started", { jobId: job.jobId, status: job.status });
  await releaseSegments(ctx, job.jobId, "start", job);
  if (readyToStitch(job)) await sendStitch(ctx, job.jobId);
}
