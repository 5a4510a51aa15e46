/**
 * The Lambda composition root: what a function builds once per container (logger, metrics, tracer, AWS
 * clients, config, the pipeline context) and the Powertools middlewares every handler runs under. The local
 * stack builds its own context (local/stack.ts) from the same createContext, without these.
 */
import middy from "@middy/core";
import type { Context } from "aws-lambda";
import { Logger } from "@aws-lambda-powertools/logger";
import { injectLambdaContext } from "@aws-lambda-powertools/logger/middleware";
import { Tracer } from "@aws-lambda-powertools/tracer";
import { captureLambdaHandler } from "@aws-lambda-powertools/tracer/middleware";
import { createClients, type PipelineClients } from "../clients.js";
import { configFromEnv } from "../config.js";
import { ffmpegPaths } from "../audio/ffmpeg.js";
import { createContext, type PipelineContext } from "../pipeline/context.js";
import { jobIdOf } from "../pipeline/messages.js";
import type { ProviderClientOptions } from "../provider/client.js";
import { wiring, type FunctionId } from "../wiring.js";
import { PowertoolsPipelineMetrics } from "./pipeline-metrics.js";

/** Logs, metrics and traces of one function, each under its service name. */
export interface LambdaObservability {
  serviceName: string;
  logger: Logger;
  metrics: PowertoolsPipelineMetrics;
  /** Sends nothing outside Lambda, or with POWERTOOLS_TRACE_ENABLED=false (Powertools decides). */
  tracer: Tracer;
}

export function lambdaObservability(functionId: FunctionId): LambdaObservability {
  // The name the function construct sets as POWERTOOLS_SERVICE_NAME; the fallback spells it the same way.
  const serviceName = process.env.POWERTOOLS_SERVICE_NAME || `stt-${wiring.functions[functionId].entry}`;
  const logger = new Logger({ serviceName });
  return {
    serviceName,
    logger,
    metrics: new PowertoolsPipelineMetrics(serviceName, logger),
    tracer: new Tracer({ serviceName }),
  };
}

type Handler<E, R> = (event: E, context: Context) => Promise<R>;

/**
 * A function's handler: `build` runs once, at the first invocation (so importing a handler reads no
 * environment), under Powertools' middlewares: the invocation's trace segment, the Lambda context on every
 * log line (injectLambdaContext), and the metrics the invocation stored, flushed when it ends.
 */
export function lambdaHandler<E, R>(functionId: FunctionId, build: (ctx: PipelineContext) => Handler<E, R>) {
  const o = lambdaObservability(functionId);
  let handle: Handler<E, R> | undefined;
  return middy(async (event: E, context: Context): Promise<R> => {
    annotateJob(o.tracer, event);
    handle ??= build(lambdaContext(o));
    return handle(event, context);
  })
    .use(captureLambdaHandler(o.tracer, { captureResponse: false }))
    .use(injectLambdaContext(o.logger, { resetKeys: true }))
    // Not Powertools' logMetrics: it warns on every invocation that measured nothing (a chunker run, a sweep).
    .use({ after: () => o.metrics.flush(), onError: () => o.metrics.flush() });
}

/**
 * Clients, config and context built once per container. The provider key is read on use, from the secret
 * whose ARN the function gets (config.ts: one cached reader), so a rotated key needs no redeploy.
 */
export function lambdaContext(o: LambdaObservability): PipelineContext {
  const config = configFromEnv(process.env);
  const ffmpeg = ffmpegPaths({ ffmpeg: config.ffmpegPath, ffprobe: config.ffprobePath });
  return createContext(config, tracedClients(o.tracer, createClients()), ffmpeg, o.logger, {
    metrics: o.metrics,
    traceProviderRequest: providerSubsegment(o.tracer),
  });
}

/** Each AWS call as a subsegment of the invocation's trace (a no-op when tracing is off). */
function tracedClients(tracer: Tracer, clients: PipelineClients): PipelineClients {
  // The document client shares its middleware stack with the DynamoDB client it wraps: capturing it traces both.
  return {
    s3: tracer.captureAWSv3Client(clients.s3),
    sqs: tracer.captureAWSv3Client(clients.sqs),
    dynamo: tracer.captureAWSv3Client(clients.dynamo),
    sns: tracer.captureAWSv3Client(clients.sns),
    events: clients.events && tracer.captureAWSv3Client(clients.events),
  };
}

/**
 * A subsegment around each provider request (one attempt), annotated with the model and attempt, so X-Ray
 * shows the provider's share of an invocation and can be searched by model. The HTTP call itself (undici)
 * appears inside it, traced by Powertools. Undefined when tracing is off: the client then calls directly.
 */
export function providerSubsegment(tracer: Tracer): ProviderClientOptions["traceRequest"] {
  if (!tracer.isTracingEnabled()) return undefined;
  return <T>(info: { model: string; attempt: number; audioSeconds: number }, request: () => Promise<T>) =>
    tracer.provider.captureAsyncFunc("### provider request", async (subsegment) => {
      subsegment?.addAnnotation("model", info.model);
      subsegment?.addAnnotation("attempt", info.attempt);
      subsegment?.addMetadata("audioSeconds", info.audioSeconds);
      try {
        return await request();
      } catch (error) {
        subsegment?.addError(error as Error);
        throw error;
      } finally {
        subsegment?.close();
      }
    }) as Promise<T>;
}

/** The job an SQS invocation works on, as a trace annotation (X-Ray: annotation.jobId = "<jobId>"), when it is one job. */
function annotateJob(tracer: Tracer, event: unknown): void {
  if (!tracer.isTracingEnabled()) return;
  const records = (event as { Records?: Array<{ body?: unknown }> }).Records ?? [];
  const jobIds = new Set(records.map((r) => (typeof r.body === "string" ? jobIdOf(r.body) : undefined)));
  const [jobId] = jobIds;
  if (jobIds.size === 1 && jobId) tracer.putAnnotation("jobId", jobId);
}
