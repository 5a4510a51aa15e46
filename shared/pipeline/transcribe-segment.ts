import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { JobOptions } from "../domain/options.js";
import type { SegmentResult } from "../domain/types.js";
import { exists, getBytes, getBytesIfExists, keys } from "../adapters/object-store.js";
import { refineWordStarts } from "../domain/refine-starts.js";
import type { Word } from "../domain/types.js";
import type { PipelineContext } from "./context.js";
import { ensureNotified } from "./finish-job.js";
import { sendStitch } from "./request-stitch.js";
import type { SegmentMessage } from "./messages.js";

/** The chunker's envelope frame (10 ms). */
const ENVELOPE_FRAME_SECONDS = 0.01;

export type TranscribeOutcome = "transcribed" | "already-done" | "job-ended";

/**
 * One segment through the provider. Each step is safe to repeat, so a
 * redelivered message (or one whose handler died half-way) converges:
 * the result is stored under a fixed key, a stored result is not paid for
 * twice, and the done-set ADD counts the segment once.
 */
export async function transcribeSegment(ctx: PipelineContext, message: SegmentMessage): Promise<TranscribeOutcome> {
  const job = await ctx.jobs.get(message.jobId);
  if (!job) throw new Error(`job ${message.jobId} has no record yet`);
  if (job.status === "COMPLETED" || job.status === "FAILED") {
    await ensureNotified(ctx, job);
    return "job-ended";
  }
  const resultKey = keys.segmentResult(message.jobId, message.index);
  const stored = await exists(ctx.clients.s3, ctx.config.workBucket, resultKey);
  if (!stored) {
    const options = job.options as unknown as JobOptions;
    const audio = await getBytes(ctx.clients.s3, ctx.config.workBucket, message.audioKey);
    const answer = await ctx.provider.transcribe({
      audio,
      filename: `segment-${message.index}.flac`,
      audioSeconds: message.segment.end - message.segment.start,
      model: options.model,
      task: options.task,
      language: options.language,
      prompt: options.prompt,
      temperature: options.temperature,
      diarize: options.diarize,
      minSpeakers: options.minSpeakers,
      maxSpeakers: options.maxSpeakers,
    });
    await ctx.checkpoint("transcriber:after-provider");
    const words = answer.words && (await refineStarts(ctx, message, answer.words));
    const result: SegmentResult = {
      jobId: message.jobId,
      index: message.index,
      segment: message.segment,
      language: answer.language,
      text: answer.text,
      words,
      spans: answer.spans,
      speakers: answer.speakers,
    };
    await ctx.clients.s3.send(
      new PutObjectCommand({
        Bucket: ctx.config.workBucket,
        Key: resultKey,
        Body: JSON.stringify(result),
        ContentType: "application/json",
      }),
    );
    ctx.log.info("segment transcribed", {
      jobId: message.jobId,
      index: message.index,
      words: answer.words?.length ?? null,
      speakers: answer.speakers.length,
    });
  }
  await ctx.checkpoint("transcriber:after-store");
  const updated = await ctx.jobs.addDoneSegment(message.jobId, message.index, ctx.now());
  await ctx.checkpoint("transcriber:after-count");
  // Whoever sees the set complete asks for the stitch; duplicates are absorbed by the stitcher's claim.
  if (
    updated &&
    updated.status === "RUNNING" &&
    updated.segmentCount !== undefined &&
    (updated.doneSegments?.size ?? 0) >= updated.segmentCount
  ) {
    await sendStitch(ctx, message.jobId);
  }
  return stored ? "already-done" : "transcribed";
}

/** Word starts snapped to the audio's onsets, when the chunker left the segment's envelope beside its audio. */
async function refineStarts(ctx: PipelineContext, message: SegmentMessage, words: Word[]): Promise<Word[]> {
  const bytes = await getBytesIfExists(ctx.clients.s3, ctx.config.workBucket, keys.segmentEnvelope(message.jobId, message.index));
  if (!bytes) return words;
  const envelopeDb = new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return refineWordStarts(words, envelopeDb, { frameSeconds: ENVELOPE_FRAME_SECONDS });
}
