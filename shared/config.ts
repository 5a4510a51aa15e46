import { DEFAULTS, ENV, wiring } from "./wiring.js";

/** Resolved names of the resources a handler talks to. */
export interface PipelineConfig {
  inputBucket: string;
  workBucket: string;
  outputBucket: string;
  segmentsQueueUrl: string;
  stitchQueueUrl: string;
  table: string;
  topicArn: string;
  eventBusName?: string;
  provider: ProviderConfig;
  defaults: {
    /** Segment length of jobs that do not set one; with `segmentCap`, only for recordings without a known duration. */
    chunkSeconds: number;
    overlapSeconds: number;
    /**
     * Segments transcribed at once (the transcriber's concurrency). Set, jobs that do not set
     * chunk-seconds get a length from their duration and this cap (domain/segment-length.ts);
     * unset, they get `chunkSeconds`.
     */
    segmentCap?: number;
  };
  /** Provider requests in flight, the whole deployment together (segments and speaker probes). */
  providerMaxInFlight: number;
  ffmpegPath?: string;
  ffprobePath?: string;
  retentionDays?: number;
}

export interface ProviderConfig {
  baseUrl: string;
  model: string;
  /** Resolved lazily: from STT_API_KEY locally, from Secrets Manager in Lambda. */
  apiKey: () => Promise<string>;
  timeoutMs: number;
  maxAttempts: number;
}

type Env = Record<string, string | undefined>;

export function requireEnv(env: Env, name: string): string {
  const value = env[name];
  if (!value) throw new Error(`missing environment variable ${name}`);
  return value;
}

function numberEnv(env: Env, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value)) throw new Error(`environment variable ${name} is not a number: ${raw}`);
  return value;
}

/** Reads the configuration every handler shares; fails loudly at cold start when something is missing. */
export function configFromEnv(env: Env, apiKey: () => Promise<string>): PipelineConfig {
  return {
    inputBucket: requireEnv(env, ENV.inputBucket),
    workBucket: requireEnv(env, ENV.workBucket),
    outputBucket: requireEnv(env, ENV.outputBucket),
    segmentsQueueUrl: requireEnv(env, ENV.segmentsQueueUrl),
    stitchQueueUrl: requireEnv(env, ENV.stitchQueueUrl),
    table: requireEnv(env, ENV.table),
    topicArn: requireEnv(env, ENV.topicArn),
    eventBusName: env[ENV.eventBusName] || undefined,
    provider: {
      baseUrl: env[ENV.baseUrl] || DEFAULTS.baseUrl,
      model: env[ENV.model] || DEFAULTS.model,
      apiKey,
      timeoutMs: numberEnv(env, ENV.providerTimeoutMs, 120_000),
      maxAttempts: numberEnv(env, ENV.providerMaxAttempts, 4),
    },
    defaults: {
      chunkSeconds: numberEnv(env, ENV.chunkSeconds, DEFAULTS.chunkSeconds),
      overlapSeconds: numberEnv(env, ENV.overlapSeconds, DEFAULTS.overlapSeconds),
      // Planned for the provider cap: segments at once can be no more than requests at once.
      segmentCap: numberEnv(env, ENV.providerMaxInFlight, wiring.provider.maxInFlight),
    },
    providerMaxInFlight: numberEnv(env, ENV.providerMaxInFlight, wiring.provider.maxInFlight),
    ffmpegPath: env[ENV.ffmpegPath] || undefined,
    ffprobePath: env[ENV.ffprobePath] || undefined,
    retentionDays: env[ENV.retentionDays] ? numberEnv(env, ENV.retentionDays, 0) : undefined,
  };
}
