import { jobEventOf } from "../adapters/notifier.js";
import type { JobRecord } from "../adapters/job-store.js";
import { realtimeSessionIdSchema } from "../domain/options/options.js";
import { isTerminal } from "../domain/jobs/job-event.js";
import type { PipelineContext } from "./context.js";
import { settleJobCost } from "./cost-cap.js";
import { leaveSchedule } from "./schedule-jobs.js";

/**
 * Ends a job as FAILED and tells subscribers. Safe to repeat: the status
 * moves once, and the notification is re-sent until it is recorded as sent.
 */
export async function failJob(ctx: PipelineContext, jobId: string, reason: string, code: string): Promise<void> {
  const moved = await ctx.jobs.fail(jobId, redactSignedUrls(reason), code, ctx.now());
  if (moved) {
    ctx.log.warn("job failed", { jobId, code, reason });
    ctx.metrics.jobFailed({ code });
  }
  const job = await ctx.jobs.get(jobId);
  if (job) await ensureNotified(ctx, job);
}

/**
 * Publishes the end of a finished job once it is terminal, unless that was already done. A completed job
 * from a realtime session first reports to the session item, so the link is retried as long as the
 * notification is.
 */
export async function ensureNotified(ctx: PipelineContext, ended: JobRecord): Promise<void> {
  if (ended.notifiedAt || !isTerminal(ended.status)) return;
  // Its running slot and share go to the others, and the oldest queued job starts (schedule-jobs.ts).
  await leaveSchedule(ctx, ended.jobId);
  await ctx.checkpoint("before-notify");
  // What the job cost, settled on the day's total before it is announced with it (cost-cap.ts).
  const job = await settleJobCost(ctx, ended);
  await linkRealtimeSession(ctx, job);
  await ctx.notifier.publish(jobEventOf(job, ctx.config.outputBucket));
  await ctx.jobs.markNotified(job.jobId, ctx.now());
}

/** `batchJobId` and `batchAudioSecondsBilled` on the session item, when the job transcribed a realtime session. */
async function linkRealtimeSession(ctx: PipelineContext, job: JobRecord): Promise<void> {
  if (job.status !== "COMPLETED" || job.realtimeSessionId === undefined || job.audioSecondsBilled === undefined) return;
  const session = realtimeSessionIdSchema.safeParse(job.realtimeSessionId);
  if (!session.success) {
    ctx.log.warn("job record names no valid realtime session; not linked", { jobId: job.jobId });
    return;
  }
  const linked = await ctx.jobs.linkRealtimeSession(session.data, { jobId: job.jobId, audioSecondsBilled: job.audioSecondsBilled });
  // Session items expire (retention) and may be gone by now: the job's own record keeps the figures.
  if (!linked) ctx.log.info("realtime session item not found; job not linked to it", { jobId: job.jobId, sessionId: session.data });
}

/** A presigned URL (with its query string) inside an error text, up to where the URL ends or ffmpeg's ": " follows it. */
const SIGNED_URL = /(?:\b[a-z][a-z0-9+.-]*:)?\/\/[^\s?#]+\?\S*?X-Amz-Signature=\S*?(?::\s+|(?=[\s)]|$))/gi;

/**
 * ffmpeg/ffprobe name their input in error lines, and the chunker's input is a presigned URL: a reason must
 * not carry a live signature into the job record and the notification, so any such URL is cut out.
 */
export function redactSignedUrls(reason: string): string {
  return reason.replace(SIGNED_URL, "");
}
