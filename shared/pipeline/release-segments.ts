import type { JobRecord } from "../adapters/job-store.js";
import { keys } from "../adapters/object-store.js";
import { RetryableError } from "../errors.js";
import { fairShares, releaseTarget, type TranscribingJob } from "../domain/jobs/fair-share.js";
import type { PipelineContext } from "./context.js";
import { segmentMessageSchema, type SegmentMessage } from "./messages.js";

/**
 * Fair share of the provider cap (issue 18): a job's segments reach the segments queue only as its share lets
 * them (domain/jobs/fair-share.ts), never all at once, so one long recording cannot fill the queue in front of
 * everyone else. The chunker stores every segment's message beside its audio; the job keeps `share` segments
 * queued or in flight, and every event that may change that tops it up:
 *
 * - the chunker, after storing more segments (`cut-<n>`);
 * - a transcriber, after its segment is counted done (`done-<index>`);
 * - the scheduler, when a queued job starts (`start`, schedule-jobs.ts);
 * - a job that stops taking a share (its segments all done, or it ended): the jobs whose share that makes
 *   larger release up to it at once (`share-of-<jobId>`, releaseGrownShares), rather than at their own next
 *   finished segment, so the cap it held is not left idle while they wait.
 *
 * A release is a claim first, then the send: the claim moves the job's `releasedSegments` from what the
 * releaser read to its target in one conditional update, so two releasers never send the same segments, and
 * it records the range under the releaser's name. The releaser's own message (the S3 event, the SQS message)
 * is consumed only after the send, so a crash between claim and send brings it back, and its repeat finds
 * its claim and sends that range again (a duplicate the transcriber absorbs: results are stored under fixed
 * keys). Nothing released is lost, and every job on the schedule keeps at least one segment moving.
 */
export async function releaseSegments(ctx: PipelineContext, jobId: string, claimant: string, read?: JobRecord): Promise<number> {
  let job = read ?? (await ctx.jobs.get(jobId));
  for (let attempt = 0; attempt < MAX_CLAIM_ATTEMPTS; attempt++) {
    if (!job || (job.status !== "CHUNKING" && job.status !== "RUNNING")) return 0;
    const claimed = job.releaseClaims?.[claimant];
    // A repeat of this releaser: it claimed before and may have crashed before sending.
    if (claimed) return send(ctx, jobId, claimed);
    const released = job.releasedSegments ?? 0;
    // Every segment cut is out already (the usual case once a job is cut): no share to read.
    if ((job.cutSegments ?? 0) <= released) return 0;
    const share = await shareOf(ctx, jobId);
    const target = releaseTarget({ cut: job.cutSegments ?? 0, released, done: job.doneSegments?.size ?? 0 }, share);
    if (target <= released) return 0;
    const after = await ctx.jobs.claimRelease(jobId, claimant, [released, target]);
    if (after) return send(ctx, jobId, [released, target]);
    // Another releaser moved first: read again and work out what is left.
    job = await ctx.jobs.get(jobId);
  }
  throw new RetryableError("release_contended", `could not release segments of job ${jobId} after ${MAX_CLAIM_ATTEMPTS} tries`);
}

/** Releasers of one job race only as often as its segments finish together: a few rounds settle it. */
const MAX_CLAIM_ATTEMPTS = 20;

/** The job's share of the cap now: none when it is not on the schedule (queued, or its segments all done). */
async function shareOf(ctx: PipelineContext, jobId: string): Promise<number> {
  const { transcribing } = await ctx.schedule.snapshot();
  return fairShares(ctx.config.providerMaxInFlight, transcribing).get(jobId) ?? 0;
}

/**
 * The jobs whose share grows when `leaving` stops taking one (`before`: the jobs transcribing while it still
 * did) release up to their new share now. Called once `leaving` is off the schedule; a repeat of the step
 * (its claims are named after `leaving`) sends the same ranges again. Returns how many segments went out.
 */
export async function releaseGrownShares(ctx: PipelineContext, leaving: string, before: readonly TranscribingJob[]): Promise<number> {
  if (!before.some((job) => job.jobId === leaving)) return 0;
  const cap = ctx.config.providerMaxInFlight;
  const was = fairShares(cap, before);
  const now = fairShares(cap, before.filter((job) => job.jobId !== leaving));
  const grown = [...now].filter(([jobId, share]) => share > (was.get(jobId) ?? 0)).map(([jobId]) => jobId);
  const released = await Promise.all(grown.map((jobId) => releaseSegments(ctx, jobId, `share-of-${leaving}`)));
  return released.reduce((a, b) => a + b, 0);
}

/** Sends the stored messages of segments [from, to), in batches. */
async function send(ctx: PipelineContext, jobId: string, [from, to]: [number, number]): Promise<number> {
  const indexes = Array.from({ length: to - from }, (_, i) => from + i);
  const messages = await Promise.all(
    indexes.map(async (index): Promise<SegmentMessage> => segmentMessageSchema.parse(await ctx.work.getJson(keys.segmentMessage(jobId, index)))),
  );
  await ctx.queues.sendSegments(messages);
  ctx.log.debug("segments released", { jobId, from, to });
  return to - from;
}
