/**
 * The pipeline's metrics, as CloudWatch extracts them from the embedded metric format lines on stdout: what
 * a provider request and a completed or failed job emit through the context's metrics port.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import type { SQSEvent } from "aws-lambda";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { PipelineClients } from "../../shared/clients.js";
import type { PipelineConfig } from "../../shared/config.js";
import type { JobRecord, JobStore } from "../../shared/adapters/job-store.js";
import type { Notifier } from "../../shared/adapters/notifier.js";
import { keys } from "../../shared/adapters/object-store.js";
import { DEFAULT_JOB_OPTIONS } from "../../shared/domain/options/options.js";
import type { SegmentResult } from "../../shared/domain/types.js";
import { PIPELINE_NAMESPACE, PowertoolsPipelineMetrics } from "../../shared/lambda/pipeline-metrics.js";
import { createContext, type PipelineContext } from "../../shared/pipeline/context.js";
import { failJob } from "../../shared/pipeline/finish-job.js";
import { stitcherHandler } from "../../shared/pipeline/queue-handlers.js";
import { captureStdout, type StdoutLine } from "../support/capture-stdout.js";

type Line = StdoutLine;

const emf = (lines: Line[]) => lines.filter((l) => l._aws);
const withMetric = (lines: Line[], name: string) =>
  emf(lines).filter((l) => l._aws.CloudWatchMetrics[0].Metrics.some((m: { Name: string }) => m.Name === name));

afterEach(() => vi.restoreAllMocks());

const config = (baseUrl = "http://127.0.0.1:9/v1"): PipelineConfig => ({
  inputBucket: "in",
  workBucket: "work",
  outputBucket: "out",
  segmentsQueueUrl: "http://queue/segments",
  stitchQueueUrl: "http://queue/stitch",
  table: "jobs",
  topicArn: "arn:aws:sns:us-east-1:000000000000:jobs",
  provider: { baseUrl, model: "openai/whisper-large-v3", apiKey: async () => "secret-key", timeoutMs: 5000, maxAttempts: 2 },
  defaults: { chunkSeconds: 120, overlapSeconds: 4 },
  providerMaxInFlight: 4,
  maxRunningJobs: 100,
});

/** The objects a step reads and writes, in memory; every DynamoDB call answers as if it succeeded. */
function fakeClients(objects = new Map<string, string>()): PipelineClients {
  const s3 = {
    send: async (command: unknown) => {
      if (command instanceof PutObjectCommand) {
        objects.set(command.input.Key!, String(command.input.Body));
        return {};
      }
      if (command instanceof GetObjectCommand) {
        const body = objects.get(command.input.Key!);
        if (body === undefined) throw Object.assign(new Error("NoSuchKey"), { name: "NoSuchKey" });
        return { Body: { transformToByteArray: async () => new TextEncoder().encode(body) } };
      }
      throw new Error(`unexpected S3 command ${(command as object).constructor.name}`);
    },
  };
  const dynamo = { send: async () => ({}) };
  return { s3, dynamo, sqs: {}, sns: {} } as unknown as PipelineClients;
}

const ffmpeg = { ffmpeg: "ffmpeg", ffprobe: "ffprobe" };
const quiet = new Logger({ serviceName: "stt-test", logLevel: "SILENT" });

describe("provider request metrics", () => {
  it("records every attempt's latency and each retry by its code", async () => {
    // Prepare: a provider that rate-limits the first attempt and answers the second
    const answers = [429, 200];
    const server = createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        const status = answers.shift() ?? 200;
        res.writeHead(status, { "content-type": "application/json" });
        res.end(status === 200 ? JSON.stringify({ text: "hi", language: "en", words: [], segments: [] }) : '{"error":{"message":"slow down"}}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const metrics = new PowertoolsPipelineMetrics("stt-transcriber");
    const ctx = createContext(config(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`), fakeClients(), ffmpeg, quiet, { metrics });
    const out = captureStdout();

    // Act
    try {
      await ctx.provider.transcribe({
        audio: new Uint8Array([1, 2, 3]),
        filename: "segment-0.flac",
        audioSeconds: 10,
        model: "openai/whisper-large-v3",
        task: "transcribe",
        diarize: false,
      });
      metrics.flush();
    } finally {
      out.restore();
      server.close();
    }

    // Assess: one line for the service's metrics, one for the retry's code
    const [latency] = withMetric(out.lines(), "ProviderLatency");
    expect(latency._aws.CloudWatchMetrics[0]).toMatchObject({
      Namespace: PIPELINE_NAMESPACE,
      Dimensions: [["service"]],
      Metrics: [{ Name: "ProviderLatency", Unit: "Milliseconds" }],
    });
    expect(latency.service).toBe("stt-transcriber");
    expect(latency.ProviderLatency).toHaveLength(2);
    for (const ms of latency.ProviderLatency) expect(ms).toBeGreaterThanOrEqual(0);
    const [retry] = withMetric(out.lines(), "ProviderRetries");
    expect(retry._aws.CloudWatchMetrics[0].Dimensions).toEqual([["service", "code"]]);
    expect(retry).toMatchObject({ service: "stt-transcriber", code: "provider_429", ProviderRetries: 1 });
    expect(emf(out.lines())).toHaveLength(2);
  });

  it("writes nothing, and warns of nothing, for an invocation that stored no metrics", () => {
    // Prepare
    const metrics = new PowertoolsPipelineMetrics("stt-dead-letter");
    const out = captureStdout();
    const warn = vi.spyOn(console, "warn");

    // Act
    metrics.flush();
    out.restore();

    // Assess
    expect(out.lines()).toEqual([]);
    expect(warn).not.toHaveBeenCalled();
  });
});

const JOB_ID = "job-metrics";
const CREATED = "2026-01-01T00:00:00.000Z";
const COMPLETED = new Date("2026-01-01T00:03:20.000Z");

function result(index: number, start: number, end: number, words: string[]): SegmentResult {
  return {
    jobId: JOB_ID,
    index,
    segment: { index, start, end, ownStart: index === 0 ? 0 : start + 2, ownEnd: index === 0 ? end - 2 : end },
    language: "en",
    text: words.join(" "),
    words: words.map((word, i) => ({ word, start: 5 + i, end: 5.5 + i })),
    spans: [],
    speakers: [],
    audioSeconds: end - start,
  };
}

/** A job store holding one RUNNING job whose two segments are done, as the stitcher finds it. */
function fakeJobs(job: JobRecord) {
  let record = job;
  const store = {
    get: async () => record,
    claimStitch: async (_id: string, nowMs: number) => nowMs + 1000,
    releaseStitch: async () => true,
    putUtterances: async () => undefined,
    complete: async (_id: string, fields: Partial<JobRecord>, now: Date) => {
      if (record.status === "COMPLETED") return false;
      record = { ...record, ...fields, status: "COMPLETED", completedAt: now.toISOString() };
      return true;
    },
    fail: async () => {
      if (record.status === "FAILED") return false;
      record = { ...record, status: "FAILED" };
      return true;
    },
    markNotified: async (_id: string, now: Date) => {
      record = { ...record, notifiedAt: now.toISOString() };
    },
    noteError: async () => undefined,
    // Each invocation's use (pipeline/invocation-meter.ts).
    addUsage: async () => undefined,
  };
  return store as unknown as JobStore;
}

function jobRecord(overrides: Partial<JobRecord> = {}): JobRecord {
  return {
    jobId: JOB_ID,
    status: "RUNNING",
    source: { bucket: "in", key: "call.mp3" },
    options: { ...DEFAULT_JOB_OPTIONS, diarize: false },
    createdAt: CREATED,
    updatedAt: CREATED,
    duration: 100,
    segmentCount: 2,
    doneSegments: new Set([0, 1]),
    ...overrides,
  };
}

function stitcherContext(metrics: PowertoolsPipelineMetrics, log: Logger, job: JobRecord): PipelineContext {
  const objects = new Map<string, string>();
  objects.set(keys.segmentResult(JOB_ID, 0), JSON.stringify(result(0, 0, 62, ["hello", "there"])));
  objects.set(keys.segmentResult(JOB_ID, 1), JSON.stringify(result(1, 58, 100, ["good", "bye"])));
  const base = createContext(config(), fakeClients(objects), ffmpeg, log, { metrics, now: () => COMPLETED });
  return { ...base, jobs: fakeJobs(job), notifier: { publish: async () => undefined } as unknown as Notifier };
}

const stitchEvent = (messageId: string): SQSEvent => ({
  Records: [
    {
      messageId,
      receiptHandle: "r",
      body: JSON.stringify({ kind: "stitch", jobId: JOB_ID }),
      attributes: { ApproximateReceiveCount: "1", SentTimestamp: "0", SenderId: "s", ApproximateFirstReceiveTimestamp: "0" },
      messageAttributes: {},
      md5OfBody: "",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:stt-stitch",
      awsRegion: "us-east-1",
    },
  ],
});

describe("job metrics", () => {
  it("emits a completed job's segments, duration and provider billing once, and keys the stitcher's log with the job", async () => {
    // Prepare
    const metrics = new PowertoolsPipelineMetrics("stt-stitcher");
    const log = new Logger({ serviceName: "stt-stitcher" });
    const handle = stitcherHandler(stitcherContext(metrics, log, jobRecord()));
    const out = captureStdout();

    // Act: the stitch message twice (at-least-once delivery), each invocation flushed
    try {
      expect(await handle(stitchEvent("m1"))).toEqual({ batchItemFailures: [] });
      metrics.flush();
      expect(await handle(stitchEvent("m2"))).toEqual({ batchItemFailures: [] });
      metrics.flush();
    } finally {
      out.restore();
    }

    // Assess: the figures of the job record, once
    const lines = withMetric(out.lines(), "JobsCompleted");
    expect(lines).toHaveLength(1);
    expect(lines[0]._aws.CloudWatchMetrics[0]).toMatchObject({ Namespace: PIPELINE_NAMESPACE, Dimensions: [["service"]] });
    expect(lines[0]).toMatchObject({
      service: "stt-stitcher",
      JobsCompleted: 1,
      JobDuration: 200,
      Segments: 2,
      RecordingSeconds: 100,
      ProviderAudioSecondsBilled: 104,
      SegmentAudioSecondsBilled: 104,
      ProbeAudioSecondsBilled: 0,
      SegmentRequests: 2,
      ProbeRequests: 0,
    });
    const units = Object.fromEntries(lines[0]._aws.CloudWatchMetrics[0].Metrics.map((m: { Name: string; Unit: string }) => [m.Name, m.Unit]));
    expect(units).toMatchObject({ JobDuration: "Seconds", ProviderAudioSecondsBilled: "Seconds", Segments: "Count" });
    // The step logs no jobId of its own: the record's key puts it on the line.
    const stitched = out.lines().find((l) => l.message === "job stitched");
    expect(stitched).toMatchObject({ jobId: JOB_ID, segments: 2, level: "INFO" });
    expect(JSON.stringify(out.lines())).not.toContain("hello");
  });

  it("counts a job that moves to FAILED once, however often it is failed", async () => {
    // Prepare
    const metrics = new PowertoolsPipelineMetrics("stt-dead-letter");
    const ctx = stitcherContext(metrics, quiet, jobRecord({ notifiedAt: CREATED }));
    const out = captureStdout();

    // Act
    try {
      await failJob(ctx, JOB_ID, "gave up on segment 1 after repeated failures", "dead_lettered");
      await failJob(ctx, JOB_ID, "gave up on segment 1 after repeated failures", "dead_lettered");
      metrics.flush();
    } finally {
      out.restore();
    }

    // Assess
    const [failed] = withMetric(out.lines(), "JobsFailed");
    expect(failed).toMatchObject({ service: "stt-dead-letter", JobsFailed: 1 });
  });
});
