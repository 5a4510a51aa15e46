/**
 * End to end: a generated conversation uploaded to the local stack, through
 * chunker, transcribers (the ground-truth provider with a fixed latency model,
 * in its own process) and stitcher, until the completion notification; then
 * the same file as one whole-file request under the same latency model.
 *
 * Stage times come from the pipeline's own seams, not from timers inside it:
 * SDK middleware on the stack's S3 and SQS clients (uploads, segment and
 * result objects, queue sends), the provider client's calls, and the
 * checkpoint hook the local stack passes to every step.
 */
import { createReadStream, readFileSync } from "node:fs";
import { cpus } from "node:os";
import { Upload } from "@aws-sdk/lib-storage";
import type { ConversationSpec } from "../test/audio/conversation.js";
import { startLocalStack, type LocalStack } from "../local/stack.js";
import { sessionOn } from "../cli/stack-session.js";
import { subscribeToJobEvents, uploadRecording, waitForJob } from "../cli/submit.js";
import { presignGet } from "../shared/adapters/object-store.js";
import { ProviderClient } from "../shared/provider/client.js";
import { DEFAULTS } from "../shared/wiring.js";
import type { ProviderStats } from "../test/provider/provider-stats.js";
import { startChild, type Child } from "./lib/child.js";
import { conversationMp3, plainDecodeSeconds, type InputFile } from "./lib/inputs.js";
import { max, median } from "./lib/stats.js";
import { cpuSeconds } from "./lib/proc.js";
import type { ProviderChildArgs, ProviderChildReady } from "./provider-child.js";

export interface Latency {
  baseSeconds: number;
  perAudioSecond: number;
}

export interface EndToEndOptions {
  conversation: ConversationSpec;
  /** One measured job per value, in this order, on one stack; "auto" leaves the length to the chunker. */
  chunkSeconds: ChunkSetting[];
  overlapSeconds: number;
  /** The provider cap (segments and probes together), and the transcriber's concurrency, as in the wiring. */
  concurrency: number;
  latency: Latency;
  /** Also time one whole-file request (takes as long as the latency model says: minutes for an hour). */
  wholeFile: boolean;
  /** A short job first, unmeasured, so the measured ones do not pay for JIT and connection set-up. */
  warmUp?: ConversationSpec;
}

/** Consecutive intervals of the critical path; they add up to the wall time. */
export interface StageBreakdown {
  upload: number;
  /** Object stored -> chunker running with its job record (the runner's S3 poll, HEAD, record). */
  pickup: number;
  /** Job record -> last segment queued (probe, decode, cut, encode, store, queue). */
  chunking: number;
  /** Last segment queued -> last segment result counted. */
  transcriptionTail: number;
  /** Last result counted -> speakers of the last segment settled (probes after the last result). */
  speakersTail: number;
  /** Speakers settled -> stitcher holds the job (stitch message delivery). */
  fanIn: number;
  /** Stitcher claim -> outputs written. */
  stitch: number;
  /** Outputs -> utterance items written to DynamoDB. */
  utterances: number;
  /** Utterances -> job COMPLETED and notification sent. */
  complete: number;
  /** Notification sent -> received by the subscriber. */
  notify: number;
}

export type ChunkSetting = number | "auto";

export interface EndToEndRun {
  chunkSeconds: ChunkSetting;
  status: string;
  segments: number;
  wordCount: number;
  expectedWords: number;
  /** Upload start -> completion notification received. */
  wallSeconds: number;
  /** Upload finished -> notification: what the pipeline itself took. */
  pipelineSeconds: number;
  speedFactor: number;
  stages: StageBreakdown;
  /** Upload finished -> first request reaches the provider. */
  firstRequestSeconds: number;
  /** Upload finished -> first segment message queued. */
  firstSegmentQueuedSeconds: number;
  requests: { count: number; maxInFlight: number; medianSeconds: number; maxSeconds: number };
  /**
   * CPU seconds used during the job, against what the machine had (cores x wall): the pipeline's
   * process (handlers, emulators, runner) and its ffmpeg children, the provider's process and its ffmpeg.
   */
  cpu: { pipeline: number; pipelineFfmpeg: number; provider: number; providerFfmpeg: number; available: number };
  /**
   * Speaker probes (sent by transcribers while segments are transcribed): requests, their audio, and how
   * many of them, and how long, were still under way after the last segment result was stored.
   */
  probes: { count: number; audioSeconds: number; afterLastResult: number; tailSeconds: number };
  longestSegmentSeconds: number;
  /** The latency model's time for the longest segment. */
  slowestSegmentModelSeconds: number;
  /** Plain decode + the slowest segment's modelled latency: no fan-out can beat it. */
  limitSeconds: number;
  /** wall / limit. */
  vsLimit: number;
  /** Whole-file request time / wall (measured and modelled whole-file time). */
  speedupMeasured: number | null;
  speedupModel: number;
}

export interface EndToEndResult {
  input: InputFile;
  latency: Latency;
  concurrency: number;
  /** Plain ffmpeg decode of the same object by presigned URL from the same emulator. */
  decodeSeconds: number;
  wholeFile: { measuredSeconds: number | null; modelSeconds: number };
  runs: EndToEndRun[];
}

interface Mark {
  at: number;
  what: string;
  detail?: string;
  value?: number;
}

export async function runEndToEnd(options: EndToEndOptions): Promise<EndToEndResult> {
  const input = await conversationMp3(options.conversation);
  const warmUpInput = options.warmUp ? await conversationMp3(options.warmUp) : null;
  const recordings = [options.conversation, ...(options.warmUp ? [options.warmUp] : [])];
  const provider = await startChild<ProviderChildReady>(new URL("./provider-child.ts", import.meta.url), {
    recordings,
    options: { latency: { baseSeconds: 0, perAudioSecond: 0 }, maxUploadBytes: 2 ** 31 - 1 },
  } satisfies ProviderChildArgs);
  const marks: Mark[] = [];
  const mark = (what: string, detail?: string, value?: number) => marks.push({ at: performance.now(), what, detail, value });
  let stack: LocalStack | undefined;
  try {
    stack = await startLocalStack({
      provider: { baseUrl: provider.ready.url, apiKey: provider.ready.apiKey, model: DEFAULTS.model },
      overlapSeconds: options.overlapSeconds,
      transcriberConcurrency: options.concurrency,
      providerMaxInFlight: options.concurrency,
      visibilityTimeoutSeconds: 120,
      checkpoint: (step) => void mark(step),
    });
    instrument(stack, mark);
    const expectedWords = provider.ready.words[0] ?? 0;

    if (warmUpInput && options.warmUp) {
      await runJob(stack, warmUpInput, options.chunkSeconds[0], mark);
    }

    // The decode time the limit is made of: the same object, read the same way the chunker reads it.
    const probeKey = "bench/decode-probe.mp3";
    // Multipart: fauxqs, like S3, refuses large single PUTs. The work bucket, so that no job starts.
    await new Upload({
      client: stack.clients.s3,
      params: { Bucket: stack.resources.buckets.work, Key: probeKey, Body: createReadStream(input.path) },
      partSize: 8 * 1024 * 1024,
    }).done();
    const decodeSeconds = median([
      await plainDecodeSeconds(await presignGet(stack.clients.s3, stack.resources.buckets.work, probeKey)),
      await plainDecodeSeconds(await presignGet(stack.clients.s3, stack.resources.buckets.work, probeKey)),
    ]);

    await provider.call("configure", { latency: options.latency });
    const modelWhole = options.latency.baseSeconds + options.latency.perAudioSecond * input.seconds;
    const runs: EndToEndRun[] = [];
    for (const chunkSeconds of options.chunkSeconds) {
      marks.length = 0;
      await provider.call("resetStats");
      const cpuBefore = { pipeline: cpuSeconds(), provider: cpuSeconds(provider.pid) };
      const job = await runJob(stack, input, chunkSeconds, mark);
      const cpuAfter = { pipeline: cpuSeconds(), provider: cpuSeconds(provider.pid) };
      const stats = await provider.call<ProviderStats>("stats");
      const run = summarise(job, marks, stats, { chunkSeconds, decodeSeconds, latency: options.latency, modelWhole, expectedWords, input });
      run.cpu = {
        pipeline: cpuAfter.pipeline.own - cpuBefore.pipeline.own,
        pipelineFfmpeg: cpuAfter.pipeline.children - cpuBefore.pipeline.children,
        provider: cpuAfter.provider.own - cpuBefore.provider.own,
        providerFfmpeg: cpuAfter.provider.children - cpuBefore.provider.children,
        available: cpus().length * run.wallSeconds,
      };
      runs.push(run);
    }

    let measuredWhole: number | null = null;
    if (options.wholeFile) {
      const client = new ProviderClient({
        baseUrl: provider.ready.url,
        apiKey: async () => provider.ready.apiKey,
        timeoutMs: 3_600_000,
        maxAttempts: 1,
      });
      const audio = readFileSync(input.path);
      const started = performance.now();
      const answer = await client.transcribe({
        audio,
        filename: "whole.mp3",
        audioSeconds: input.seconds,
        model: DEFAULTS.model,
        task: "transcribe",
        diarize: true,
      });
      measuredWhole = (performance.now() - started) / 1000;
      if ((answer.words?.length ?? 0) === 0) throw new Error("the whole-file request came back without words");
    }
    for (const run of runs) run.speedupMeasured = measuredWhole === null ? null : measuredWhole / run.wallSeconds;
    return {
      input,
      latency: options.latency,
      concurrency: options.concurrency,
      decodeSeconds,
      wholeFile: { measuredSeconds: measuredWhole, modelSeconds: modelWhole },
      runs,
    };
  } finally {
    await stack?.stop();
    await provider.stop();
  }
}

interface JobRun {
  started: number;
  notified: number;
  status: string;
  segments: number;
  wordCount: number;
}

async function runJob(stack: LocalStack, input: InputFile, chunkSeconds: ChunkSetting, mark: (what: string) => void): Promise<JobRun> {
  const session = sessionOn(stack);
  const events = await subscribeToJobEvents(session);
  try {
    const started = performance.now();
    mark("upload-start");
    const flags: Record<string, string> = chunkSeconds === "auto" ? {} : { "chunk-seconds": String(chunkSeconds) };
    const { jobId } = await uploadRecording(session, input.path, flags);
    const { event, job } = await waitForJob(session, events, jobId, { timeoutMs: 1_800_000 });
    const notified = performance.now();
    mark("notified");
    return { started, notified, status: event.status, segments: job.segmentCount ?? 0, wordCount: job.wordCount ?? 0 };
  } finally {
    await events.close();
  }
}

/** Records what the pipeline does through its clients' middleware and its provider client. */
function instrument(stack: LocalStack, mark: (what: string, detail?: string, value?: number) => void): void {
  const { buckets, queues } = stack.resources;
  stack.clients.s3.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      const input = args.input as { Bucket?: string; Key?: string };
      if (context.commandName === "CompleteMultipartUploadCommand" && input.Bucket === buckets.input) mark("uploaded");
      if (context.commandName === "PutObjectCommand") {
        if (input.Bucket === buckets.input) mark("uploaded");
        else if (input.Key?.includes("/segments/")) mark("segment-stored");
        else if (input.Key?.includes("/results/")) mark("result-stored");
      }
      return out;
    },
    { step: "initialize", name: "benchS3Marks" },
  );
  stack.clients.sqs.middlewareStack.add(
    (next, context) => async (args) => {
      const out = await next(args);
      const input = args.input as { QueueUrl?: string; Entries?: Array<{ MessageBody?: string }> };
      if (context.commandName === "SendMessageBatchCommand" && input.QueueUrl === queues.segments.url) {
        for (const entry of input.Entries ?? []) {
          const { segment } = JSON.parse(entry.MessageBody ?? "{}") as { segment: { start: number; end: number } };
          mark("segment-queued", undefined, segment.end - segment.start);
        }
      }
      return out;
    },
    { step: "initialize", name: "benchSqsMarks" },
  );
  const provider = stack.ctx.provider;
  const transcribe = provider.transcribe.bind(provider);
  provider.transcribe = async (request, budget) => {
    const kind = request.filename === "probe.flac" ? "probe" : "segment";
    mark("request-start", kind, request.audioSeconds);
    try {
      return await transcribe(request, budget);
    } finally {
      mark("request-end", kind, request.audioSeconds);
    }
  };
}

function summarise(
  job: JobRun,
  marks: Mark[],
  stats: ProviderStats,
  context: { chunkSeconds: ChunkSetting; decodeSeconds: number; latency: Latency; modelWhole: number; expectedWords: number; input: InputFile },
): EndToEndRun {
  const at = (what: string, which: "first" | "last" = "first"): number => {
    const found = marks.filter((m) => m.what === what);
    const hit = which === "first" ? found[0] : found[found.length - 1];
    if (!hit) throw new Error(`no '${what}' mark in this run`);
    return hit.at;
  };
  const s = (ms: number) => ms / 1000;
  const uploaded = at("uploaded", "last");
  const created = at("chunker:after-create");
  const lastQueued = at("chunker:before-mark-chunked");
  const lastCounted = at("transcriber:after-count", "last");
  const lastResult = at("result-stored", "last");
  const settled = Math.max(lastCounted, ...marks.filter((m) => m.what === "settler:after-book").map((m) => m.at));
  const claimed = at("stitcher:after-claim", "last");
  const outputs = at("stitcher:after-outputs", "last");
  const utterances = at("stitcher:after-utterances", "last");
  const completed = at("stitcher:after-complete", "last");

  // Pair each call's start with its end, in order: per-call durations (a slot's wait included).
  const durations: number[] = [];
  const open: number[] = [];
  for (const m of marks) {
    if (m.what === "request-start") {
      open.push(m.at);
    } else if (m.what === "request-end") {
      const start = open.shift();
      if (start !== undefined) durations.push(s(m.at - start));
    }
  }
  const probeStarts = marks.filter((m) => m.what === "request-start" && m.detail === "probe");
  const probeEnds = marks.filter((m) => m.what === "request-end" && m.detail === "probe");
  const lastProbeEnd = probeEnds.length ? probeEnds[probeEnds.length - 1].at : lastResult;
  const probes = {
    count: probeStarts.length,
    audioSeconds: probeStarts.reduce((sum, m) => sum + (m.value ?? 0), 0),
    afterLastResult: probeEnds.filter((m) => m.at > lastResult).length,
    tailSeconds: s(Math.max(0, lastProbeEnd - lastResult)),
  };
  const lengths = marks.filter((m) => m.what === "segment-queued").map((m) => m.value ?? 0);
  const longest = max(lengths);
  const slowestModel = context.latency.baseSeconds + context.latency.perAudioSecond * longest;
  const wall = s(job.notified - job.started);
  const limit = context.decodeSeconds + slowestModel;
  return {
    chunkSeconds: context.chunkSeconds,
    status: job.status,
    segments: job.segments,
    wordCount: job.wordCount,
    expectedWords: context.expectedWords,
    wallSeconds: wall,
    pipelineSeconds: s(job.notified - uploaded),
    speedFactor: context.input.seconds / wall,
    stages: {
      upload: s(uploaded - job.started),
      pickup: s(created - uploaded),
      chunking: s(lastQueued - created),
      transcriptionTail: s(lastCounted - lastQueued),
      speakersTail: s(settled - lastCounted),
      fanIn: s(claimed - settled),
      stitch: s(outputs - claimed),
      utterances: s(utterances - outputs),
      complete: s(completed - utterances),
      notify: s(job.notified - completed),
    },
    firstRequestSeconds: s(at("request-start") - uploaded),
    firstSegmentQueuedSeconds: s(at("segment-queued") - uploaded),
    requests: {
      count: durations.length,
      // The provider's own count: calls counted here include the wait for a provider slot.
      maxInFlight: stats.maxInFlight,
      medianSeconds: median(durations),
      maxSeconds: max(durations),
    },
    cpu: { pipeline: 0, pipelineFfmpeg: 0, provider: 0, providerFfmpeg: 0, available: 0 },
    probes,
    longestSegmentSeconds: longest,
    slowestSegmentModelSeconds: slowestModel,
    limitSeconds: limit,
    vsLimit: wall / limit,
    speedupMeasured: null,
    speedupModel: context.modelWhole / wall,
  };
}
