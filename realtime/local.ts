/**
 * The gateway beside a local stack (`stt up`, tests): the same gateway code, wired to the stack's
 * emulators, provider settings and ffmpeg.
 */
import type { LocalStack } from "../local/stack.js";
import { ffmpegPaths } from "../shared/audio/ffmpeg.js";
import type { Log } from "../shared/pipeline/context.js";
import { ProviderClient } from "../shared/provider/client.js";
import { wiring } from "../shared/wiring.js";
import { startGateway, type Gateway, type GatewayLimits } from "./gateway.js";
import { S3SessionRecorder } from "./session-recorder.js";
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
  log?: Log;
}

export async function startLocalGateway(stack: LocalStack, options: LocalGatewayOptions): Promise<Gateway> {
  const log = options.log ?? stack.ctx.log;
  const { provider } = stack.config;
  // Live utterances are short and someone is waiting: a tighter budget than the batch transcriber's.
  const client = new ProviderClient({ baseUrl: provider.baseUrl, apiKey: provider.apiKey, timeoutMs: 30_000, maxAttempts: 3, backoffBaseMs: 200, backoffMaxMs: 2000 });
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
  return startGateway({
    port: options.port ?? 0,
    keys: async () => options.keys,
    defaultModel: provider.model,
    limits: options.limits,
    recorder: new S3SessionRecorder({
      s3: stack.clients.s3,
      dynamo: stack.clients.dynamo,
      table: stack.resources.table,
      workBucket: stack.resources.buckets.work,
      inputBucket: stack.resources.buckets.input,
      sourceIndexName: wiring.table.sourceIndex.name,
      ffmpeg: ffmpegPaths().ffmpeg,
      partSeconds: options.partSeconds,
      log,
    }),
    openUpstream: factories.open,
    fallbackUpstream: factories.fallback,
    log,
  });
}
