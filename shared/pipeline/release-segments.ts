import type { JobRecord } from "../adapters/job-store.js";
import { keys } from "../adapters/object-store.js";
import type { PipelineContext } from "./context.js";
import type { SegmentMessage } from "./messages.js";

/**
 * Fair share of the provider cap between jobs (issue 18): a job's segments are released to the segments queue
 * in a sliding window of W (the provider cap), never all at once, so one long recording cannot fill the queue
 * ahead of everyone else.
 *
 * The rule is one fixed mapping, so it needs no counter to move and nothing to claim:
 *
 * - segments 0..W-1 are sent by the chunker as soon as they are cut;
 * - segment k >= W is sent once it is cut AND segment k-W is done.
 *
 * So a job never has more than W segments released and unfinished, whatever the order they finish in. The
 * two conditions are two single-item updates of the job record (the chunker's `markCut`, the transcriber's
 * `addDoneSegment`), each returning the record after it. DynamoDB applies them one after the other, so the
 * later of the two always sees both facts and sends the segment: it is never lost. A transcriber that sent
 * marks it (`releasedSegments`), so a redelivered message does not send it twice. Whoever sends does it after
 * its own update, and its message (the
 * S3 event of the chunker, the SQS message of the transcriber) is only consumed once the send succeeded: a
 * crash between the update and the send brings the message back, and its repeat sends again (a duplicate
 * is absorbed by the transcriber: the result is stored under a fixed key).
 *
 * With W = cap a long job keeps at most `cap` segments queued or in flight: when one finishes, its next
 * segment goes to the back of the queue, behind any other job's that arrived meanwhile. When no other job
 * waits, the job alone still has `cap` requests in flight: a lone recording runs at full speed.
 */
export function releaseWindow(ctx: PipelineContext): number {
  return Math.max(1, ctx.config.providerMaxInFlight);
}

/** Whether a cut segment goes to the queue now: within the first window, or its predecessor by W is done. */
export function releasedByCut(job: Pick<JobRecord, "doneSegments">, index: number, window: number): boolean {
  if (job.doneSegments?.has(index)) return false;
  return index < window || (job.doneSegments?.has(index - window) ?? false);
}

/**
 * After segment `message.segment.index` is counted done (`updated` is the record after the count): sends the
 * segment it releases, when the chunker has cut it. Returns the index sent, if any.
 */
export async function releaseAfterDone(ctx: PipelineContext, message: SegmentMessage, updated: JobRecord): Promise<number | undefined> {
  const window = message.release;
  if (!window) return undefined;
  const next = message.segment.index + window;
  if ((updated.cutSegments ?? 0) <= next) return undefined;
  // A repeat of this message (redelivered, or run again after a crash past the mark): sent already.
  if (updated.doneSegments?.has(next) || updated.releasedSegments?.has(next)) return undefined;
  const released = await ctx.work.getJson<SegmentMessage>(keys.segmentMessage(message.jobId, next));
  await ctx.queues.sendSegments([released]);
  // Marked after the send: a crash between the two sends it again (a duplicate the transcriber absorbs), never none.
  await ctx.jobs.markReleased(message.jobId, next);
  ctx.log.debug("segment released", { released: next });
  return next;
}
