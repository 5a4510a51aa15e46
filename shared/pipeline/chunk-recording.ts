import { CutPlanner } from "../domain/cutting/plan-cuts.js";
import { canonicalOptions, parseJobOptions, realtimeSessionOf, type JobOptions } from "../domain/options/options.js";
import { segmentSeconds } from "../domain/cutting/segment-length.js";
import type { CutSegment } from "../domain/types.js";
import { keys } from "../adapters/object-store.js";
import type { SourceObject } from "../adapters/job-store.js";
import { decodeToPcm, EnvelopeMeter, type DecodeHandle, type DecodeOptions } from "../audio/decode-pcm.js";
import { EnvelopeWindow, pcmEnvelope } from "../audio/envelope.js";
import { sharedFlacPool, type FlacEncoderPool } from "../audio/flac-pool.js";
import { PcmWindow } from "../audio/pcm-window.js";
import { probeMedia, type ProbeResult } from "../audio/probe.js";
import { SAMPLE_RATE } from "../audio/ffmpeg.js";
import { PermanentError, isPermanent, reasonOf } from "../errors.js";
import { isTextOnlyModel } from "../provider/models.js";
import { MEDIA_SUFFIXES, wiring } from "../wiring.js";
import type { PipelineContext } from "./context.js";
import { failJob } from "./finish-job.js";
import { makeJobId } from "./job-id.js";
import type { SegmentMessage } from "./messages.js";
import { sendStitch } from "./request-stitch.js";
import { readyToStitch } from "./job-progress.js";

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
  const head = await ctx.sources.head(object);
  if (!head) {
    ctx.log.warn("object is gone before chunking; nothing to do", { bucket: object.bucket });
    return { kind: "gone" };
  }
  const source: SourceObject = {
    bucket: object.bucket,
    key: object.key,
    versionId: object.versionId ?? head.versionId,
    etag: (object.etag ?? head.etag)?.replace(/"/g, ""),
    size: head.size,
  };
  const metadata = head.metadata;
  const { chunkSeconds, overlapSeconds, segmentCap } = ctx.config.defaults;
  // With a cap configured, a job that does not set chunk-seconds gets "auto": a length from its duration.
  const defaults = { overlapSeconds, chunkSeconds: segmentCap === undefined ? chunkSeconds : ("auto" as const) };
  const parsed = parseJobOptions(metadata, defaults, ctx.config.provider.model);
  const canonical = parsed.ok ? canonicalOptions(parsed.options) : JSON.stringify(Object.entries(metadata).sort());
  const jobId = makeJobId(source, canonical);
  // A recording the realtime gateway made names its session: the job reports its cost there when it completes.
  const session = realtimeSessionOf(metadata);
  if ("invalid" in session) {
    ctx.log.warn("realtime-session metadata is not a session id; no session will be linked", { jobId, value: session.invalid });
  }

  const { created, job } = await ctx.jobs.create(
    {
      jobId,
      source,
      options: parsed.ok ? { ...parsed.options } : { metadata },
      realtimeSessionId: "sessionId" in session ? session.sessionId : undefined,
    },
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
    if (marked && readyToStitch(marked)) {
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

/**
 * Segments being stored while decoding goes on. An upload takes longer than
 * decoding the audio it holds, so done in line it would stall the decoder
 * once per segment; a few in flight keep it busy, and the bound keeps memory
 * at a few segments whatever the recording's length.
 */
const SEGMENTS_IN_FLIGHT = 4;

async function cutAndQueue(
  ctx: PipelineContext,
  jobId: string,
  source: SourceObject,
  options: JobOptions,
): Promise<{ segments: number; duration: number }> {
  const url = await ctx.sources.readUrl(source);
  // Encoder workers start while the source is opened (a warm container has them already).
  const pool = sharedFlacPool();
  void pool.warm();
  // The decoder starts once ffprobe is done: started together, a short file's decode came back empty now and
  // then on the local stack (two reads of one object at once), and the probe takes tens of milliseconds.
  let decoder: DecodeHandle | undefined;
  const meter = new EnvelopeMeter();
  const window = new PcmWindow();
  // The frames measured for planning are also each segment's stored envelope: cut, not measured again.
  const envelopes = new EnvelopeWindow();
  const sender = new SegmentSender(ctx, jobId, SEGMENTS_IN_FLIGHT, pool);
  const overlapSeconds = isTextOnlyModel(options.model) ? 0 : options.overlapSeconds;

  const emit = async (ready: CutSegment[]) => {
    for (const segment of ready) {
      const from = Math.round(segment.start * SAMPLE_RATE);
      const to = Math.min(Math.round(segment.end * SAMPLE_RATE), window.endSample);
      const pcm = window.slice(from, to, (bytes) => pool.pcmBuffer(bytes));
      await sender.add(segment, pcm, envelopes.slice(from, to) ?? pcmEnvelope(pcm));
    }
    const last = ready[ready.length - 1];
    if (last) {
      // Audio before the next segment's start is never needed again (the slices above are copies).
      const keep = Math.floor(Math.max(0, last.end - overlapSeconds - 1) * SAMPLE_RATE);
      window.dropBefore(keep);
      envelopes.dropBefore(keep);
    }
  };

  try {
    // What the file holds decides before any audio does: a probe failure is the clearer reason.
    const probe = await probeMedia(ctx.ffmpeg.ffprobe, url);
    decoder = decodeToPcm(ctx.ffmpeg.ffmpeg, url, decodeBudget(probe));
    const chunkSeconds = segmentSeconds(options.chunkSeconds, {
      durationSeconds: probe.duration,
      cap: ctx.config.defaults.segmentCap ?? wiring.functions.transcriber.trigger.maxConcurrency,
      fallbackSeconds: ctx.config.defaults.chunkSeconds,
    });
    if (overlapSeconds >= chunkSeconds) {
      throw new PermanentError(
        "invalid_options",
        `overlap-seconds (${overlapSeconds}) must be less than the segment length (${chunkSeconds} s)`,
      );
    }
    ctx.log.info("segment length", { jobId, chunkSeconds, auto: options.chunkSeconds === "auto", duration: probe.duration });
    const planner = new CutPlanner({ frameSeconds: EnvelopeMeter.FRAME_SECONDS, chunkSeconds, overlapSeconds });

    for await (const bytes of decoder.pcm) {
      const frames = meter.push(window.append(bytes as Buffer));
      envelopes.append(frames);
      const ready = planner.push(frames);
      if (ready.length) await emit(ready);
    }
    await decoder.done;
    const totalSamples = window.endSample;
    if (totalSamples === 0) throw new PermanentError("no_audio", "the audio stream holds no samples (empty or truncated file)");
    // The last partial frame may itself decide a segment: emit what push returns, then the rest.
    const lastFrame = meter.flush();
    envelopes.append(lastFrame);
    envelopes.end(totalSamples);
    await emit([...planner.push(lastFrame), ...planner.finish()]);
    const segments = await sender.finish();
    return { segments, duration: totalSamples / SAMPLE_RATE };
  } catch (error) {
    decoder?.kill();
    sender.abandon();
    throw error;
  }
}

/**
 * The longest recording a job may be: what one chunker run decodes, encodes and stores well inside its
 * timeout. A longer one fails at the probe when its header says so, or when decoding passes this.
 */
export const MAX_RECORDING_SECONDS = 8 * 3600;
/** Leaves the chunker time to record a FAILED job when the decoder is stopped for taking too long. */
const DECODE_MARGIN_SECONDS = 60;

/**
 * How long and how much the decoder may run for this input. A header may lie about the length (a
 * decompression bomb, a 10-hour file in 1 MB): the audio may run to twice what the probe said plus ten
 * minutes (estimates of VBR files without an index are rough), never past MAX_RECORDING_SECONDS.
 */
export function decodeBudget(probe: Pick<ProbeResult, "demuxer" | "duration">): DecodeOptions {
  if (probe.duration !== undefined && probe.duration > MAX_RECORDING_SECONDS) {
    throw new PermanentError(
      "too_long",
      `the recording is ${(probe.duration / 3600).toFixed(1)} h long; the limit is ${MAX_RECORDING_SECONDS / 3600} h`,
    );
  }
  const fromHeader = probe.duration === undefined ? Infinity : probe.duration * 2 + 600;
  const maxSeconds = Math.min(MAX_RECORDING_SECONDS, fromHeader);
  return {
    demuxer: probe.demuxer,
    timeoutMs: (wiring.functions.chunker.timeoutSeconds - DECODE_MARGIN_SECONDS) * 1000,
    maxSeconds,
    maxSecondsReason:
      maxSeconds === MAX_RECORDING_SECONDS
        ? `the limit is ${MAX_RECORDING_SECONDS / 3600} h`
        : `its header says ${Math.round(probe.duration!)} s; the file is damaged or disguised`,
  };
}

interface PendingSegment {
  message: SegmentMessage;
  stored: boolean;
}

/**
 * Encodes segments (on worker threads: see flac-pool.ts) and stores them, at most
 * `limit` at a time, and queues their messages in index order, in batches, as
 * soon as every earlier segment is stored: the first segment reaches the queue
 * while later ones are still being cut. The first failure stops it and is
 * thrown to the caller.
 */
class SegmentSender {
  /** Not yet queued, in index order. */
  private readonly pending: PendingSegment[] = [];
  private sending = false;
  private failure: { error: unknown } | null = null;
  private abandoned = false;
  private waiters: Array<() => void> = [];
  private queued = 0;

  constructor(
    private readonly ctx: PipelineContext,
    private readonly jobId: string,
    private readonly limit: number,
    private readonly pool: FlacEncoderPool,
  ) {}

  /**
   * Starts encoding and storing one segment; waits only while `limit` segments are already in flight.
   * The PCM goes to an encoder worker: the caller must not touch it afterwards.
   */
  async add(segment: CutSegment, pcm: Buffer, envelope: Uint8Array): Promise<void> {
    while (this.pending.length >= this.limit && !this.failure) await this.change();
    this.throwIfFailed();
    const audioKey = keys.segmentAudio(this.jobId, segment.index);
    const entry: PendingSegment = {
      message: { kind: "segment", jobId: this.jobId, audioKey, segment },
      stored: false,
    };
    this.pending.push(entry);
    this.store(segment.index, audioKey, pcm, envelope).then(
      () => {
        entry.stored = true;
        this.pump();
      },
      (error: unknown) => this.fail(error),
    );
  }

  /** Waits until every segment is stored and queued; returns how many were queued. */
  async finish(): Promise<number> {
    while ((this.pending.length > 0 || this.sending) && !this.failure) await this.change();
    this.throwIfFailed();
    return this.queued;
  }

  /** After a failure elsewhere: queue nothing more (segments already being stored finish on their own). */
  abandon(): void {
    this.abandoned = true;
    this.pending.length = 0;
  }

  private async store(index: number, audioKey: string, pcm: Buffer, envelope: Uint8Array): Promise<void> {
    const flac = await this.pool.encode(pcm);
    await Promise.all([
      this.ctx.work.putBytes(audioKey, flac, "audio/flac"),
      // The transcriber snaps provider word starts to this envelope's onsets (refine-starts.ts).
      this.ctx.work.putBytes(keys.segmentEnvelope(this.jobId, index), envelope),
    ]);
  }

  /** Sends every stored segment at the head of the line; one loop at a time, so messages go out in index order. */
  private pump(): void {
    if (this.sending || this.abandoned || this.failure) return;
    this.sending = true;
    void (async () => {
      try {
        while (this.pending[0]?.stored && !this.abandoned) {
          const batch: SegmentMessage[] = [];
          while (batch.length < SEND_BATCH && this.pending[0]?.stored) batch.push(this.pending.shift()!.message);
          await this.ctx.queues.sendSegments(batch);
          this.queued += batch.length;
          this.notify();
        }
      } catch (error) {
        this.fail(error);
      } finally {
        this.sending = false;
        this.notify();
      }
    })();
  }

  private fail(error: unknown): void {
    this.failure ??= { error };
    this.notify();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  private change(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  private notify(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const wake of waiters) wake();
  }
}

/** Messages queued per send: what one SQS SendMessageBatch takes. */
const SEND_BATCH = 10;
