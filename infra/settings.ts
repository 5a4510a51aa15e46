/**
 * The deploy-time settings of the stack: typed props with defaults taken from
 * the wiring, readable from CDK context (`cdk.json` or `-c stt:<name>=...`).
 * Everything is validated here, once, so a bad value fails `cdk synth` with a
 * message instead of failing a Lambda at 3 a.m.
 */
import { OPTION_LIMITS } from "../shared/domain/options.js";
import { DEFAULTS, wiring, type FunctionId, type FunctionSpec } from "../shared/wiring.js";

export interface PipelineSettings {
  /** OpenAI-compatible provider endpoint, e.g. https://api.together.xyz/v1. */
  providerBaseUrl: string;
  /** Provider model id, e.g. openai/whisper-large-v3. */
  model: string;
  /** Default segment length in seconds (a per-file S3 metadata option may override it). */
  chunkSeconds: number;
  /** Default overlap between neighbouring segments, in seconds. */
  overlapSeconds: number;
  /**
   * The most requests the whole deployment has at the provider at once,
   * segment requests and speaker probes together: each holds a slot in the
   * jobs table while it is at the provider (shared/adapters/provider-slots.ts).
   * Providers rate-limit: set it to what your provider plan allows. It is also
   * the transcriber's SQS maximum concurrency (batch size 1: one segment
   * request per invocation), which AWS requires to be 2..1000.
   */
  providerMaxInFlight: number;
  /** Days after which job records and their utterances expire (DynamoDB TTL). 0 keeps them forever. */
  retentionDays: number;
  /** Per-request provider timeout, milliseconds. */
  providerTimeoutMs: number;
  /** Provider attempts per segment inside one invocation (the first included). */
  providerMaxAttempts: number;
  /** Days CloudWatch keeps function logs. Must be one of the values CloudWatch accepts. */
  logRetentionDays: number;
  /** If set, alarm notifications are e-mailed here (the subscription must be confirmed). */
  alarmEmail?: string;
  /**
   * Use an existing Secrets Manager secret (by name) for the provider API key
   * instead of creating one. It must be encrypted with the `aws/secretsmanager`
   * key or a key that grants the functions' roles kms:Decrypt.
   */
  providerSecretName?: string;
  /**
   * Deploy the realtime WebSocket gateway (ECS Fargate behind an ALB) with
   * this ACM certificate for wss://. Unset: no gateway (batch only).
   */
  realtimeCertificateArn?: string;
}

/** The range AWS accepts for an SQS event source's maximum concurrency (providerMaxInFlight is the transcriber's). */
const MIN_SQS_CONCURRENCY = 2;
const MAX_SQS_CONCURRENCY = 1000;

/** The functions that call the provider (the ones with access to its key). */
const FUNCTION_SPECS = wiring.functions as Record<FunctionId, FunctionSpec>;
const PROVIDER_CALLERS = (Object.keys(FUNCTION_SPECS) as FunctionId[]).filter((id) => FUNCTION_SPECS[id].access.providerSecret);

/** Longest backoff between provider attempts (ProviderClient's backoffMaxMs default). */
const PROVIDER_BACKOFF_MAX_MS = 20_000;
/** Time the transcriber needs around the provider call: download, parse, S3 and DynamoDB writes. */
const INVOCATION_MARGIN_MS = 30_000;

export const DEFAULT_SETTINGS: PipelineSettings = {
  providerBaseUrl: DEFAULTS.baseUrl,
  model: DEFAULTS.model,
  chunkSeconds: DEFAULTS.chunkSeconds,
  overlapSeconds: DEFAULTS.overlapSeconds,
  providerMaxInFlight: wiring.provider.maxInFlight,
  retentionDays: 90,
  // The batch provider budget, sized to end inside the transcriber's timeout (see DEFAULTS).
  providerTimeoutMs: DEFAULTS.providerTimeoutMs,
  providerMaxAttempts: DEFAULTS.providerMaxAttempts,
  logRetentionDays: 30,
};

/** The values CloudWatch Logs accepts for a log group's retention. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

/** Fills defaults and validates; throws one error listing every problem. */
export function resolveSettings(partial: Partial<PipelineSettings> = {}): PipelineSettings {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  const s: PipelineSettings = { ...DEFAULT_SETTINGS, ...defined };
  const problems: string[] = [];
  const integer = (name: keyof PipelineSettings, min: number, max: number) => {
    const v = s[name];
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      problems.push(`${name} must be an integer in [${min}, ${max}], got ${String(v)}`);
    }
  };

  try {
    const url = new URL(s.providerBaseUrl);
    if (url.protocol !== "https:") problems.push(`providerBaseUrl must use https, got ${s.providerBaseUrl}`);
  } catch {
    problems.push(`providerBaseUrl is not a URL: ${s.providerBaseUrl}`);
  }
  if (!s.model.trim()) problems.push("model must not be empty");
  // The same limits a per-file option (S3 metadata) is held to.
  const chunk = OPTION_LIMITS.chunkSeconds;
  const overlap = OPTION_LIMITS.overlapSeconds;
  if (!(s.chunkSeconds >= chunk.min && s.chunkSeconds <= chunk.max)) {
    problems.push(`chunkSeconds must be in [${chunk.min}, ${chunk.max}], got ${s.chunkSeconds}`);
  }
  if (!(s.overlapSeconds >= overlap.min && s.overlapSeconds <= overlap.max && s.overlapSeconds * 2 < s.chunkSeconds)) {
    problems.push(`overlapSeconds must be in [${overlap.min}, ${overlap.max}] and less than half of chunkSeconds, got ${s.overlapSeconds}`);
  }
  // Also the transcriber's SQS maximum concurrency, which AWS holds to 2..1000.
  integer("providerMaxInFlight", MIN_SQS_CONCURRENCY, MAX_SQS_CONCURRENCY);
  integer("retentionDays", 0, 3650);
  integer("providerMaxAttempts", 1, 10);
  integer("providerTimeoutMs", 1000, 900_000);
  if (!LOG_RETENTION_DAYS.includes(s.logRetentionDays)) {
    problems.push(`logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(", ")}, got ${s.logRetentionDays}`);
  }
  // Every function that calls the provider must finish a segment request's retries in time.
  for (const id of PROVIDER_CALLERS) {
    const budgetMs =
      s.providerMaxAttempts * s.providerTimeoutMs + (s.providerMaxAttempts - 1) * PROVIDER_BACKOFF_MAX_MS + INVOCATION_MARGIN_MS;
    const timeoutMs = FUNCTION_SPECS[id].timeoutSeconds * 1000;
    if (budgetMs > timeoutMs) {
      problems.push(
        `providerMaxAttempts x providerTimeoutMs (+ backoff and ${INVOCATION_MARGIN_MS / 1000} s margin) = ${budgetMs / 1000} s exceeds the ${id} timeout of ${timeoutMs / 1000} s`,
      );
    }
  }
  if (s.alarmEmail !== undefined && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(s.alarmEmail)) {
    problems.push(`alarmEmail is not an e-mail address: ${s.alarmEmail}`);
  }
  if (s.providerSecretName !== undefined && !/^[A-Za-z0-9/_+=.@-]{1,512}$/.test(s.providerSecretName)) {
    problems.push(`providerSecretName has characters Secrets Manager does not allow: ${s.providerSecretName}`);
  }
  if (problems.length) throw new Error(`invalid stack settings:\n- ${problems.join("\n- ")}`);
  return s;
}

/** Context keys, as written in cdk.json or passed with `-c`. */
export const CONTEXT_PREFIX = "stt:";

/** Settings that were renamed: a context value under the old name fails the synth with what to use instead. */
const RENAMED_SETTINGS: Record<string, string> = {
  transcriberMaxConcurrency:
    `set ${CONTEXT_PREFIX}providerMaxInFlight, the cap on all provider requests of the deployment (segment requests and speaker probes together), which is also the transcriber's SQS maximum concurrency`,
};

/**
 * Reads settings from CDK context. Values given with `-c` arrive as strings,
 * values from cdk.json keep their JSON type: numbers are parsed either way.
 */
export function settingsFromContext(tryGetContext: (key: string) => unknown): PipelineSettings {
  // A renamed setting would otherwise be ignored without a word, and the deployment run at the default cap.
  for (const [old, replacement] of Object.entries(RENAMED_SETTINGS)) {
    if (tryGetContext(CONTEXT_PREFIX + old) !== undefined) {
      throw new Error(`invalid stack settings:\n- ${CONTEXT_PREFIX}${old} is no longer read: ${replacement}`);
    }
  }
  const str = (name: keyof PipelineSettings): string | undefined => {
    const v = tryGetContext(CONTEXT_PREFIX + name);
    return v === undefined || v === null || v === "" ? undefined : String(v);
  };
  const num = (name: keyof PipelineSettings): number | undefined => {
    const v = str(name);
    return v === undefined ? undefined : Number(v);
  };
  return resolveSettings({
    providerBaseUrl: str("providerBaseUrl"),
    model: str("model"),
    chunkSeconds: num("chunkSeconds"),
    overlapSeconds: num("overlapSeconds"),
    providerMaxInFlight: num("providerMaxInFlight"),
    retentionDays: num("retentionDays"),
    providerTimeoutMs: num("providerTimeoutMs"),
    providerMaxAttempts: num("providerMaxAttempts"),
    logRetentionDays: num("logRetentionDays"),
    alarmEmail: str("alarmEmail"),
    providerSecretName: str("providerSecretName"),
    realtimeCertificateArn: str("realtimeCertificateArn"),
  });
}
