import type { JobRecord } from "../adapters/job-store.js";
import { CANCELLABLE_STATUSES, isTerminal } from "../domain/jobs/job-event.js";
import { PermanentError } from "../errors.js";
import type { PipelineContext } from "./context.js";
import { ensureNotified } from "./finish-job.js";

export type CancelOutcome =
  /** This call moved the job to CANCELLED (and announced it). */
  | { kind: "cancelled"; job: JobRecord }
  /** It was cancelled before: nothing to do (the notification is re-sent if it was never recorded as sent). */
  | { kind: "already-cancelled"; job: JobRecord }
  /** It ended otherwise (COMPLETED or FAILED) before the cancel: refused, with the reason. */
  | { kind: "refused"; job: JobRecord; reason: string }
  | { kind: "unknown"; jobId: string };

/**
 * Cancels a job that is still chunking or running: one conditional update (CHUNKING, QUEUED or RUNNING -> CANCELLED),
 * then the JOB_ENDED notification with status CANCELLED. Safe to repeat and to race:
 *
 * - Every step reads the status before it spends (the chunker between segments, the transcriber before its
 *   provider request, the settler before each probe, the stitcher before it claims the job), so what is
 *   still queued is consumed without a provider request.
 * - A running stitcher completes only from RUNNING (JobRecords.complete): either it completes first, and the
 *   cancel is refused as too late, or the cancel wins and the stitcher's complete is refused; that stitcher
 *   then deletes the files and utterance items it wrote (stitch-job.ts). A cancelled job's record never lists
 *   outputs, whatever order the writes land in.
 */
export async function cancelJob(ctx: PipelineContext, jobId: string): Promise<CancelOutcome> {
  const moved = await ctx.jobs.cancel(jobId, ctx.now());
  const job = await ctx.jobs.get(jobId);
  if (!job) return { kind: "unknown", jobId };
  if (job.status !== "CANCELLED") {
    // The condition failed on a job that ended otherwise (a job never leaves a terminal state, and a
    // cancellable one would have moved).
    return { kind: "refused", job, reason: refusal(job) };
  }
  if (moved) ctx.log.info("job cancelled", { jobId });
  await ensureNotified(ctx, job);
  return { kind: moved ? "cancelled" : "already-cancelled", job };
}

function refusal(job: JobRecord): string {
  const when = job.completedAt ? ` at ${job.completedAt}` : "";
  if (job.status === "COMPLETED") return `job ${job.jobId} already COMPLETED${when}: too late to cancel (stt delete removes it)`;
  if (job.status === "FAILED") return `job ${job.jobId} already FAILED${when}${job.error ? ` (${job.error})` : ""}: nothing to cancel`;
  return `job ${job.jobId} is ${job.status}: only ${CANCELLABLE_STATUSES.join(" or ")} jobs can be cancelled`;
}

/** Code of the error a step throws when it finds its job ended while it works (see stopIfEnded). */
export const JOB_ENDED_CODE = "job_ended";

/**
 * Throws when the job has ended (cancelled, most likely, or failed) or its record is gone (deleted: steps
 * only run on jobs whose record they created or read) since the caller read it: a step calls it before
 * spending (a segment cut and queued, a probe sent). A permanent error: the queue handlers consume the
 * message, and failing the job changes nothing on an ended or deleted job (JobRecords.fail refuses), so what
 * remains is making sure the end is announced.
 */
export async function stopIfEnded(ctx: PipelineContext, jobId: string): Promise<void> {
  const job = await ctx.jobs.get(jobId);
  if (!job) throw new PermanentError(JOB_ENDED_CODE, `job ${jobId} has no record any more (deleted)`);
  if (isTerminal(job.status)) throw new PermanentError(JOB_ENDED_CODE, `job ${jobId} is ${job.status}`);
}

/** Whether `error` is stopIfEnded's. */
export function isJobEnded(error: unknown): boolean {
  return error instanceof PermanentError && error.code === JOB_ENDED_CODE;
}
