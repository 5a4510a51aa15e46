import { keys } from "../adapters/object-store.js";
import type { JobRecord } from "../adapters/job-store.js";
import { CANCELLABLE_STATUSES, TERMINAL_STATUSES } from "../domain/jobs/job-event.js";
import { RetryableError } from "../errors.js";
import { cancelJob } from "./cancel-job.js";
import type { PipelineContext } from "./context.js";

export interface DeleteReport {
  jobId: string;
  /** The job item was there when the delete began (false: only leftovers were removed, or nothing). */
  existed: boolean;
  /** It was still chunking or running: it was cancelled first. */
  cancelled: boolean;
  outputObjects: number;
  workObjects: number;
  utterances: number;
}

/**
 * Removes a job and everything it left: its output files (`jobs/<id>/` in the output bucket), its work
 * objects (`jobs/<id>/` in the work bucket: segments, results, speaker books, voice clips, a URL's copy), its
 * utterance items, then the job item.
 *
 * The order is what makes it safe to repeat and to race with a running job:
 * 1. A job still CHUNKING, QUEUED or RUNNING is cancelled first (cancel-job.ts): its steps stop spending and stop
 *    writing at their next status check, and a stitcher that loses the race deletes what it wrote.
 * 2. Objects and utterances next; deleting what is already gone is no error.
 * 3. The job item last, and only while it is in a terminal state: if anything before fails, the item is still
 *    there and the delete can simply be run again; a repeat after success finds nothing and removes nothing.
 *
 * A step that was already past its status check when the cancel landed (a transcriber with its provider
 * request in flight, a segment the chunker was storing) may still write one object under the work prefix
 * after this ran: the work bucket's expiry removes it (wiring.buckets.work.expireDays), and so does running
 * the delete again. Nothing is written to the output bucket or the table for a cancelled or deleted job.
 */
export async function deleteJob(ctx: PipelineContext, jobId: string): Promise<DeleteReport> {
  const job = await ctx.jobs.get(jobId);
  let cancelled = false;
  if (job && isCancellable(job)) {
    const outcome = await cancelJob(ctx, jobId);
    cancelled = outcome.kind === "cancelled";
  }
  const prefix = keys.jobPrefix(jobId);
  const outputs = await ctx.output.listKeys(prefix);
  await ctx.output.deleteKeys(outputs);
  const work = await ctx.work.listKeys(prefix);
  await ctx.work.deleteKeys(work);
  const utterances = await ctx.jobs.deleteUtterances(jobId);
  if (!(await ctx.jobs.deleteJob(jobId, TERMINAL_STATUSES))) {
    // Only a job that is not terminal refuses: one created again meanwhile (a redelivered upload event).
    throw new RetryableError("job_running", `job ${jobId} is running again; cancel it, then delete it`);
  }
  const report: DeleteReport = { jobId, existed: job !== undefined, cancelled, outputObjects: outputs.length, workObjects: work.length, utterances };
  ctx.log.info("job deleted", { ...report });
  return report;
}

const isCancellable = (job: JobRecord) => (CANCELLABLE_STATUSES as readonly string[]).includes(job.status);

/** What is removed when a recording is deleted and the stack deletes its jobs with it (deleteJobsWithSource). */
export interface SourceRemoved {
  bucket: string;
  key: string;
  /** The version that was deleted, for a versioned bucket's permanent delete (ObjectRemoved:Delete with a version). */
  versionId?: string;
  /** A delete marker was created (versioned bucket, no version named): the object is hidden, not erased. */
  deleteMarker?: boolean;
}

/**
 * An input object was deleted, in a deployment that deletes jobs with their source (the stack setting
 * `deleteJobsWithSource`: erasure requests): deletes the jobs made from it, each as deleteJob does. A
 * permanent delete of one version deletes the jobs of that version; any other delete (an unversioned
 * bucket, a delete marker) deletes every job of the key, except jobs of an object that is there again under
 * the key (uploaded again after the delete, before its event was handled). Safe to repeat.
 */
export async function deleteJobsOfSource(ctx: PipelineContext, removed: SourceRemoved, indexName: string): Promise<DeleteReport[]> {
  const jobs = await ctx.jobs.jobsForSource(removed.bucket, removed.key, indexName);
  const current = removed.versionId && !removed.deleteMarker ? undefined : await ctx.sources.head({ bucket: removed.bucket, key: removed.key });
  const currentEtag = current?.etag?.replace(/"/g, "");
  const doomed = jobs.filter((job) => {
    if (removed.versionId && !removed.deleteMarker) return job.source.versionId === removed.versionId;
    if (!current) return true;
    const sameVersion = current.versionId !== undefined && job.source.versionId === current.versionId;
    const sameBytes = current.versionId === undefined && currentEtag !== undefined && job.source.etag === currentEtag;
    return !(sameVersion || sameBytes);
  });
  const reports: DeleteReport[] = [];
  for (const job of doomed) reports.push(await deleteJob(ctx, job.jobId));
  ctx.log.info("jobs of a deleted source deleted", { jobs: reports.length, kept: jobs.length - reports.length });
  return reports;
}
