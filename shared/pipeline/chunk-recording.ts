import { CutPlanner } from "../domain/cutting/plan-cuts.js";
import { canonicalOptions, realtimeSessionOf, type JobOptions } from "../domain/options/options.js";
import { segmentSeconds } from "../domain/cutting/segment-length.js";
import type { CutSegment } from "../domain/types.js";
import { channelCountProblem } from "../domain/channels/channel-names.js";
import { inLane } from "../domain/channels/lane-plan.js";
import { keys } from "../adapters/object-store.js";
import type { JobRecord, SourceObject } from "../adapters/job-store.js";
import { admitByCost } from "./cost-cap.js";
import { currentMeter } from "./invocation-meter.js";
import { decodeToPcm, EnvelopeMeter, type DecodeHandle, type DecodeOptions } from "../audio/decode-pcm.js";
import { EnvelopeWindow, pcmEnvelope } from "../audio/envelope.js";
import { sharedFlacPool, type FlacEncoderPool } from "../audio/flac-pool.js";
import { PcmWindow } from "../audio/pcm-window.js";
import { probeMedia, type ProbeResult } from "../audio/probe.js";
import { SAMPLE_RATE } from "../audio/ffmpeg.js";
import { PermanentError, isPermanent, reasonOf } from "../errors.js";
import { isTextOnlyModel } from "../provider/models.js";
import { CHUNKER_SUFFIXES, DEFAULTS, MEDIA_SUFFIXES, wiring } from "../wiring.js";
import type { PipelineContext } from "./context.js";
import { failJob } from "./finish-job.js";
import { makeJobId } from "./job-id.js";
import type { SegmentMessage } from "./messages.js";
import { sendStitch } from "./request-stitch.js";
import { readyToStitch } from "./job-progress.js";
import { releaseSegments } from "./release-segments.js";
import { admitOrQueue } from "./schedule-jobs.js";
import { expectedSegments } from "../domain/jobs/fair-share.js";
import { isRerunKey, jobOptionsOf, readRerunRequest, type RerunRequestRead } from "./rerun-job.js";
import { isJobEnded, stopIfEnded } from "./cancel-job.js";

/** The job this run starts again, and the metadata its options come from (rerun-job.ts). */
interface RerunOf {
  rerunOf: string;
  metadata: Record<string, string>;
}
import { enrollVoice, type EnrollOutcome } from "./enroll-voice.js";
import { snapshotEnrolledVoices } from "./enrolled-snapshot.js";
import { isVoiceKey } from "../domain/speakers/enrolled-voices.js";
import { listKindOfKey } from "../domain/vocabulary/term-list.js";
import { registerList, snapshotJobLists, type RegisterListOutcome } from "./register-list.js";
import { isUrlPointerKey, redactUrl } from "../sources/url-pointer.js";
import { copyUrlRecording, readUrlPointer, urlSourceDeps } from "../sources/url-source.js";

export type ChunkOutcome =
  | { kind: "started"; jobId: string; segments: number; duration: number }
  | { kind: "duplicate"; jobId: string }
  | { kind: "failed"; jobId: string; reason: string }
  | { kind: "gone" }
  /** A job's segments stopped being cut: it was cancelled (or deleted) meanwhile (cancel-job.ts). */
  | { kind: "ended"; jobId: string }
  | Extract<RerunRequestRead, { kind: "rerun-ignored" }>
  | EnrollOutcome
  | RegisterListOutcome;

/**
 * The first step of a job: from a new object in the input bucket to one
 * queued message per segment. The audio is decoded once, in one streaming
 * pass: cut points are planned as the envelope arrives, and each segment is
 * encoded, stored and queued as soon as its end is decided, so the first
 * segment reaches the provider long before a long recording is fully read.
 */
export async function chunkRecording(ctx: PipelineContext, object: SourceObject, rerun?: RerunOf): Promise<ChunkOutcome> {
  // A clip under voices/ registers a voice (enroll-voice.ts): it is not a recording to transcribe.
  if (isVoiceKey(object.key)) return enrollVoice(ctx, object);
  // A file under vocabularies/ or vocabulary-filters/ registers a word list (register-list.ts).
  if (listKindOfKey(object.key)) return registerList(ctx, object);
  // A request under reruns/ starts a job again from its source, with other options (rerun-job.ts).
  if (!rerun && isRerunKey(object.key)) {
    const request = await readRerunRequest(ctx, object);
    if (request.kind !== "rerun") {
      ctx.log.warn("rerun request ignored", { why: request.why });
      return request;
    }
    return chunkRecording(ctx, request.source, { rerunOf: request.rerunOf, metadata: request.metadata });
  }
  const head = await ctx.sources.head(object);
  if (!head) {
    ctx.log.warn("object is gone before chunking; nothing to do", { bucket: object.bucket });
    return { kind: "gone" };
  }
  // A rerun is pinned to the version its job was made from: without versioning, to the bytes its ETag names.
  if (rerun && !object.versionId && object.etag && head.etag?.replace(/"/g, "") !== object.etag.replace(/"/g, "")) {
    ctx.log.warn("rerun ignored: the source was replaced since its job", { rerunOf: rerun.rerunOf });
    return { kind: "rerun-ignored", why: "the source object was replaced since the job it reruns" };
  }
  const source: SourceObject = {
    bucket: object.bucket,
    key: object.key,
    versionId: object.versionId ?? head.versionId,
    etag: (object.etag ?? head.etag)?.replace(/"/g, ""),
    size: head.size,
  };
  // A recording by URL (sources/url-source.ts): its options are in the pointer's JSON (over any metadata).
  const pointer = isUrlPointerKey(object.key) && source.size ? await readUrlPointer(source, urlSourceDeps(ctx)) : undefined;
  // A rerun's options are its old job's with the request's laid over them (rerun-job.ts), whatever the object says.
  const metadata = rerun ? rerun.metadata : pointer?.ok ? { ...head.metadata, ...pointer.pointer.options } : head.metadata;
  // The job's source names the pointer object and the URL it points at, without the URL's query string.
  const jobSource: SourceObject & { url?: string } = pointer?.ok ? { ...source, url: redactUrl(pointer.pointer.url) } : source;
  const parsed = jobOptionsOf(ctx, metadata);
  const canonical = parsed.ok ? canonicalOptions(parsed.options) : JSON.stringify(Object.entries(metadata).sort());
  const jobId = makeJobId(source, canonical);
  // This run's GB-seconds count for this job (invocation-meter.ts).
  currentMeter()?.forJob(jobId);
  // A recording the realtime gateway made names its session: the job reports its cost there when it completes.
  const session = realtimeSessionOf(metadata);
  if ("invalid" in session) {
    ctx.log.warn("realtime-session metadata is not a session id; no session will be linked", { jobId, value: session.invalid });
  }

  const { created, job } = await ctx.jobs.create(
    {
      jobId,
      source: jobSource,
      options: parsed.ok ? { ...parsed.options } : { metadata },
      realtimeSessionId: "sessionId" in session ? session.sessionId : undefined,
    },
    ctx.now(),
  );
  // Past CHUNKING (or QUEUED while still being cut), this event is a repeat: the job already has its segments.
  if (!created && job.status !== "CHUNKING" && !(job.status === "QUEUED" && job.segmentCount === undefined)) {
    return { kind: "duplicate", jobId };
  }
  await ctx.checkpoint("chunker:after-create");

  try {
    if (pointer && !pointer.ok) throw new PermanentError("bad_url_pointer", pointer.reason);
    if (!parsed.ok) throw new PermanentError("invalid_options", parsed.reason);
    checkExtension(object.key);
    if (!source.size) throw new PermanentError("empty_file", "the file is empty (0 bytes)");
    if (parsed.options.speakers) {
      const enrolled = await snapshotEnrolledVoices(ctx, jobId, parsed.options.speakers);
      ctx.log.info("enrolled voices to name", { jobId, voices: enrolled.voices.length });
    }
    // The word lists the job names, as registered now: every later step reads this copy (register-list.ts).
    await snapshotJobLists(ctx, jobId, parsed.options);
    // A URL's bytes are copied into the work bucket once, then chunked like an upload.
    const recording = pointer?.ok ? await copyUrlRecording(ctx, jobId, pointer.pointer.url) : source;
    const { segments, duration } = await cutAndQueue(ctx, jobId, recording, parsed.options, job);
    await ctx.checkpoint("chunker:before-mark-chunked");
    // The chunker's use so far is on the record before the job can complete (a short job's segments may be done already).
    await currentMeter()?.flush();
    const marked = await ctx.jobs.markChunked(jobId, { segmentCount: segments, duration }, ctx.now());
    // Segments may all have finished while we were still cutting: then nobody else will ask for the stitch.
    if (marked && readyToStitch(marked)) {
      await sendStitch(ctx, jobId);
    }
    ctx.log.info("job chunked", { jobId, segments, duration });
    return { kind: "started", jobId, segments, duration };
  } catch (error) {
    if (isJobEnded(error)) {
      ctx.log.info("job ended while it was cut; cutting stopped", { jobId });
      return { kind: "ended", jobId };
    }
    if (!isPermanent(error)) throw error;
    await failJob(ctx, jobId, reasonOf(error), error.code);
    return { kind: "failed", jobId, reason: reasonOf(error) };
  }
}

function checkExtension(key: string): void {
  const dot = key.lastIndexOf(".");
  const ext = dot > key.lastIndexOf("/") ? key.slice(dot).toLowerCase() : "";
  if (!(MEDIA_SUFFIXES as readonly string[]).includes(ext) && !isUrlPointerKey(key)) {
    throw new PermanentError(
      "unsupported_type",
      `unsupported file type '${ext || "(no extension)"}'; supported: ${CHUNKER_SUFFIXES.join(" ")}`,
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
  job: Pick<JobRecord, "costEstimate">,
): Promise<{ segments: number; duration: number }> {
  const url = await ctx.sources.readUrl(source);
  // Encoder workers start while the source is opened (a warm container has them already).
  const pool = sharedFlacPool();
  void pool.warm();
  // The decoder starts once ffprobe is done: started together, a short file's decode came back empty now and
  // then on the local stack (two reads of one object at once), and the probe takes tens of milliseconds.
  let decoder: DecodeHandle | undefined;
  const sender = new SegmentSender(ctx, jobId, SEGMENTS_IN_FLIGHT, pool);
  const overlapSeconds = isTextOnlyModel(options.model) ? 0 : options.overlapSeconds;

  try {
    // What the file holds decides before any audio does: a probe failure is the clearer reason.
    const probe = await probeMedia(ctx.ffmpeg.ffprobe, url);
    // A channel job (channels=) cuts each channel as a lane of its own, one after the other (domain/channels/).
    const lanes = options.channels ? channelLanes(options.channels, probe.audio.channels) : [undefined];
    const budget = decodeBudget(probe, ctx.config.maxRecordingSeconds);
    const chunkSeconds = segmentSeconds(options.chunkSeconds, {
      durationSeconds: probe.duration,
      cap: ctx.config.defaults.segmentCap ?? wiring.functions.transcriber.trigger.maxConcurrency,
      fallbackSeconds: ctx.config.defaults.chunkSeconds,
    });
    // Over a cost limit, the job stops here: before any audio is decoded, let alone sent (cost-cap.ts).
    // Every lane is sent: a channel job costs its duration once per channel.
    const sentSeconds = probe.duration === undefined ? undefined : probe.duration * lanes.length;
    await admitByCost(ctx, { jobId, costEstimate: job.costEstimate }, options, { durationSeconds: sentSeconds, chunkSeconds, overlapSeconds });
    if (overlapSeconds >= chunkSeconds) {
      throw new PermanentError(
        "invalid_options",
        `overlap-seconds (${overlapSeconds}) must be less than the segment length (${chunkSeconds} s)`,
      );
    }
    ctx.log.info("segment length", { jobId, chunkSeconds, auto: options.chunkSeconds === "auto", duration: probe.duration });
    // Runs now, or waits as QUEUED while it is cut (schedule-jobs.ts); either way its segments go to the queue
    // only as its share of the provider cap lets them (release-segments.ts).
    const expected = expectedSegments(probe.duration, chunkSeconds, lanes.length, ctx.config.providerMaxInFlight);
    await admitOrQueue(ctx, jobId, expected);

    /** Decodes one lane (the mono mixdown, or one channel), cuts it and hands its segments to the sender. */
    const cutLane = async (channel: number | undefined, firstIndex: number): Promise<{ samples: number; segments: number }> => {
      const meter = new EnvelopeMeter();
      const window = new PcmWindow();
      // The frames measured for planning are also each segment's stored envelope: cut, not measured again.
      const envelopes = new EnvelopeWindow();
      let segments = 0;
      const emit = async (ready: CutSegment[]) => {
        for (const planned of ready) {
          // A lane's segments are numbered after the lanes before it (lane-plan.ts); a mono job's as planned.
          const segment = inLane(planned, channel, firstIndex);
          const from = Math.round(segment.start * SAMPLE_RATE);
          const to = Math.min(Math.round(segment.end * SAMPLE_RATE), window.endSample);
          // A cancelled job stops being cut: no more segments stored and queued for it (cancel-job.ts).
          await stopIfEnded(ctx, jobId);
          const pcm = window.slice(from, to, (bytes) => pool.pcmBuffer(bytes));
          await sender.add(segment, pcm, envelopes.slice(from, to) ?? pcmEnvelope(pcm));
          segments++;
        }
        const last = ready[ready.length - 1];
        if (last) {
          // Audio before the next segment's start is never needed again (the slices above are copies).
          const keep = Math.floor(Math.max(0, last.end - overlapSeconds - 1) * SAMPLE_RATE);
          window.dropBefore(keep);
          envelopes.dropBefore(keep);
        }
      };
      decoder = decodeToPcm(ctx.ffmpeg.ffmpeg, url, channel === undefined ? budget : { ...budget, channel });
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
      return { samples: totalSamples, segments };
    };

    let totalSamples = 0;
    let cut = 0;
    for (const channel of lanes) {
      const lane = await cutLane(channel, cut);
      cut += lane.segments;
      totalSamples = Math.max(totalSamples, lane.samples);
    }
    const segments = await sender.finish();
    return { segments, duration: totalSamples / SAMPLE_RATE };
  } catch (error) {
    decoder?.kill();
    sender.abandon();
    throw error;
  }
}

/** The lanes of a channel job: one per named channel, when the recording has exactly that many. */
function channelLanes(names: readonly string[], fileChannels: number): number[] {
  const problem = channelCountProblem(names, fileChannels);
  if (problem) throw new PermanentError("invalid_options", problem);
  return names.map((_, channel) => channel);
}

/**
 * The longest recording a job may be by default (the deployment's maxRecordingHours sets its own): what one
 * chunker run decodes, encodes and stores well inside its timeout. A longer one fails at the probe when its
 * header says so, before any segment is sent, or when decoding passes this.
 */
export const MAX_RECORDING_SECONDS = DEFAULTS.maxRecordingHours * 3600;
/** Leaves the chunker time to record a FAILED job when the decoder is stopped for taking too long. */
const DECODE_MARGIN_SECONDS = 60;

/**
 * How long and how much the decoder may run for this input. A header may lie about the length (a
 * decompression bomb, a 10-hour file in 1 MB): the audio may run to twice what the probe said plus ten
 * minutes (estimates of VBR files without an index are rough), never past `limitSeconds`.
 */
export function decodeBudget(
  probe: Pick<ProbeResult, "demuxer" | "duration">,
  limitSeconds: number = MAX_RECORDING_SECONDS,
): DecodeOptions {
  const limit = `the limit is ${hours(limitSeconds)} h`;
  if (probe.duration !== undefined && probe.duration > limitSeconds) {
    throw new PermanentError("too_long", `the recording is ${(probe.duration / 3600).toFixed(1)} h long; ${limit}`);
  }
  const fromHeader = probe.duration === undefined ? Infinity : probe.duration * 2 + 600;
  const maxSeconds = Math.min(limitSeconds, fromHeader);
  return {
    demuxer: probe.demuxer,
    timeoutMs: (wiring.functions.chunker.timeoutSeconds - DECODE_MARGIN_SECONDS) * 1000,
    maxSeconds,
    maxSecondsReason:
      maxSeconds === limitSeconds
        ? limit
        : `its header says ${Math.round(probe.duration!)} s; the file is damaged or disguised`,
  };
}

/** Hours as a limit reads: 24, 1.5, 0.25. */
function hours(seconds: number): string {
  return String(Math.round((seconds / 3600) * 100) / 100);
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
          await this.release(batch);
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

  /**
   * Stores the batch's messages, counts them cut on the job record, and queues what the job's share lets go
   * now (release-segments.ts); the rest is released as earlier segments finish.
   */
  private async release(batch: SegmentMessage[]): Promise<void> {
    await Promise.all(batch.map((m) => this.ctx.work.putJson(keys.segmentMessage(this.jobId, m.segment.index), m)));
    const cut = batch[batch.length - 1].segment.index + 1;
    const job = await this.ctx.jobs.markCut(this.jobId, cut, this.ctx.now());
    await releaseSegments(this.ctx, this.jobId, `cut-${cut}`, job);
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
