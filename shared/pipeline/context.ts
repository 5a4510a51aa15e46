import type { Logger } from "@aws-lambda-powertools/logger";
import type { LogAttributes } from "@aws-lambda-powertools/logger/types";
import type { PipelineClients } from "../clients.js";
import type { PipelineConfig } from "../config.js";
import type { FfmpegPaths } from "../audio/ffmpeg.js";
import { JobStore } from "../adapters/job-store.js";
import type { JobRecords } from "../adapters/job-records.js";
import { ScheduleStore, type JobSchedule } from "../adapters/job-schedule.js";
import { Notifier, type JobEvent } from "../adapters/notifier.js";
import { S3OutputStore, type OutputStore } from "../adapters/output-store.js";
import { S3SourceStore, type SourceStore } from "../adapters/source-store.js";
import { SqsWorkQueues, type WorkQueues } from "../adapters/work-queues.js";
import { S3WorkStore, type WorkStore } from "../adapters/work-store.js";
import { ProviderSlots } from "../adapters/provider-slots.js";
import { S3UrlSourceStore, type UrlSourceStore } from "../adapters/url-source-store.js";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import {
  ProviderClient,
  type CallBudget,
  type ProviderClientOptions,
  type ProviderRequestInfo,
  type TranscriptionRequest,
} from "../provider/client.js";
import type { ProviderTranscription } from "../provider/parse-response.js";
import type { JobBilling } from "../domain/jobs/job-billing.js";
import { wiring } from "../wiring.js";
import { providerAttemptMetered } from "./invocation-meter.js";

/** Powertools' structured logger; the CLI passes a silent one. Never log transcript text or keys. */
export type Log = Pick<Logger, "debug" | "info" | "warn" | "error">;

/**
 * What the steps report as CloudWatch metrics. The Lambda composition root gives them Powertools Metrics
 * (shared/lambda/pipeline-metrics.ts, flushed once per invocation); the local stack and tests get NO_METRICS.
 */
export interface PipelineMetrics {
  /** One HTTP request to the provider (one attempt of a call), answered or not. */
  providerRequest(request: ProviderRequestInfo): void;
  /** An attempt the provider client makes again after a backoff, by its error code (`provider_429`, ...). */
  providerRetry(retry: { code: string }): void;
  /** A job moved to COMPLETED (once per job, by the stitcher that completed it). */
  jobCompleted(job: CompletedJob): void;
  /** A job moved to FAILED (once per job), with its errorCode. */
  jobFailed(job: { code: string }): void;
}

/** A completed job's figures, as its record stores them. */
export interface CompletedJob {
  segments: number;
  /** From the job's creation (the chunker) to its completion (the stitcher). */
  durationSeconds: number;
  /** The recording's duration. */
  recordingSeconds: number;
  /** What the provider was sent for the job (domain/jobs/job-billing.ts). */
  audioSecondsBilled: number;
  billing: JobBilling;
}

export const NO_METRICS: PipelineMetrics = {
  providerRequest: () => undefined,
  providerRetry: () => undefined,
  jobCompleted: () => undefined,
  jobFailed: () => undefined,
};

/** The provider as the steps call it: provider/client.ts's ProviderClient, or a fake in the unit tests. */
export interface Transcriber {
  /** `budget` overrides the client's timeout and attempts for this call (speaker probes get a short one). */
  transcribe(req: TranscriptionRequest, budget?: CallBudget): Promise<ProviderTranscription>;
}

/** Where a job's end is announced: adapters/notifier.ts's SNS + EventBridge Notifier, or a recorder in tests. */
export interface JobNotifier {
  publish(event: JobEvent): Promise<void>;
}

/**
 * Everything a pipeline step needs, built once by a composition root (Lambda cold start or the local stack).
 * The steps reach storage, queues and the table only through the ports (`jobs`, `work`, `output`, `sources`,
 * `queues`, `notifier`, `provider`), so each can run on in-memory adapters in a unit test
 * (test/support/memory-context.ts); the emulator tests cover the S3/SQS/DynamoDB adapters and the wiring.
 */
export interface PipelineContext {
  config: PipelineConfig;
  /**
   * The raw AWS clients, for what is not a step: the queue handlers' retry delays (ChangeMessageVisibility)
   * and the realtime session sweeper. A step uses the ports below.
   */
  clients: PipelineClients;
  jobs: JobRecords;
  /** Who runs, who waits, and each running job's share of the provider cap (pipeline/schedule-jobs.ts). */
  schedule: JobSchedule;
  /** The work bucket. */
  work: WorkStore;
  /** The output bucket. */
  output: OutputStore;
  /** Uploaded recordings, read by the chunker. */
  sources: SourceStore;
  /** Recordings by URL: their pointer objects, and each job's copy of the URL's bytes (sources/url-source.ts). */
  urlSources: UrlSourceStore;
  /** The segments and stitch queues. */
  queues: WorkQueues;
  notifier: JobNotifier;
  provider: Transcriber;
  ffmpeg: FfmpegPaths;
  log: Log;
  metrics: PipelineMetrics;
  now: () => Date;
  /** Test seam for crash injection between steps (reliability suite); a no-op in production. */
  checkpoint: (step: string) => void | Promise<void>;
}

/** The context createContext builds: every port backed by the AWS clients, the job table by its DynamoDB JobStore. */
export interface AwsPipelineContext extends PipelineContext {
  jobs: JobStore;
}

export interface ContextOverrides extends Partial<Pick<PipelineContext, "provider" | "now" | "checkpoint" | "metrics">> {
  /** Wraps each request of the default provider client (the Lambda's X-Ray subsegment). */
  traceProviderRequest?: ProviderClientOptions["traceRequest"];
}

export function createContext(
  config: PipelineConfig,
  clients: PipelineClients,
  ffmpeg: FfmpegPaths,
  log: Log,
  overrides: ContextOverrides = {},
): AwsPipelineContext {
  const metrics = overrides.metrics ?? NO_METRICS;
  return {
    config,
    clients,
    jobs: new JobStore(clients.dynamo, config.table, config.retentionDays),
    schedule: new ScheduleStore(clients.dynamo, config.table),
    work: new S3WorkStore(clients.s3, config.workBucket),
    output: new S3OutputStore(clients.s3, config.outputBucket),
    sources: new S3SourceStore(clients.s3),
    urlSources: new S3UrlSourceStore(clients.s3, config.workBucket),
    queues: new SqsWorkQueues(clients.sqs, config),
    notifier: new Notifier(clients.sns, clients.events, {
      topicArn: config.topicArn,
      eventBusName: config.eventBusName,
      eventSource: wiring.eventSource,
      detailType: wiring.eventDetailType,
      transcriptChangedDetailType: wiring.transcriptChangedDetailType,
    }),
    provider:
      overrides.provider ??
      new ProviderClient({
        baseUrl: config.provider.baseUrl,
        apiKey: config.provider.apiKey,
        timeoutMs: config.provider.timeoutMs,
        maxAttempts: config.provider.maxAttempts,
        limiter: providerSlots(clients.dynamo, config),
        onRequest: (request) => {
          metrics.providerRequest(request);
          // The audio each attempt sent counts for the invocation that sent it (invocation-meter.ts).
          providerAttemptMetered(request);
        },
        onRetry: ({ code }) => metrics.providerRetry({ code }),
        traceRequest: overrides.traceProviderRequest,
      }),
    ffmpeg,
    log,
    metrics,
    now: overrides.now ?? (() => new Date()),
    checkpoint: overrides.checkpoint ?? (() => undefined),
  };
}

/** The deployment-wide provider cap, held per request attempt (adapters/provider-slots.ts). */
export function providerSlots(db: DynamoDBDocumentClient, config: PipelineConfig): ProviderSlots {
  // A slot is held for one attempt: its lease outlives the request's timeout, so only a dead holder loses it.
  return new ProviderSlots(db, config.table, { slots: config.providerMaxInFlight, leaseSeconds: Math.ceil(config.provider.timeoutMs / 1000) + 30 });
}

/**
 * The same context, with `keys` on every line its steps log: a queue handler gives each record's steps its
 * job and segment once, instead of every log call passing them. Per record, not appendKeys on the shared
 * logger: a batch's records, and the local runner's invocations, run concurrently. Not Powertools'
 * createChild either: a child logger made during an invocation reports `cold_start: true` on every one.
 */
export function withLogKeys(ctx: PipelineContext, keys: Record<string, string | number | undefined>): PipelineContext {
  const defined: LogAttributes = {};
  for (const [key, value] of Object.entries(keys)) if (value !== undefined) defined[key] = value;
  if (Object.keys(defined).length === 0) return ctx;
  return { ...ctx, log: logWithKeys(ctx.log, defined) };
}

/** The keys go first, so an attribute a call passes itself wins. */
function logWithKeys(log: Log, keys: LogAttributes): Log {
  type Extra = Parameters<Log["info"]> extends [unknown, ...infer R] ? R : never;
  const withKeys = (extra: Extra) => [keys, ...extra] as unknown as Extra;
  return {
    debug: (message, ...extra) => log.debug(message, ...withKeys(extra)),
    info: (message, ...extra) => log.info(message, ...withKeys(extra)),
    warn: (message, ...extra) => log.warn(message, ...withKeys(extra)),
    error: (message, ...extra) => log.error(message, ...withKeys(extra)),
  };
}
