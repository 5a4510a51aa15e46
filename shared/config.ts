/**
 * The one configuration path: the environment contract (wiring.ts's ENV names, set by the CDK stack, by the
 * local stack from the resources it created, or by hand) -> typed config. The Lambdas, the local stack and
 * the realtime gateway read it here, with the defaults of wiring.ts's DEFAULTS, and the provider key through
 * one reader and one secret parser.
 */
import type { ProviderClientOptions } from "./provider/client.js";
import type { UrlFetchSettings } from "./sources/url-fetch.js";
import { DEFAULTS, ENV, LIVE_PROVIDER_BUDGET, wiring } from "./wiring.js";
import { DEFAULT_PRICES, type Prices } from "./domain/jobs/cost-estimate.js";

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
     * chunk-seconds get a length from their duration and this cap (domain/cutting/segment-length.ts);
     * unset, they get `chunkSeconds`.
     */
    segmentCap?: number;
  };
  /** Provider requests in flight, the whole deployment together (segments and speaker probes). */
  providerMaxInFlight: number;
  ffmpegPath?: string;
  ffprobePath?: string;
  retentionDays?: number;
  /**
   * The longest a retried message waits (the wiring's retryBackoff otherwise): a local stack run with a
   * short visibility timeout (tests) keeps its retries within it.
   */
  retryDelayCapSeconds?: number;
  /**
   * Recordings by URL (shared/sources/): the size limit from the environment. The local stack alone adds an
   * allow list of host:port and a trusted CA for its tests' own https server; no variable sets those.
   * Unset: the default limit.
   */
  urlSources?: UrlFetchSettings;
  /** Prices and cost caps (pipeline/cost-cap.ts); unset: the default prices, no caps. */
  cost?: CostSettings;
  /** Every job redacted, and only the redacted outputs and utterances kept (STT_REDACTION_MANDATORY=true). */
  redactionMandatory?: boolean;
  /** The longest recording a job may be, seconds (DEFAULTS.maxRecordingHours when unset). */
  maxRecordingSeconds?: number;
  /** The most jobs transcribing at once; later ones wait as QUEUED (STT_MAX_RUNNING_JOBS, else DEFAULTS.maxRunningJobs). */
  maxRunningJobs: number;
}

/** What jobs cost and how much they may: prices in US dollars, and the caps (none when unset). */
export interface CostSettings {
  prices: Prices;
  /** A job's limit when its own `max-cost` metadata sets none. */
  maxJobCost?: number;
  /** The most the deployment spends per UTC day, jobs' estimates reserved as they start. */
  maxDailyCost?: number;
}

/** The cost settings from the environment (STT_PRICE_*, STT_MAX_JOB_COST, STT_MAX_DAILY_COST). */
export function costSettingsFromEnv(env: Env): CostSettings {
  const optional = (name: string) => (env[name] ? numberEnv(env, name, 0) : undefined);
  return {
    prices: {
      providerPerAudioMinute: numberEnv(env, ENV.priceProviderPerAudioMinute, DEFAULT_PRICES.providerPerAudioMinute),
      lambdaPerGbSecond: numberEnv(env, ENV.priceLambdaPerGbSecond, DEFAULT_PRICES.lambdaPerGbSecond),
      lambdaPerRequest: numberEnv(env, ENV.priceLambdaPerRequest, DEFAULT_PRICES.lambdaPerRequest),
    },
    maxJobCost: optional(ENV.maxJobCost),
    maxDailyCost: optional(ENV.maxDailyCost),
  };
}

export interface ProviderConfig {
  baseUrl: string;
  model: string;
  /** Resolved lazily: from Secrets Manager where the secret's ARN is set (AWS), else from STT_API_KEY. */
  apiKey: () => Promise<string>;
  timeoutMs: number;
  maxAttempts: number;
}

export type Env = Readonly<Record<string, string | undefined>>;

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
export function configFromEnv(env: Env, apiKey: () => Promise<string> = providerKeyFromEnv(env)): PipelineConfig {
  const providerMaxInFlight = numberEnv(env, ENV.providerMaxInFlight, wiring.provider.maxInFlight);
  return {
    inputBucket: requireEnv(env, ENV.inputBucket),
    workBucket: requireEnv(env, ENV.workBucket),
    outputBucket: requireEnv(env, ENV.outputBucket),
    segmentsQueueUrl: requireEnv(env, ENV.segmentsQueueUrl),
    stitchQueueUrl: requireEnv(env, ENV.stitchQueueUrl),
    table: requireEnv(env, ENV.table),
    topicArn: requireEnv(env, ENV.topicArn),
    eventBusName: env[ENV.eventBusName] || undefined,
    provider: providerConfigFromEnv(env, apiKey),
    defaults: {
      chunkSeconds: numberEnv(env, ENV.chunkSeconds, DEFAULTS.chunkSeconds),
      overlapSeconds: numberEnv(env, ENV.overlapSeconds, DEFAULTS.overlapSeconds),
      // Planned for the provider cap: segments at once can be no more than requests at once.
      segmentCap: providerMaxInFlight,
    },
    providerMaxInFlight,
    ffmpegPath: env[ENV.ffmpegPath] || undefined,
    ffprobePath: env[ENV.ffprobePath] || undefined,
    retentionDays: env[ENV.retentionDays] ? numberEnv(env, ENV.retentionDays, 0) : undefined,
    urlSources: { maxBytes: numberEnv(env, ENV.urlMaxBytes, DEFAULTS.urlMaxBytes) },
    cost: costSettingsFromEnv(env),
    redactionMandatory: env[ENV.redactionMandatory] === "true",
    maxRecordingSeconds: numberEnv(env, ENV.maxRecordingHours, DEFAULTS.maxRecordingHours) * 3600,
    maxRunningJobs: numberEnv(env, ENV.maxRunningJobs, DEFAULTS.maxRunningJobs),
  };
}

/** The provider settings of the batch pipeline (the gateway takes its endpoint and key from here too). */
export function providerConfigFromEnv(env: Env, apiKey: () => Promise<string> = providerKeyFromEnv(env)): ProviderConfig {
  return {
    baseUrl: env[ENV.baseUrl] || DEFAULTS.baseUrl,
    model: env[ENV.model] || DEFAULTS.model,
    apiKey,
    timeoutMs: numberEnv(env, ENV.providerTimeoutMs, DEFAULTS.providerTimeoutMs),
    maxAttempts: numberEnv(env, ENV.providerMaxAttempts, DEFAULTS.providerMaxAttempts),
  };
}

/** The realtime gateway's provider client: the pipeline's endpoint and key, the live budget (wiring.ts). */
export function liveProviderOptions(provider: Pick<ProviderConfig, "baseUrl" | "apiKey">): ProviderClientOptions {
  return { baseUrl: provider.baseUrl, apiKey: provider.apiKey, ...LIVE_PROVIDER_BUDGET };
}

/** Secrets are read through one cached reader: a rotated value is picked up within 5 minutes, and never fetched per request. */
export const SECRET_MAX_AGE_SECONDS = 300;

/** Reads a secret's string by ARN; Secrets Manager through Powertools' cache unless a test passes its own. */
export type SecretReader = (arn: string) => Promise<string | undefined>;

const secretsManager: SecretReader = async (arn) => {
  // Loaded on first use (~100 ms of module loading): the local stack and the CLI never read a secret.
  const { getSecret } = await import("@aws-lambda-powertools/parameters/secrets");
  return getSecret<string>(arn, { maxAge: SECRET_MAX_AGE_SECONDS });
};

/**
 * A secret value: from Secrets Manager when the variable `arnName` holds an ARN (AWS: the function or task
 * gets only the ARN), else from the first of `plainNames` that is set (local). Read on use, not at start.
 */
export function secretFromEnv(env: Env, arnName: string, plainNames: readonly string[], read: SecretReader = secretsManager): () => Promise<string> {
  return async () => {
    const arn = env[arnName];
    if (!arn) {
      const plain = plainNames.map((name) => env[name]).find(Boolean);
      if (!plain) throw new Error(`missing environment variable ${plainNames[0]}`);
      return plain;
    }
    const value = (await read(arn))?.trim();
    if (!value) throw new Error(`secret ${arnName} is empty`);
    return value;
  };
}

/** The provider key given in plain text (STT_API_KEY, else TOGETHER_API_KEY); undefined when neither is set. */
export function plainProviderKey(env: Env): string | undefined {
  return env[ENV.apiKey] || env[ENV.apiKeyFallback] || undefined;
}

/** The provider key, from the secret named by STT_API_KEY_SECRET_ARN or from the plain variables. */
export function providerKeyFromEnv(env: Env, read: SecretReader = secretsManager): () => Promise<string> {
  const fromSecret = secretFromEnv(env, ENV.apiKeySecretArn, [], read);
  return async () => {
    if (!env[ENV.apiKeySecretArn]) {
      const plain = plainProviderKey(env);
      if (!plain) throw new Error(`missing environment variable ${ENV.apiKey}`);
      return plain;
    }
    return parseProviderSecret(await fromSecret());
  };
}

/**
 * The provider key in a secret: the bare key, or JSON as the console's key/value editor writes it
 * ({"apiKey": "..."}, "api_key", "key", else the first value).
 */
export function parseProviderSecret(value: string): string {
  const trimmed = value.trim();
  if (!trimmed.startsWith("{")) return trimmed;
  let json: Record<string, unknown>;
  try {
    json = JSON.parse(trimmed) as Record<string, unknown>;
  } catch {
    throw new Error("provider API key secret looks like JSON but does not parse");
  }
  const key = json.apiKey ?? json.api_key ?? json.key ?? Object.values(json)[0];
  if (typeof key !== "string" || !key.trim()) throw new Error("provider API key secret has no key field");
  return key.trim();
}
