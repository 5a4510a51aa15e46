import type { SQSBatchResponse, SQSEvent, SQSRecord, Context, S3Event } from "aws-lambda";
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { isPermanent, reasonOf, PipelineError } from "../errors.js";
import type { PipelineContext } from "./context.js";
import { chunkRecording } from "./chunk-recording.js";
import { transcribeSegment } from "./transcribe-segment.js";
import { stitchJob } from "./stitch-job.js";
import { failJob } from "./finish-job.js";
import { jobIdOf, parseMessage, segmentMessageSchema, stitchMessageSchema } from "./messages.js";

export type SqsHandler = (event: SQSEvent, context?: Context) => Promise<SQSBatchResponse>;
export type S3Handler = (event: S3Event, context?: Context) => Promise<void>;

/**
 * Where errors are acted on, once for every queue consumer: a permanent
 * error fails its job (recorded, notified) and the message is consumed; any
 * other error is noted on the job and reported as a batch item failure, so
 * SQS redelivers it, and after maxReceiveCount moves it to the DLQ, whose
 * handler fails the job. Nothing is swallowed silently, nothing loops forever.
 */
function sqsHandler(ctx: PipelineContext, handleRecord: (record: SQSRecord) => Promise<unknown>): SqsHandler {
  return async (event, context) => {
    // One processor per invocation: the local runner invokes concurrently.
    const processor = new BatchProcessor(EventType.SQS);
    return processPartialResponse(
      event,
      async (record: SQSRecord) => {
        try {
          return await handleRecord(record);
        } catch (error) {
          const jobId = jobIdOf(record.body);
          if (isPermanent(error)) {
            if (jobId) await failJob(ctx, jobId, reasonOf(error), error.code);
            else ctx.log.error("dropping a message that names no job", { messageId: record.messageId, reason: reasonOf(error) });
            return "failed-permanently";
          }
          ctx.log.warn("record will be retried", {
            jobId,
            messageId: record.messageId,
            receiveCount: record.attributes?.ApproximateReceiveCount,
            code: error instanceof PipelineError ? error.code : "unexpected",
            reason: reasonOf(error),
          });
          if (jobId) await ctx.jobs.noteError(jobId, reasonOf(error)).catch(() => undefined);
          throw error;
        }
      },
      processor,
      { context: context as Context, throwOnFullBatchFailure: false },
    );
  };
}

export function transcriberHandler(ctx: PipelineContext): SqsHandler {
  return sqsHandler(ctx, (record) => transcribeSegment(ctx, parseMessage(segmentMessageSchema, record.body)));
}

export function stitcherHandler(ctx: PipelineContext): SqsHandler {
  return sqsHandler(ctx, (record) => stitchJob(ctx, parseMessage(stitchMessageSchema, record.body).jobId));
}

/** Messages that exhausted their receives: their job can no longer finish, so it fails with the last error seen. */
export function deadLetterHandler(ctx: PipelineContext): SqsHandler {
  return sqsHandler(ctx, async (record) => {
    const jobId = jobIdOf(record.body);
    if (!jobId) {
      ctx.log.error("dead-lettered message names no job", { messageId: record.messageId });
      return "unattributable";
    }
    const job = await ctx.jobs.get(jobId);
    const what = record.body.includes('"segment"') ? `segment ${String((JSON.parse(record.body) as { index?: number }).index)}` : "the stitch";
    const last = job?.lastError ? `: ${job.lastError}` : "";
    await failJob(ctx, jobId, `gave up on ${what} after repeated failures${last}`, "dead_lettered");
    return "failed";
  });
}

/** S3 ObjectCreated -> one chunking run per record. Keys arrive URL-encoded with '+' for spaces, as S3 sends them. */
export function chunkerHandler(ctx: PipelineContext): S3Handler {
  return async (event) => {
    for (const record of event.Records) {
      const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, " "));
      const outcome = await chunkRecording(ctx, {
        bucket: record.s3.bucket.name,
        key,
        versionId: record.s3.object.versionId || undefined,
        etag: record.s3.object.eTag || undefined,
        size: record.s3.object.size,
      });
      ctx.log.info("chunker outcome", { kind: outcome.kind, jobId: "jobId" in outcome ? outcome.jobId : undefined });
    }
  };
}
