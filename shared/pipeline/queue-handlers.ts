import type { SQSBatchResponse, SQSEvent, SQSRecord, Context, S3Event } from "aws-lambda";
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { isPermanent, reasonOf, PipelineError, RetryableError } from "../errors.js";
import { withLogKeys, type PipelineContext } from "./context.js";
import { chunkRecording } from "./chunk-recording.js";
import { transcribeSegment } from "./transcribe-segment.js";
import { stitchJob } from "./stitch-job.js";
import { failJob, redactSignedUrls } from "./finish-job.js";
import { deleteJobsOfSource, type SourceRemoved } from "./delete-job.js";
import { isRerunKey, RERUN_PREFIX } from "./rerun-job.js";
import { isVoiceKey } from "../domain/speakers/enrolled-voices.js";
import { removeVoiceOfClip } from "./enroll-voice.js";
import { ChangeMessageVisibilityCommand } from "@aws-sdk/client-sqs";
import { wiring, type QueueSpec } from "../wiring.js";
import { retryDelaySeconds } from "../domain/jobs/retry-backoff.js";
import type { CostStage } from "../domain/jobs/cost-estimate.js";
import { InvocationMeter, withMeter } from "./invocation-meter.js";
import {
  failedUploadOf,
  jobIdOf,
  parseMessage,
  s3ObjectKey,
  segmentIndexOf,
  segmentMessageSchema,
  stitchMessageSchema,
  type FailedUpload,
} from "./messages.js";

export type SqsHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;
export type S3Handler = (event: S3Event, context?: Context) => Promise<void>;

/**
 * Where errors are acted on, once for every queue consumer: a permanent
 * error fails its job (recorded, notified) and the message is consumed; any
 * other error is noted on the job and reported as a batch item failure, so
 * SQS redelivers it, and after maxReceiveCount moves it to the DLQ, whose
 * handler fails the job. Nothing is swallowed silently, nothing loops forever.
 */
function sqsHandler(
  ctx: PipelineContext,
  handleRecord: (ctx: PipelineContext, record: SQSRecord) => Promise<unknown>,
  stage?: CostStage,
): SqsHandler {
  return async (event, context) => {
    // One processor per invocation: the local runner invokes concurrently.
    const processor = new BatchProcessor(EventType.SQS);
    return processPartialResponse(
      event,
      async (record: SQSRecord) => {
        const jobId = jobIdOf(record.body);
        // Every line logged for this record names its job and segment, without each step passing them.
        const recordCtx = withLogKeys(ctx, { jobId, segment: segmentIndexOf(record.body) });
        // What this record's work costs its job (GB-seconds, provider audio): added once it is done, whatever the outcome.
        const meter = stage && jobId ? new InvocationMeter(ctx.jobs, stage).forJob(jobId) : undefined;
        try {
          return await (meter ? withMeter(meter, () => handleRecord(recordCtx, record)) : handleRecord(recordCtx, record));
        } catch (error) {
          if (isPermanent(error)) {
            if (jobId) await failJob(recordCtx, jobId, reasonOf(error), error.code).catch(consumeIfPermanent(recordCtx, record, jobId));
            else recordCtx.log.error("dropping a message that names no job", { messageId: record.messageId, reason: reasonOf(error) });
            return "failed-permanently";
          }
          recordCtx.log.warn("record will be retried", {
            messageId: record.messageId,
            receiveCount: record.attributes?.ApproximateReceiveCount,
            code: error instanceof PipelineError ? error.code : "unexpected",
            reason: reasonOf(error),
          });
          if (jobId) await recordCtx.jobs.noteError(jobId, redactSignedUrls(reasonOf(error))).catch(() => undefined);
          await delayRetry(recordCtx, record, error instanceof RetryableError ? error.retryAfterSeconds : undefined);
          throw error;
        } finally {
          await flushMeter(recordCtx, meter);
        }
      },
      processor,
      { context: context as Context, throwOnFullBatchFailure: false },
    );
  };
}

/** A meter's last flush: a usage figure that cannot be written is logged, never a reason to redo the work. */
async function flushMeter(ctx: PipelineContext, meter: InvocationMeter | undefined): Promise<void> {
  await meter?.flush().catch((error: unknown) => ctx.log.warn("invocation usage not recorded", { stage: meter.stage, reason: reasonOf(error) }));
}

/**
 * Failing a job can itself fail for good: its record does not parse when read back (job-store.ts
 * jobRecordOf), so no notification can be built from it. Retrying cannot change that, and the message would
 * go round its queue and the dead-letter queue for ever: it is consumed, with an error in the log. Any other
 * failure is thrown, so the message comes back.
 */
function consumeIfPermanent(ctx: PipelineContext, record: SQSRecord, jobId: string): (failure: unknown) => void {
  return (failure) => {
    if (!isPermanent(failure)) throw failure;
    ctx.log.error("the job could not be failed; dropping the message", { jobId, messageId: record.messageId, reason: reasonOf(failure) });
  };
}

/**
 * Sets when a message that failed for a retryable reason comes back (the queue's retryBackoff in the
 * wiring), instead of leaving it to the visibility timeout, which is sized for a handler still running
 * (30 minutes). If the change fails, the visibility timeout applies: slower, never lost.
 */
async function delayRetry(ctx: PipelineContext, record: SQSRecord, retryAfterSeconds: number | undefined): Promise<void> {
  const queue = queueOf(ctx, record.eventSourceARN);
  if (!queue || !record.receiptHandle) return;
  const receives = Number(record.attributes?.ApproximateReceiveCount ?? "1");
  // A step that knows when a retry can succeed (a lease's end) says so; the backoff is the least wait.
  const delay = Math.max(retryDelaySeconds(receives, queue.spec.retryBackoff, Math.random()), Math.ceil(retryAfterSeconds ?? 0));
  const seconds = Math.min(delay, ctx.config.retryDelayCapSeconds ?? delay);
  await ctx.clients.sqs
    .send(new ChangeMessageVisibilityCommand({ QueueUrl: queue.url, ReceiptHandle: record.receiptHandle, VisibilityTimeout: seconds }))
    .then(
      () => ctx.log.info("retry scheduled", { inSeconds: seconds, receives }),
      (error: unknown) => ctx.log.warn("retry backoff not set; the visibility timeout applies", { reason: reasonOf(error) }),
    );
}

/** The work queue a record came from, with its URL: the queue name ends both its ARN and its URL. */
function queueOf(ctx: PipelineContext, arn: string | undefined): { spec: QueueSpec; url: string } | undefined {
  const name = arn?.split(":").pop();
  if (!name) return undefined;
  const queues = [
    { spec: wiring.queues.segments, url: ctx.config.segmentsQueueUrl },
    { spec: wiring.queues.stitch, url: ctx.config.stitchQueueUrl },
  ];
  return queues.find((queue) => queue.url.endsWith(`/${name}`));
}

export function transcriberHandler(ctx: PipelineContext): SqsHandler {
  return sqsHandler(ctx, (recordCtx, record) => transcribeSegment(recordCtx, parseMessage(segmentMessageSchema, record.body), record.messageId), "transcriber");
}

export function stitcherHandler(ctx: PipelineContext): SqsHandler {
  return sqsHandler(ctx, (recordCtx, record) => stitchJob(recordCtx, parseMessage(stitchMessageSchema, record.body).jobId), "stitcher");
}

/**
 * Messages that exhausted their receives, and S3 events the chunker gave up
 * on (Lambda's on-failure records): their job can no longer finish, so it
 * fails with the last error seen.
 */
export function deadLetterHandler(ctx: PipelineContext): SqsHandler {
  return sqsHandler(ctx, async (recordCtx, record) => {
    const upload = failedUploadOf(record.body);
    if (upload) return failUpload(recordCtx, upload);
    const jobId = jobIdOf(record.body);
    if (!jobId) {
      recordCtx.log.error("dead-lettered message names no job", { messageId: record.messageId });
      return "unattributable";
    }
    const job = await recordCtx.jobs.get(jobId);
    const segment = segmentIndexOf(record.body);
    const what = segment !== undefined ? `segment ${segment}` : "the stitch";
    const last = job?.lastError ? ` (last error: ${job.lastError})` : "";
    await failJob(recordCtx, jobId, `gave up on ${what} after repeated failures${last}`, "dead_lettered");
    return "failed";
  });
}

/**
 * A deleted input object: its jobs are deleted (delete-job.ts); a deleted voice clip unregisters its voice
 * (enroll-voice.ts), so no later job names a voice whose audio is gone. Rerun requests (reruns/, rerun-job.ts)
 * made no job of their own.
 */
async function sourceRemoved(ctx: PipelineContext, removed: SourceRemoved): Promise<number> {
  if (isVoiceKey(removed.key)) {
    await removeVoiceOfClip(ctx, removed);
    return 0;
  }
  if (isRerunKey(removed.key)) return 0;
  return (await deleteJobsOfSource(ctx, removed, wiring.table.sourceIndex.name)).length;
}

/** The chunker records a job before its failure-prone work, so the job is found through the source index. */
async function failUpload(ctx: PipelineContext, upload: FailedUpload): Promise<string> {
  // A rerun request's job has the old job's source: the CLI names the request after the job it starts.
  const rerun = isRerunKey(upload.key) ? upload.key.slice(RERUN_PREFIX.length) : undefined;
  if (rerun) {
    const job = await ctx.jobs.get(rerun);
    if (job?.status === "CHUNKING") {
      await failJob(ctx, job.jobId, `could not split the recording: ${upload.error}`, "chunker_failed");
      return "failed";
    }
  }
  const jobs = await ctx.jobs.jobsForSource(upload.bucket, upload.key, wiring.table.sourceIndex.name);
  const open = jobs.filter((j) => j.status === "CHUNKING" && (!upload.etag || j.source.etag === upload.etag.replace(/"/g, "")));
  if (open.length === 0) {
    ctx.log.error("a failed upload has no open job to fail", { bucket: upload.bucket });
    return "no-job";
  }
  for (const job of open) await failJob(ctx, job.jobId, `could not split the recording: ${upload.error}`, "chunker_failed");
  return "failed";
}

/**
 * S3 ObjectCreated -> one chunking run per record; ObjectRemoved (deployments that delete jobs with their
 * source, the wiring's `removals`) -> the removed recording's jobs deleted. Keys arrive URL-encoded with '+'
 * for spaces, as S3 sends them.
 */
export function chunkerHandler(ctx: PipelineContext): S3Handler {
  return async (event) => {
    for (const record of event.Records) {
      const key = s3ObjectKey(record.s3.object.key);
      if (record.eventName?.startsWith("ObjectRemoved:")) {
        const removed = await sourceRemoved(ctx, {
          bucket: record.s3.bucket.name,
          key,
          versionId: record.s3.object.versionId || undefined,
          deleteMarker: record.eventName === "ObjectRemoved:DeleteMarkerCreated",
        });
        ctx.log.info("chunker outcome", { kind: "removed", jobsDeleted: removed });
        continue;
      }
      // The job is known once the chunker has named it (chunk-recording.ts tells the meter): its record gets the usage.
      const meter = new InvocationMeter(ctx.jobs, "chunker");
      try {
        const outcome = await withMeter(meter, () =>
          chunkRecording(ctx, {
            bucket: record.s3.bucket.name,
            key,
            versionId: record.s3.object.versionId || undefined,
            etag: record.s3.object.eTag || undefined,
            size: record.s3.object.size,
          }),
        );
        ctx.log.info("chunker outcome", { kind: outcome.kind, jobId: "jobId" in outcome ? outcome.jobId : undefined });
      } finally {
        await flushMeter(ctx, meter);
      }
    }
  };
}
