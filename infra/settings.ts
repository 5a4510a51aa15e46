/**
 * The deploy-time settings of the stack: typed props with defaults taken from
 * the wiring, readable from CDK context (`cdk.json` or `-c stt:<name>=...`).
 * Everything is validated here, once, so a bad value fails `cdk synth` with a
 * message instead of failing a Lambda at 3 a.m.
 */
import { z } from "zod";
import { OPTION_LIMITS, overlapFitsChunk } from "../shared/domain/options/options.js";
import { DEFAULT_BACKOFF_MAX_MS } from "../shared/provider/client.js";
import { DEFAULTS, wiring, type FunctionId, type FunctionSpec } from "../shared/wiring.js";
import { DEFAULT_PRICES, type Prices } from "../shared/domain/jobs/cost-estimate.js";

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
  /**
   * Deleting an object from the input bucket deletes the jobs made from it: their transcripts, work objects,
   * utterance items and records (erasure requests). Off: jobs outlive their recordings until they expire.
   */
  deleteJobsWithSource: boolean;
  /**
   * Every job is redacted (as with `redact=pii`) and only the redacted outputs are kept: the original
   * transcripts are not written and the utterance items hold the redacted text.
   */
  redactionMandatory: boolean;
  /**
   * The most bytes a recording by URL may be (a `*.url.json` pointer in the input bucket): checked against
   * Content-Length, then counted while it is copied into the work bucket.
   */
  urlMaxBytes: number;
  /**
   * Prices in US dollars, for the cost each job's record and notification show and for the cost caps
   * (shared/domain/jobs/cost-estimate.ts). Defaults: Together's openai/whisper-large-v3 ($0.0015 per audio
   * minute) and Lambda x86 in us-east-1 ($0.0000166667 per GB-second, $0.20 per million requests).
   */
  prices: Prices;
  /**
   * The longest recording accepted, hours: a longer one ends FAILED with the reason at the probe, before any
   * segment is sent (a file whose header hides its length is stopped when decoding passes it).
   */
  maxRecordingHours: number;
  /**
   * The most jobs transcribing at once: later ones wait as QUEUED (visible in the record and `stt status`) and
   * start, oldest first, as running ones end.
   */
  maxRunningJobs: number;
  /** A job's cost limit when its `max-cost` metadata sets none, US dollars; unset: none. */
  maxJobCost?: number;
  /** The most the deployment spends per UTC day (jobs' estimates reserved as they start), US dollars; unset: none. */
  maxDailyCost?: number;
}

/** The range AWS accepts for an SQS event source's maximum concurrency (providerMaxInFlight is the transcriber's). */
const MIN_SQS_CONCURRENCY = 2;
const MAX_SQS_CONCURRENCY = 1000;

/** The functions that call the provider (the ones with access to its key). */
const FUNCTION_SPECS = wiring.functions as Record<FunctionId, FunctionSpec>;
const PROVIDER_CALLERS = (Object.keys(FUNCTION_SPECS) as FunctionId[]).filter((id) => FUNCTION_SPECS[id].access.providerSecret);

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
  deleteJobsWithSource: false,
  redactionMandatory: false,
  urlMaxBytes: DEFAULTS.urlMaxBytes,
  maxRecordingHours: DEFAULTS.maxRecordingHours,
  maxRunningJobs: DEFAULTS.maxRunningJobs,
  prices: DEFAULT_PRICES,
};

/** The values CloudWatch Logs accepts for a log group's retention. */
const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
];

type Limits = { readonly min: number; readonly max: number };

/** A number within limits; `integer` demands a whole one. Out of range is reported beside other problems. */
function numberSetting(name: keyof PipelineSettings, { min, max }: Limits, integer: boolean) {
  const problem = (input: unknown) =>
    integer ? `${name} must be an integer in [${min}, ${max}], got ${String(input)}` : `${name} must be in [${min}, ${max}], got ${String(input)}`;
  return z
    .number({ error: (issue) => problem(issue.input) })
    .refine((v) => (!integer || Number.isInteger(v)) && v >= min && v <= max, { error: (issue) => problem(issue.input) });
}

/** A text setting in a given form, or unset. */
function textSetting(pattern: RegExp, problem: (value: string) => string) {
  return z
    .string()
    .regex(pattern, { error: (issue) => problem(String(issue.input)) })
    .optional();
}

/**
 * What the stack accepts: each setting on its own, then the rules between them (which are checked even when
 * another setting is wrong, so one synth lists every problem).
 */
const settingsSchema = z
  .object({
    providerBaseUrl: z
      .string()
      .refine((v) => URL.canParse(v), { error: (issue) => `providerBaseUrl is not a URL: ${String(issue.input)}`, abort: true })
      .refine((v) => new URL(v).protocol === "https:", { error: (issue) => `providerBaseUrl must use https, got ${String(issue.input)}` }),
    model: z.string().refine((v) => v.trim().length > 0, { error: "model must not be empty" }),
    // The same limits a per-file option (S3 metadata) is held to.
    chunkSeconds: numberSetting("chunkSeconds", OPTION_LIMITS.chunkSeconds, false),
    overlapSeconds: numberSetting("overlapSeconds", OPTION_LIMITS.overlapSeconds, false),
    // Also the transcriber's SQS maximum concurrency, which AWS holds to 2..1000.
    providerMaxInFlight: numberSetting("providerMaxInFlight", { min: MIN_SQS_CONCURRENCY, max: MAX_SQS_CONCURRENCY }, true),
    retentionDays: numberSetting("retentionDays", { min: 0, max: 3650 }, true),
    providerMaxAttempts: numberSetting("providerMaxAttempts", { min: 1, max: 10 }, true),
    providerTimeoutMs: numberSetting("providerTimeoutMs", { min: 1000, max: 900_000 }, true),
    logRetentionDays: z.number().refine((v) => LOG_RETENTION_DAYS.includes(v), {
      error: (issue) => `logRetentionDays must be one of ${LOG_RETENTION_DAYS.join(", ")}, got ${String(issue.input)}`,
    }),
    alarmEmail: textSetting(/^[^@\s]+@[^@\s]+\.[^@\s]+$/, (v) => `alarmEmail is not an e-mail address: ${v}`),
    providerSecretName: textSetting(/^[A-Za-z0-9/_+=.@-]{1,512}$/, (v) => `providerSecretName has characters Secrets Manager does not allow: ${v}`),
    realtimeCertificateArn: z.string().optional(),
    deleteJobsWithSource: z.boolean({ error: (issue) => `deleteJobsWithSource must be true or false, got ${String(issue.input)}` }),
    redactionMandatory: z.boolean({ error: (issue) => `redactionMandatory must be true or false, got ${String(issue.input)}` }),
    // 1 MiB..20 GiB: the copy and its decoding share the chunker's 15 minutes.
    urlMaxBytes: numberSetting("urlMaxBytes", { min: 1024 ** 2, max: 20 * 1024 ** 3 }, true),
    // Up to 72 h: the chunker cuts an hour in about 2 s (BENCHMARKS.md), so even 72 h ends well inside its 15 minutes.
    maxRecordingHours: numberSetting("maxRecordingHours", { min: 0.01, max: 72 }, false),
    maxRunningJobs: numberSetting("maxRunningJobs", { min: 1, max: 10_000 }, true),
    prices: z.object({
      providerPerAudioMinute: numberSetting("prices.providerPerAudioMinute" as keyof PipelineSettings, { min: 0, max: 100 }, false),
      lambdaPerGbSecond: numberSetting("prices.lambdaPerGbSecond" as keyof PipelineSettings, { min: 0, max: 1 }, false),
      lambdaPerRequest: numberSetting("prices.lambdaPerRequest" as keyof PipelineSettings, { min: 0, max: 1 }, false),
    }),
    maxJobCost: numberSetting("maxJobCost", OPTION_LIMITS.maxCost, false).optional(),
    maxDailyCost: numberSetting("maxDailyCost", { min: 0, max: 10_000_000 }, false).optional(),
  })
  .superRefine(
    (s, ctx) => {
      const problem = (message: string) => ctx.addIssue({ code: "custom", message, input: s });
      // The one overlap rule of the pipeline (domain/options/options.ts), as a file's own options are held to it.
      if (Number.isFinite(s.overlapSeconds) && Number.isFinite(s.chunkSeconds) && !overlapFitsChunk(s.overlapSeconds, s.chunkSeconds)) {
        problem(`overlapSeconds (${s.overlapSeconds}) must be less than chunkSeconds (${s.chunkSeconds})`);
      }
      // Every function that calls the provider must finish a segment request's retries in time.
      if (!Number.isFinite(s.providerMaxAttempts) || !Number.isFinite(s.providerTimeoutMs)) return;
      const budgetMs =
        s.providerMaxAttempts * s.providerTimeoutMs + (s.providerMaxAttempts - 1) * DEFAULT_BACKOFF_MAX_MS + INVOCATION_MARGIN_MS;
      for (const id of PROVIDER_CALLERS) {
        const timeoutMs = FUNCTION_SPECS[id].timeoutSeconds * 1000;
        if (budgetMs > timeoutMs) {
          problem(
            `providerMaxAttempts x providerTimeoutMs (+ backoff and ${INVOCATION_MARGIN_MS / 1000} s margin) = ${budgetMs / 1000} s exceeds the ${id} timeout of ${timeoutMs / 1000} s`,
          );
        }
      }
    },
    { when: () => true },
  ) satisfies z.ZodType<PipelineSettings>;

/** Fills defaults and validates; throws one error listing every problem. */
export function resolveSettings(partial: Partial<PipelineSettings> = {}): PipelineSettings {
  const defined = Object.fromEntries(Object.entries(partial).filter(([, v]) => v !== undefined));
  // Prices given in part (a context value for one of them) keep the defaults of the others.
  const prices = { ...DEFAULT_SETTINGS.prices, ...(partial.prices ?? {}) };
  const parsed = settingsSchema.safeParse({ ...DEFAULT_SETTINGS, ...defined, prices });
  if (!parsed.success) throw new Error(`invalid stack settings:\n- ${parsed.error.issues.map((issue) => issue.message).join("\n- ")}`);
  return parsed.data;
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
  // -c gives "true"/"false"; cdk.json a boolean. Anything else is passed on as it is, for the schema to refuse.
  const flag = (name: keyof PipelineSettings): boolean | undefined => {
    const v = tryGetContext(CONTEXT_PREFIX + name);
    if (v === undefined || v === null || v === "") return undefined;
    if (v === true || v === "true") return true;
    if (v === false || v === "false") return false;
    return v as boolean;
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
    deleteJobsWithSource: flag("deleteJobsWithSource"),
    redactionMandatory: flag("redactionMandatory"),
    prices: pricesFromContext(tryGetContext),
    maxJobCost: num("maxJobCost"),
    maxDailyCost: num("maxDailyCost"),
    urlMaxBytes: num("urlMaxBytes"),
    maxRecordingHours: num("maxRecordingHours"),
    maxRunningJobs: num("maxRunningJobs"),
  });
}

/**
 * `prices` from context: an object in cdk.json (`"stt:prices": {"providerPerAudioMinute": 0.006}`), JSON text
 * with `-c stt:prices='{"providerPerAudioMinute":0.006}'`, or one price with `-c stt:prices.providerPerAudioMinute=0.006`.
 * What is not given keeps its default.
 */
function pricesFromContext(tryGetContext: (key: string) => unknown): Prices {
  const whole = tryGetContext(`${CONTEXT_PREFIX}prices`);
  let prices: Record<string, unknown> = {};
  if (typeof whole === "string" && whole.trim() !== "") {
    try {
      prices = JSON.parse(whole) as Record<string, unknown>;
    } catch {
      throw new Error(`invalid stack settings:\n- ${CONTEXT_PREFIX}prices is not JSON: ${whole}`);
    }
  } else if (whole && typeof whole === "object") prices = { ...(whole as Record<string, unknown>) };
  for (const name of Object.keys(DEFAULT_PRICES)) {
    const one = tryGetContext(`${CONTEXT_PREFIX}prices.${name}`);
    if (one !== undefined && one !== null && one !== "") prices[name] = one;
  }
  const numbers = Object.fromEntries(Object.entries(prices).map(([name, value]) => [name, typeof value === "string" ? Number(value) : value]));
  return { ...DEFAULT_PRICES, ...numbers } as Prices;
}
