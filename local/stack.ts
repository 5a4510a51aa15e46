import { Logger } from "@aws-lambda-powertools/logger";
import { createClients, type PipelineClients } from "../shared/clients.js";
import { configFromEnv, type PipelineConfig } from "../shared/config.js";
import { ffmpegPaths } from "../shared/audio/ffmpeg.js";
import { createContext, providerSlots, type AwsPipelineContext, type Log, type PipelineContext } from "../shared/pipeline/context.js";
import { ProviderClient, type ProviderClientOptions } from "../shared/provider/client.js";
import { startEmulators, type Emulators, type LocalEmulators } from "./emulators.js";
import { s3HandlerOf, sqsHandlerOf } from "./handlers.js";
import { createResources, localDynamo, localEnvironment, type LocalResources } from "./resources.js";
import { EventRunner } from "./runner.js";
import { localTopology, type LocalOverrides } from "./topology.js";
import { recoverInterruptedJobs } from "./recover.js";
import { restoreBucket, saveBucket } from "./output-mirror.js";
import { parseHostPort } from "../shared/sources/url-address.js";
import { DEFAULTS, ENV } from "../shared/wiring.js";
import { providerAttemptMetered } from "../shared/pipeline/invocation-meter.js";
import { costSettingsFromEnv, type CostSettings } from "../shared/config.js";
import { VOICES_PREFIX } from "../shared/domain/speakers/enrolled-voices.js";

/** A local stack: the wiring's resources and triggers with its numbers, but for the overrides (LocalOverrides) given here. */
export interface LocalStackOptions extends LocalOverrides {
  /** The longest a retried message waits (default: the visibility override, else the wiring's backoff). */
  retryDelayCapSeconds?: number;
  provider: { baseUrl: string; apiKey: string; model?: string };
  /** dynalite's folder; jobs survive a restart there. Omitted = in memory (tests). */
  dataDir?: string;
  /** Where the output bucket is mirrored across restarts (with dataDir). */
  outputsDir?: string;
  /** Where the input bucket's voices/ (enrollment clips) is mirrored across restarts (with dataDir): voice items point at them. */
  voicesDir?: string;
  awsPort?: number;
  dynamodbPort?: number;
  /**
   * Emulators started elsewhere (bench:fair runs them in a process of their own, so that the stack's event
   * loop carries the handlers only, as a Lambda's does); the stack creates its resources on them and stops
   * them when it stops. Omitted: the stack starts its own, in this process.
   */
  emulators?: LocalEmulators;
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
  /**
   * Recordings by URL on this stack. `allow`: host:port pairs (`127.0.0.1:8443`) the fetcher may reach although
   * they are not public addresses (a test's own server; redirects elsewhere stay refused); `trustedCa`: PEM
   * certificates trusted besides Node's (that server's self-signed one); `maxBytes`: the size limit. Local
   * only: AWS has no setting for the first two.
   */
  urlSources?: { allow?: readonly string[]; trustedCa?: readonly string[]; maxBytes?: number };
  /** Prices and cost caps (tests: a daily limit), over the environment's (STT_PRICE_*, STT_MAX_JOB_COST, STT_MAX_DAILY_COST). */
  cost?: Partial<CostSettings>;
  /**
   * The most jobs transcribing at once; later ones wait as QUEUED (the stack setting maxRunningJobs). Unset:
   * the caller's STT_MAX_RUNNING_JOBS, else the default.
   */
  maxRunningJobs?: number;
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
  const emulators =
    options.emulators ??
    (await startEmulators({
      awsPort: options.awsPort,
      dynamodbPort: options.dynamodbPort,
      dynamodbPath: options.dataDir,
    }));
  const endpoints = { aws: emulators.awsEndpoint, dynamodb: emulators.dynamodbEndpoint };
  const clients = createClients(endpoints);
  const rawDynamo = localDynamo(endpoints.dynamodb);
  const overrides: LocalOverrides = {
    visibilityTimeoutSeconds: options.visibilityTimeoutSeconds,
    maxReceiveCount: options.maxReceiveCount,
    providerMaxInFlight: options.providerMaxInFlight,
    transcriberConcurrency: options.transcriberConcurrency,
    chunkerConcurrency: options.chunkerConcurrency,
    deleteJobsWithSource: options.deleteJobsWithSource,
  };
  const topology = localTopology(overrides);
  const resources = await createResources(clients, rawDynamo, overrides);
  const fromEnv = configFromEnv(
    localEnvironment(resources, {
      provider: options.provider,
      chunkSeconds: options.chunkSeconds,
      overlapSeconds: options.overlapSeconds,
      providerMaxInFlight: topology.providerMaxInFlight,
      // As the stack setting maxRunningJobs sets it in AWS (`STT_MAX_RUNNING_JOBS=5 stt up`), unless the caller gives one.
      maxRunningJobs: options.maxRunningJobs ?? (process.env[ENV.maxRunningJobs] ? Number(process.env[ENV.maxRunningJobs]) : undefined),
    }),
  );
  // A stack given chunkSeconds cuts at that length whatever the duration (see LocalStackOptions.chunkSeconds).
  const config: PipelineConfig = {
    ...(options.chunkSeconds === undefined ? fromEnv : { ...fromEnv, defaults: { ...fromEnv.defaults, segmentCap: undefined } }),
    // A shortened visibility timeout (tests) also shortens retry backoffs, so retries keep the test's pace;
    // the CLI caps them on its own, so a local job with an unreachable provider fails in well under a minute.
    retryDelayCapSeconds: options.retryDelayCapSeconds ?? options.visibilityTimeoutSeconds,
    urlSources: {
      maxBytes: options.urlSources?.maxBytes ?? fromEnv.urlSources?.maxBytes ?? DEFAULTS.urlMaxBytes,
      allow: options.urlSources?.allow?.map(parseHostPort),
      trustedCa: options.urlSources?.trustedCa,
    },
    // The caller's environment sets prices and caps, as the stack settings set them in AWS (`STT_MAX_DAILY_COST=10 stt up`).
    cost: { ...costSettingsFromEnv(process.env), ...options.cost },
    // As the stack setting redactionMandatory sets it in AWS (`STT_REDACTION_MANDATORY=true stt up`).
    redactionMandatory: process.env[ENV.redactionMandatory] === "true",
  };
  const provider = new ProviderClient({
    baseUrl: config.provider.baseUrl,
    apiKey: config.provider.apiKey,
    timeoutMs: config.provider.timeoutMs,
    maxAttempts: config.provider.maxAttempts,
    // As in Lambda: the provider slots in the table bound what is in flight, whoever sends it.
    limiter: providerSlots(clients.dynamo, config),
    // As in Lambda: each attempt's audio counts for the invocation that sent it (the job's cost).
    onRequest: providerAttemptMetered,
    ...options.providerClient,
  });
  const ffmpeg = ffmpegPaths({ ffmpeg: config.ffmpegPath, ffprobe: config.ffprobePath });
  const ctx = createContext(config, clients, ffmpeg, log, { provider, checkpoint: options.checkpoint });
  if (options.outputsDir) await restoreBucket(clients.s3, resources.buckets.output, options.outputsDir);
  if (options.voicesDir) await restoreBucket(clients.s3, resources.buckets.input, options.voicesDir, VOICES_PREFIX);
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
        objectsRemoved: source.removals ? emulators.objectsRemoved : undefined,
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
      if (options.voicesDir) await saveBucket(clients.s3, resources.buckets.input, options.voicesDir, VOICES_PREFIX);
      await emulators.stop();
    },
  };
}
