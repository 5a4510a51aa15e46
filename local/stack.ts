import { Logger } from "@aws-lambda-powertools/logger";
import { createClients, type PipelineClients } from "../shared/clients.js";
import { configFromEnv, type PipelineConfig } from "../shared/config.js";
import { ffmpegPaths } from "../shared/audio/ffmpeg.js";
import { createContext, providerSlots, type AwsPipelineContext, type Log, type PipelineContext } from "../shared/pipeline/context.js";
import { ProviderClient, type ProviderClientOptions } from "../shared/provider/client.js";
import { startEmulators, type Emulators } from "./emulators.js";
import { s3HandlerOf, sqsHandlerOf } from "./handlers.js";
import { createResources, localDynamo, localEnvironment, type LocalResources } from "./resources.js";
import { EventRunner } from "./runner.js";
import { localTopology, type LocalOverrides } from "./topology.js";
import { recoverInterruptedJobs } from "./recover.js";
import { restoreBucket, saveBucket } from "./output-mirror.js";

/** A local stack: the wiring's resources and triggers with its numbers, but for the overrides (LocalOverrides) given here. */
export interface LocalStackOptions extends LocalOverrides {
  /** The longest a retried message waits (default: the visibility override, else the wiring's backoff). */
  retryDelayCapSeconds?: number;
  provider: { baseUrl: string; apiKey: string; model?: string };
  /** dynalite's folder; jobs survive a restart there. Omitted = in memory (tests). */
  dataDir?: string;
  /** Where the output bucket is mirrored across restarts (with dataDir). */
  outputsDir?: string;
  awsPort?: number;
  dynamodbPort?: number;
  log?: Log;
  /**
   * Segment length of every job that does not set chunk-seconds (tests: short segments, for speed). Unset,
   * the length follows each recording's duration and the provider cap, as in Lambda, where this setting
   * only covers recordings of unknown duration.
   */
  chunkSeconds?: number;
  overlapSeconds?: number;
  /** Replaces the provider client's settings from the configuration (tests: seeded jitter, short backoff, retry hooks). */
  providerClient?: Partial<ProviderClientOptions>;
  checkpoint?: PipelineContext["checkpoint"];
}

export interface LocalStack {
  emulators: Emulators;
  resources: LocalResources;
  clients: PipelineClients;
  config: PipelineConfig;
  ctx: AwsPipelineContext;
  runner: EventRunner;
  stop(): Promise<void>;
}

export const quietLog: Log = new Logger({ serviceName: "stt-local", logLevel: "SILENT" });

/**
 * The whole pipeline on one machine: real emulators, the resources of the
 * wiring definition, and an event runner delivering S3 and SQS events to the
 * same handler functions Lambda runs, configured through the same
 * environment contract.
 */
export async function startLocalStack(options: LocalStackOptions): Promise<LocalStack> {
  const log = options.log ?? quietLog;
  const emulators = await startEmulators({
    awsPort: options.awsPort,
    dynamodbPort: options.dynamodbPort,
    dynamodbPath: options.dataDir,
  });
  const endpoints = { aws: emulators.awsEndpoint, dynamodb: emulators.dynamodbEndpoint };
  const clients = createClients(endpoints);
  const rawDynamo = localDynamo(endpoints.dynamodb);
  const overrides: LocalOverrides = {
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    maxReceiveCount: options.maxReceiveCount,
    providerMaxInFlight: options.providerMaxInFlight,
    transcriberConcurrency: options.transcriberConcurrency,
  };
  const topology = localTopology(overrides);
  const resources = await createResources(clients, rawDynamo, overrides);
  const fromEnv = configFromEnv(
    localEnvironment(resources, {
      provider: options.provider,
      chunkSeconds: options.chunkSeconds,
      overlapSeconds: options.overlapSeconds,
      providerMaxInFlight: topology.providerMaxInFlight,
    }),
  );
  // A stack given chunkSeconds cuts at that length whatever the duration (see LocalStackOptions.chunkSeconds).
  const config: PipelineConfig = {
    ...(options.chunkSeconds === undefined ? fromEnv : { ...fromEnv, defaults: { ...fromEnv.defaults, segmentCap: undefined } }),
    // A shortened visibility timeout (tests) also shortens retry backoffs, so retries keep the test's pace;
    // the CLI caps them on its own, so a local job with an unreachable provider fails in well under a minute.
    retryDelayCapSeconds: options.retryDelayCapSeconds ?? options.visibilityTimeoutSeconds,
  };
  const provider = new ProviderClient({
    baseUrl: config.provider.baseUrl,
    apiKey: config.provider.apiKey,
    timeoutMs: config.provider.timeoutMs,
    maxAttempts: config.provider.maxAttempts,
    // As in Lambda: the provider slots in the table bound what is in flight, whoever sends it.
    limiter: providerSlots(clients.dynamo, config),
    ...options.providerClient,
  });
  const ffmpeg = ffmpegPaths({ ffmpeg: config.ffmpegPath, ffprobe: config.ffprobePath });
  const ctx = createContext(config, clients, ffmpeg, log, { provider, checkpoint: options.checkpoint });
  if (options.outputsDir) await restoreBucket(clients.s3, resources.buckets.output, options.outputsDir);
  await recoverInterruptedJobs(ctx, rawDynamo);

  const runner = new EventRunner(clients, log);
  for (const source of topology.sources) {
    if (source.kind === "s3") {
      runner.addS3Source({
        name: source.fn,
        bucket: resources.buckets[source.bucket],
        objectsCreated: emulators.objectsCreated,
        handler: s3HandlerOf(source.fn, ctx),
        maxConcurrency: source.maxConcurrency,
        retries: source.retries,
        retryDelaysMs: source.retryDelaysMs,
        timeoutMs: source.timeoutMs,
        failureQueueUrl: resources.queuesByName[source.failureQueueName].url,
      });
    } else {
      const queue = resources.queuesByName[source.queueName];
      runner.addSqsSource({
        name: source.name,
        queueUrl: queue.url,
        queueArn: queue.arn,
        batchSize: source.batchSize,
        maxConcurrency: source.maxConcurrency,
        handler: sqsHandlerOf(source.fn, ctx),
        timeoutMs: source.timeoutMs,
      });
    }
  }
  for (const { fn, reason } of topology.notRun) log.debug("trigger not run locally", { fn, reason });

  return {
    emulators,
    resources,
    clients,
    config,
    ctx,
    runner,
    async stop() {
      await runner.stop();
      if (options.outputsDir) await saveBucket(clients.s3, resources.buckets.output, options.outputsDir);
      await emulators.stop();
    },
  };
}
