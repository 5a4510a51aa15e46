/**
 * The gateway beside a local stack (`stt up`, tests): the same gateway code, wired to the stack's
 * emulators, provider settings and ffmpeg.
 */
import type { LocalStack } from "../local/stack.js";
import { ffmpegPaths } from "../shared/audio/ffmpeg.js";
import type { Log } from "../shared/pipeline/context.js";
import { liveProviderOptions } from "../shared/config.js";
import { ProviderClient } from "../shared/provider/client.js";
import { wiring } from "../shared/wiring.js";
import { startGateway, type Gateway, type GatewayLimits } from "./gateway.js";
import { sweepOrphanedSessions, type SweepReport } from "./session-orphans.js";
import { S3SessionRecorder } from "./session-recorder.js";
import type { SessionStoreOptions } from "./session-submit.js";
import { DEFAULT_HTTP_UPSTREAM, upstreamFactories, type UpstreamMode, type UpstreamSettings } from "./upstream/select.js";
import { realtimeUrlFor } from "./upstream/relay-upstream.js";

export interface LocalGatewayOptions {
  port?: number;
  keys: readonly string[];
  mode?: UpstreamMode;
  /** Defaults to the stack provider's base URL + /realtime. */
  upstreamUrl?: string;
  limits?: Partial<GatewayLimits>;
  http?: Partial<UpstreamSettings["http"]>;
  partSeconds?: number;
  /** STT_REALTIME_BATCH_JOB: sessions end in a batch job (default true). */
  batchJob?: boolean;
  /** Look for orphaned sessions (a gateway that died mid-session) as the gateway starts (default true). */
  sweepOrphans?: boolean;
  log?: Log;
}

export interface LocalGateway extends Gateway {
  /** The orphan sweep started with the gateway (it runs beside it and never delays the start). */
  orphanSweep: Promise<SweepReport | undefined>;
}

export async function startLocalGateway(stack: LocalStack, options: LocalGatewayOptions): Promise<LocalGateway> {
  const log = options.log ?? stack.ctx.log;
  const { provider } = stack.config;
  // The stack's provider endpoint and key with the live budget, as the gateway in AWS builds it (realtime/main.ts).
  const client = new ProviderClient(liveProviderOptions(provider));
  const factories = upstreamFactories({
    mode: options.mode ?? "auto",
    realtimeUrl: options.upstreamUrl ?? realtimeUrlFor(provider.baseUrl),
    apiKey: provider.apiKey,
    provider: client,
    http: { ...DEFAULT_HTTP_UPSTREAM, ...options.http },
    connectTimeoutMs: 5000,
    recheckMs: 5 * 60_000,
    log,
  });
  const store: SessionStoreOptions = {
    s3: stack.clients.s3,
    dynamo: stack.clients.dynamo,
    table: stack.resources.table,
    workBucket: stack.resources.buckets.work,
    inputBucket: stack.resources.buckets.input,
    sourceIndexName: wiring.table.sourceIndex.name,
    ffmpeg: ffmpegPaths().ffmpeg,
    log,
  };
  const gateway = await startGateway({
    port: options.port ?? 0,
    keys: async () => options.keys,
    defaultModel: provider.model,
    limits: options.limits,
    recorder: new S3SessionRecorder({ ...store, partSeconds: options.partSeconds, batchJob: options.batchJob }),
    openUpstream: factories.open,
    fallbackUpstream: factories.fallback,
    log,
  });
  // Locally nothing runs on a schedule: the gateway's start is where orphans are found.
  const orphanSweep =
    options.sweepOrphans === false
      ? Promise.resolve(undefined)
      : sweepOrphanedSessions({ ...store, liveSessionIndexName: wiring.table.liveSessionIndex.name }).then(
          (report) => {
            if (report.found) log.info("orphaned realtime sessions swept", { found: report.found, ended: Object.keys(report.ended) });
            return report;
          },
          (error: unknown) => {
            log.error("orphan sweep failed", { error: (error as Error).message });
            return undefined;
          },
        );
  return Object.assign(gateway, { orphanSweep });
}
