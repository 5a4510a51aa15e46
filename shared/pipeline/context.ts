import type { Logger } from "@aws-lambda-powertools/logger";
import type { LogAttributes } from "@aws-lambda-powertools/logger/types";
import type { PipelineClients } from "../clients.js";
import type { PipelineConfig } from "../config.js";
import type { FfmpegPaths } from "../audio/ffmpeg.js";
import { JobStore } from "../adapters/job-store.js";
import { Notifier } from "../adapters/notifier.js";
import { ProviderSlots } from "../adapters/provider-slots.js";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ProviderClient, type ProviderClientOptions, type ProviderRequestInfo } from "../provider/client.js";
import type { JobBilling } from "../domain/job-billing.js";
import { wiring } from "../wiring.js";

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
  /** What the provider was sent for the job (domain/job-billing.ts). */
  audioSecondsBilled: number;
  billing: JobBilling;
}

export const NO_METRICS: PipelineMetrics = {
  providerRequest: () => undefined,
  providerRetry: () => undefined,
  jobCompleted: () => undefined,
  jobFailed: () => undefined,
};

/** Everything a pipeline step needs, built once by a composition root (Lambda cold start or the local stack). */
export interface PipelineContext {
  config: PipelineConfig;
  clients: PipelineClients;
  jobs: JobStore;
  notifier: Notifier;
  provider: ProviderClient;
  ffmpeg: FfmpegPaths;
  log: Log;
  metrics: PipelineMetrics;
  now: () => Date;
  /** Test seam for crash injection between steps (reliability suite); a no-op in production. */
  checkpoint: (step: string) => void | Promise<void>;
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
): PipelineContext {
  const metrics = overrides.metrics ?? NO_METRICS;
  return {
    config,
    clients,
    jobs: new JobStore(clients.dynamo, config.table, config.retentionDays),
    notifier: new Notifier(clients.sns, clients.events, {
      topicArn: config.topicArn,
      eventBusName: config.eventBusName,
      eventSource: wiring.eventSource,
      detailType: wiring.eventDetailType,
    }),
    provider:
      overrides.provider ??
      new ProviderClient({
        baseUrl: config.provider.baseUrl,
        apiKey: config.provider.apiKey,
        timeoutMs: config.provider.timeoutMs,
        maxAttempts: config.provider.maxAttempts,
        limiter: providerSlots(clients.dynamo, config),
        onRequest: (request) => metrics.providerRequest(request),
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
