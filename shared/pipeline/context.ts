import type { Logger } from "@aws-lambda-powertools/logger";
import type { PipelineClients } from "../clients.js";
import type { PipelineConfig } from "../config.js";
import type { FfmpegPaths } from "../audio/ffmpeg.js";
import { JobStore } from "../adapters/job-store.js";
import { Notifier } from "../adapters/notifier.js";
import { ProviderSlots } from "../adapters/provider-slots.js";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { ProviderClient } from "../provider/client.js";
import { wiring } from "../wiring.js";

/** Powertools' structured logger; the CLI passes a silent one. Never log transcript text or keys. */
export type Log = Pick<Logger, "debug" | "info" | "warn" | "error">;

/** Everything a pipeline step needs, built once by a composition root (Lambda cold start or the local stack). */
export interface PipelineContext {
  config: PipelineConfig;
  clients: PipelineClients;
  jobs: JobStore;
  notifier: Notifier;
  provider: ProviderClient;
  ffmpeg: FfmpegPaths;
  log: Log;
  now: () => Date;
  /** Test seam for crash injection between steps (reliability suite); a no-op in production. */
  checkpoint: (step: string) => void | Promise<void>;
}

export function createContext(
  config: PipelineConfig,
  clients: PipelineClients,
  ffmpeg: FfmpegPaths,
  log: Log,
  overrides: Partial<Pick<PipelineContext, "provider" | "now" | "checkpoint">> = {},
): PipelineContext {
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
      }),
    ffmpeg,
    log,
    now: overrides.now ?? (() => new Date()),
    checkpoint: overrides.checkpoint ?? (() => undefined),
  };
}

/** The deployment-wide provider cap, held per request attempt (adapters/provider-slots.ts). */
export function providerSlots(db: DynamoDBDocumentClient, config: PipelineConfig): ProviderSlots {
  // A slot is held for one attempt: its lease outlives the request's timeout, so only a dead holder loses it.
  return new ProviderSlots(db, config.table, { slots: config.providerMaxInFlight, leaseSeconds: Math.ceil(config.provider.timeoutMs / 1000) + 30 });
}
