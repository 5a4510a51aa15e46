import { Logger } from "@aws-lambda-powertools/logger";
import { createClients, type PipelineClients } from "../shared/clients.js";
import type { PipelineConfig } from "../shared/config.js";
import { ffmpegPaths } from "../shared/audio/ffmpeg.js";
import { createContext, providerSlots, type Log, type PipelineContext } from "../shared/pipeline/context.js";
import {
  chunkerHandler,
  deadLetterHandler,
  stitcherHandler,
  transcriberHandler,
} from "../shared/pipeline/queue-handlers.js";
import { ProviderClient, type ProviderClientOptions } from "../shared/provider/client.js";
import { DEFAULTS, wiring } from "../shared/wiring.js";
import { startEmulators, type Emulators } from "./emulators.js";
import { createResources, localConfig, localDynamo, type LocalResources } from "./resources.js";
import { EventRunner } from "./runner.js";
import { recoverInterruptedJobs } from "./recover.js";
import { restoreBucket, saveBucket } from "./output-mirror.js";

export interface LocalStackOptions {
  provider: { baseUrl: string; apiKey: string; model?: string };
  /** dynalite's folder; jobs survive a restart there. Omitted = in memory (tests). */
  dataDir?: string;
  /** Where the output bucket is mirrored across restarts (with dataDir). */
  outputsDir?: string;
  awsPort?: number;
  dynamodbPort?: number;
  log?: Log;
  chunkSeconds?: number;
  overlapSeconds?: number;
  /** Concurrent transcriber invocations (the wiring's by default). */
  transcriberConcurrency?: number;
  /** Provider requests in flight, segments and probes together (the transcriber concurrency by default, as in the wiring). */
  providerMaxInFlight?: number;
  visibilityTimeoutSeconds?: number;
  maxReceiveCount?: number;
  providerClient?: Partial<ProviderClientOptions>;
  checkpoint?: PipelineContext["checkpoint"];
}

export interface LocalStack {
  emulators: Emulators;
  resources: LocalResources;
  clients: PipelineClients;
  config: PipelineConfig;
  ctx: PipelineContext;
  runner: EventRunner;
  stop(): Promise<void>;
}

const syntheticRecord = {
  messageId: "chunker-failure",
  receiptHandle: "local",
  attributes: { ApproximateReceiveCount: "1", SentTimestamp: "0", SenderId: "local", ApproximateFirstReceiveTimestamp: "0" },
  messageAttributes: {},
  md5OfBody: "",
  eventSource: "aws:sqs",
  eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${wiring.functions.chunker.trigger.failureQueueName}`,
  awsRegion: "us-east-1",
};

export const quietLog: Log = new Logger({ serviceName: "stt-local", logLevel: "SILENT" });

/**
 * The whole pipeline on one machine: real emulators, the resources of the
 * wiring definition, and an event runner delivering S3 and SQS events to the
 * same handler functions Lambda runs.
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
  const visibilityTimeoutSeconds = options.visibilityTimeoutSeconds ?? 30;
  const resources = await createResources(clients, rawDynamo, {
    visibilityTimeoutSeconds,
    maxReceiveCount: options.maxReceiveCount ?? wiring.queues.segments.maxReceiveCount,
  });
  const config = localConfig(
    resources,
    {
      baseUrl: options.provider.baseUrl,
      model: options.provider.model ?? DEFAULTS.model,
      apiKey: async () => options.provider.apiKey,
      timeoutMs: 60_000,
      maxAttempts: 4,
    },
    {
      chunkSeconds: options.chunkSeconds ?? DEFAULTS.chunkSeconds,
      overlapSeconds: options.overlapSeconds ?? DEFAULTS.overlapSeconds,
      // Segment lengths from duration and cap, as in Lambda; a stack given chunkSeconds (the tests' short
      // segments) cuts every job without chunk-seconds metadata at that length instead.
      segmentCap:
        options.chunkSeconds === undefined
          ? (options.providerMaxInFlight ?? options.transcriberConcurrency ?? wiring.provider.maxInFlight)
          : undefined,
    },
  );
  config.providerMaxInFlight = options.providerMaxInFlight ?? options.transcriberConcurrency ?? config.providerMaxInFlight;
  const provider = new ProviderClient({
    baseUrl: config.provider.baseUrl,
    apiKey: config.provider.apiKey,
    timeoutMs: config.provider.timeoutMs,
    maxAttempts: config.provider.maxAttempts,
    // As in Lambda: the provider slots in the table bound what is in flight, whoever sends it.
    limiter: providerSlots(clients.dynamo, config),
    ...options.providerClient,
  });
  const ctx = createContext(config, clients, ffmpegPaths(), log, { provider, checkpoint: options.checkpoint });
  if (options.outputsDir) await restoreBucket(clients.s3, resources.buckets.output, options.outputsDir);
  await recoverInterruptedJobs(ctx, rawDynamo);

  const runner = new EventRunner(clients, log);
  const deadLetter = deadLetterHandler(ctx);
  const fns = wiring.functions;
  // An invocation may run as long as its function's Lambda timeout, and no longer than a message stays hidden.
  const timeoutMs = (id: keyof typeof fns) => Math.min(fns[id].timeoutSeconds, visibilityTimeoutSeconds) * 1000;
  runner.addS3Source({
    bucket: resources.buckets.input,
    handler: chunkerHandler(ctx),
    // Lambda runs one chunker per upload; here two at most, so that decodes share this machine's cores.
    maxConcurrency: 2,
    retries: fns.chunker.trigger.asyncRetries,
    // As Lambda's on-failure destination would: hand the event to the dead-letter handler.
    onGiveUp: async (event, error) => {
      const body = JSON.stringify({
        requestContext: { condition: "RetriesExhausted" },
        requestPayload: event,
        responsePayload: { errorMessage: (error as Error).message },
      });
      await deadLetter({ Records: [{ ...syntheticRecord, body }] });
    },
  });
  runner.addSqsSource({
    name: "transcriber",
    queueUrl: resources.queues.segments.url,
    queueArn: resources.queues.segments.arn,
    batchSize: fns.transcriber.trigger.batchSize,
    maxConcurrency: options.transcriberConcurrency ?? fns.transcriber.trigger.maxConcurrency,
    handler: transcriberHandler(ctx),
    timeoutMs: timeoutMs("transcriber"),
  });
  runner.addSqsSource({
    name: "stitcher",
    queueUrl: resources.queues.stitch.url,
    queueArn: resources.queues.stitch.arn,
    batchSize: fns.stitcher.trigger.batchSize,
    maxConcurrency: fns.stitcher.trigger.maxConcurrency,
    handler: stitcherHandler(ctx),
    timeoutMs: timeoutMs("stitcher"),
  });
  for (const queue of fns.deadLetter.trigger.queues) {
    runner.addSqsSource({
      name: `deadLetter:${queue}`,
      queueUrl: resources.queues[queue].dlqUrl,
      queueArn: resources.queues[queue].dlqArn,
      batchSize: fns.deadLetter.trigger.batchSize,
      maxConcurrency: 1,
      handler: deadLetter,
      timeoutMs: timeoutMs("deadLetter"),
    });
  }

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
