/**
 * The gateway's composition root in AWS (ECS Fargate behind an Application Load Balancer, see
 * infra/realtime/): clients, secrets and settings built once, then the server. SIGTERM (a deployment or
 * a scale-in) closes live sessions with 1012 and submits each before the task exits.
 */
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { Logger } from "@aws-lambda-powertools/logger";
import { createClients } from "../shared/clients.js";
import { liveProviderOptions, providerConfigFromEnv, requireEnv, secretFromEnv } from "../shared/config.js";
import { ffmpegPaths } from "../shared/audio/ffmpeg.js";
import { ProviderClient } from "../shared/provider/client.js";
import { ENV, wiring } from "../shared/wiring.js";
import { parseKeys, realtimeSettingsFromEnv, REALTIME_ENV, DEFAULT_REALTIME_PORT } from "./config.js";
import { startGateway } from "./gateway.js";
import { GatewayMetrics } from "./gateway-metrics.js";
import { sweepOrphanedSessions } from "./session-orphans.js";
import { S3SessionRecorder } from "./session-recorder.js";
import type { SessionStoreOptions } from "./session-submit.js";
import { DEFAULT_HTTP_UPSTREAM, upstreamFactories } from "./upstream/select.js";
import { realtimeUrlFor } from "./upstream/relay-upstream.js";

async function main(): Promise<void> {
  const env = process.env;
  const log = new Logger({ serviceName: "stt-realtime" });
  const settings = realtimeSettingsFromEnv(env);
  // The provider's endpoint, model and key as the Lambdas read them (one parser for the secret); the live budget.
  const providerConfig = providerConfigFromEnv(env);
  const gatewayKeySecret = secretFromEnv(env, REALTIME_ENV.keysSecretArn, [REALTIME_ENV.keys]);
  const gatewayKeys = async () => parseKeys(await gatewayKeySecret());

  const clients = createClients();
  const provider = new ProviderClient(liveProviderOptions(providerConfig));
  const factories = upstreamFactories({
    mode: settings.mode,
    realtimeUrl: settings.upstreamUrl ?? realtimeUrlFor(providerConfig.baseUrl),
    apiKey: providerConfig.apiKey,
    provider,
    http: { ...DEFAULT_HTTP_UPSTREAM, ...settings.http },
    connectTimeoutMs: 5000,
    recheckMs: 5 * 60_000,
    log,
  });
  const store: SessionStoreOptions = {
    s3: clients.s3,
    dynamo: clients.dynamo,
    table: requireEnv(env, ENV.table),
    workBucket: requireEnv(env, ENV.workBucket),
    inputBucket: requireEnv(env, ENV.inputBucket),
    sourceIndexName: wiring.table.sourceIndex.name,
    ffmpeg: ffmpegPaths({ ffmpeg: env[ENV.ffmpegPath] || undefined }).ffmpeg,
    log,
  };
  const metrics = new GatewayMetrics(env.STT_REALTIME_SERVICE_NAME ?? "stt-realtime");
  const gateway = await startGateway({
    host: "0.0.0.0",
    port: Number(env[REALTIME_ENV.port] || DEFAULT_REALTIME_PORT),
    keys: gatewayKeys,
    defaultModel: providerConfig.model,
    limits: settings.limits,
    recorder: new S3SessionRecorder({
      ...store,
      retentionDays: env[ENV.retentionDays] ? Number(env[ENV.retentionDays]) : undefined,
      batchJob: settings.batchJob,
    }),
    openUpstream: factories.open,
    fallbackUpstream: factories.fallback,
    onSessionEnd: (summary) => metrics.sessionEnded(summary),
    log,
  });
  log.info("realtime gateway listening", { port: gateway.port, upstream: settings.mode });
  // Sessions a gateway left behind when it died (no heartbeat for a minute): whoever finds one first ends
  // it; the scheduled sweeper Lambda does the same every few minutes. Beside serving, never before it.
  void sweepOrphanedSessions({ ...store, liveSessionIndexName: wiring.table.liveSessionIndex.name }).then(
    (report) => log.info("orphan sweep at start", { found: report.found, ended: Object.keys(report.ended), failed: Object.keys(report.failed) }),
    (error: unknown) => log.error("orphan sweep at start failed", { error: (error as Error).message }),
  );

  // Live sessions every minute: what autoscaling tracks.
  const activeSessions = setInterval(() => metrics.activeSessions(gateway.sessions()), 60_000);

  const stop = async (signal: string) => {
    log.info("stopping: closing live sessions and submitting them", { signal, sessions: gateway.sessions() });
    clearInterval(activeSessions);
    await gateway.close();
    process.exit(0);
  };
  process.once("SIGTERM", () => void stop("SIGTERM"));
  process.once("SIGINT", () => void stop("SIGINT"));
}

main().catch((error: unknown) => {
  process.stderr.write(`realtime gateway failed to start: ${(error as Error).message}\n`);
  process.exit(1);
});
