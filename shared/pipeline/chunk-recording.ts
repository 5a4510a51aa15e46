import { HeadObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { SendMessageBatchCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { CutPlanner } from "../domain/plan-cuts.js";
import { canonicalOptions, parseJobOptions, type JobOptions } from "../domain/options.js";
import type { CutSegment } from "../domain/types.js";
import { keys, presignGet } from "../adapters/object-store.js";
import type { SourceObject } from "../adapters/job-store.js";
import { decodeToPcm, EnvelopeMeter } from "../audio/decode-pcm.js";
import { encodeFlac } from "../audio/encode-flac.js";
import { PcmWindow } from "../audio/pcm-window.js";
import { probeMedia } from "../audio/probe.js";
import { SAMPLE_RATE } from "../audio/ffmpeg.js";
import { PermanentError, isPermanent, reasonOf } from "../errors.js";
import { isTextOnlyModel } from "../provider/models.js";
import { MEDIA_SUFFIXES } from "../wiring.js";
import type { PipelineContext } from "./context.js";
import { failJob } from "./finish-job.js";
import { makeJobId } from "./job-id.js";
import type { SegmentMessage, StitchMessage } from "./messages.js";

export type ChunkOutcome =
  | { kind: "started"; jobId: string; segments: number; duration: number }
  | { kind: "duplicate"; jobId: string }
  | { kind: "failed"; jobId: string; reason: string }
  | { kind: "gone" };

/**
 * The first step of a job: from a new object in the input bucket to one
 * queued message per segment. The audio is decoded once, in one streaming
 * pass: cut points are planned as the envelope arrives, and each segment is
 * encoded, stored and queued as soon as its end is decided, so the first
 * segment reaches the provider long before a long recording is fully read.
 */
export async function chunkRecording(ctx: PipelineContext, object: SourceObject): Promise<ChunkOutcome> {
  const { s3 } = ctx.clients;
  let head;
  try {
    head = await s3.send(new HeadObjectCommand({ Bucket: object.bucket, Key: object.key, VersionId: object.versionId }));
  } catch (error) {
    if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
      ctx.log.warn("object is gone before chunking; nothing to do", { bucket: object.bucket });
      return { kind: "gone" };
    }
    throw error;
  }
  const source: SourceObject = {
    bucket: object.bucket,
    key: object.key,
    versionId: object.versionId ?? head.VersionId,
    etag: (object.etag ?? head.ETag)?.replace(/"/g, ""),
    size: head.ContentLength,
  };
  const metadata = head.Metadata ?? {};
  const parsed = parseJobOptions(metadata, ctx.config.defaults, ctx.config.provider.model);
  const canonical = parsed.ok ? canonicalOptions(parsed.options) : JSON.stringify(Object.entries(metadata).sort());
  const jobId = makeJobId(source, canonical);

  const { created, job } = await ctx.jobs.create(
    { jobId, source, options: parsed.ok ? { ...parsed.options } : { metadata } },
    ctx.now(),
  );
  // Past CHUNKING, this event is a repeat: the job already has its segments.
  if (!created && job.status !== "CHUNKING") return { kind: "duplicate", jobId };
  await ctx.checkpoint("chunker:after-create");

  try {
    if (!parsed.ok) throw new PermanentError("invalid_options", parsed.reason);
    checkExtension(object.key);
    if (!source.size) throw new PermanentError("empty_file", "the file is empty (0 bytes)");
    const { segments, duration } = await cutAndQueue(ctx, jobId, source, parsed.options);
    await ctx.checkpoint("chunker:before-mark-chunked");
    const marked = await ctx.jobs.markChunked(jobId, { segmentCount: segments, duration }, ctx.now());
    // Segments may all have finished while we were still cutting: then nobody else will ask for the stitch.
    if (marked && marked.status === "RUNNING" && (marked.doneSegments?.size ?? 0) >= segments) {
      await sendStitch(ctx, jobId);
    }
    ctx.log.info("job chunked", { jobId, segments, duration });
    return { kind: "started", jobId, segments, duration };
  } catch (error) {
    if (!isPermanent(error)) throw error;
    await failJob(ctx, jobId, reasonOf(error), error.code);
    return { kind: "failed", jobId, reason: reasonOf(error) };
  }
}

function checkExtension(key: string): void {
  const dot = key.lastIndexOf(".");
  const ext = dot > key.lastIndexOf("/") ? key.slice(dot).toLowerCase() : "";
  if (!(MEDIA_SUFFIXES as readonly string[]).includes(ext)) {
    throw new PermanentError(
      "unsupported_type",
      `unsupported file type '${ext || "(no extension)"}'; supported: ${MEDIA_SUFFIXES.join(" ")}`,
    );
  }
}

async function cutAndQueue(
  ctx: PipelineContext,
  jobId: string,
  source: SourceObject,
  options: JobOptions,
): Promise<{ segments: number; duration: number }> {
  const url = await presignGet(ctx.clients.s3, source.bucket, source.key);
  await probeMedia(ctx.ffmpeg.ffprobe, url);

  const overlapSeconds = isTextOnlyModel(options.model) ? 0 : options.overlapSeconds;
  const planner = new CutPlanner({
    frameSeconds: EnvelopeMeter.FRAME_SECONDS,
    chunkSeconds: options.chunkSeconds,
    overlapSeconds,
  });
  const meter = new EnvelopeMeter();
  const window = new PcmWindow();
  const decoder = decodeToPcm(ctx.ffmpeg.ffmpeg, url);
  let queued = 0;

  const emit = async (ready: CutSegment[]) => {
    const messages: SegmentMessage[] = [];
    for (const segment of ready) {
      const pcm = window.slice(Math.round(segment.start * SAMPLE_RATE), Math.round(segment.end * SAMPLE_RATE));
      const flac = await encodeFlac(ctx.ffmpeg.ffmpeg, pcm);
      const audioKey = keys.segmentAudio(jobId, segment.index);
      await ctx.clients.s3.send(
        new PutObjectCommand({ Bucket: ctx.config.workBucket, Key: audioKey, Body: flac, ContentType: "audio/flac" }),
      );
      messages.push({ kind: "segment", jobId, index: segment.index, audioKey, segment });
    }
    await sendSegments(ctx, messages);
    queued += messages.length;
    const last = ready[ready.length - 1];
    // Audio before the next segment's start is never needed again.
    if (last) window.dropBefore(Math.floor(Math.max(0, last.end - overlapSeconds - 1) * SAMPLE_RATE));
  };

  try {
    for await (const bytes of decoder.pcm) {
      const samples = window.append(bytes as Buffer);
      const ready = planner.push(meter.push(samples));
      if (ready.length) await emit(ready);
    }
    await decoder.done;
  } catch (error) {
    decoder.kill();
    throw error;
  }
  const totalSamples = window.endSample;
  if (totalSamples === 0) throw new PermanentError("no_audio", "the audio stream holds no samples (empty or truncated file)");
  // The last partial frame may itself decide a segment: emit what push returns, then the rest.
  await emit([...planner.push(meter.flush()), ...planner.finish()]);
  return { segments: queued, duration: totalSamples / SAMPLE_RATE };
}

async function sendSegments(ctx: PipelineContext, messages: SegmentMessage[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    const batch = messages.slice(i, i + 10);
    const out = await ctx.clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: ctx.config.segmentsQueueUrl,
        Entries: batch.map((m) => ({ Id: String(m.index), MessageBody: JSON.stringify(m) })),
      }),
    );
    if (out.Failed?.length) throw new Error(`could not queue ${out.Failed.length} segment message(s): ${out.Failed[0]?.Message}`);
  }
}

export async function sendStitch(ctx: PipelineContext, jobId: string): Promise<void> {
  const message: StitchMessage = { kind: "stitch", jobId };
  await ctx.clients.sqs.send(new SendMessageCommand({ QueueUrl: ctx.config.stitchQueueUrl, MessageBody: JSON.stringify(message) }));
}
