import { z } from "zod";
import { DEFAULTS } from "../wiring.js";
import { PermanentError } from "../errors.js";
import { OUTPUT_FORMATS, type OutputFormat } from "./types.js";
import { ISO_639_1, normalizeLanguage } from "./languages.js";
import { decodeMetadataValue, encodeMetadataValue } from "./metadata-encoding.js";

export type Task = "transcribe" | "translate";

/** What a caller may ask of one job, through the uploaded object's S3 user metadata. */
export interface JobOptions {
  /** ISO 639-1 code, or "auto" to let the model detect it. */
  language: string;
  prompt?: string;
  /** 0..1; absent means the provider's default. */
  temperature?: number;
  model: string;
  task: Task;
  diarize: boolean;
  minSpeakers?: number;
  maxSpeakers?: number;
  /**
   * Seconds of audio per segment, or "auto" to let the chunker choose from the
   * recording's duration and the provider cap (domain/segment-length.ts).
   */
  chunkSeconds: number | "auto";
  overlapSeconds: number;
  /** Output format the CLI shows by default; every format is written anyway. */
  format: OutputFormat;
}

export type ParsedOptions = { ok: true; options: JobOptions } | { ok: false; reason: string };

/** Options as the job record stores them (parseJobOptions' output, written by the chunker). */
const storedOptionsSchema = z.object({
  language: z.string(),
  prompt: z.string().optional(),
  temperature: z.number().optional(),
  model: z.string(),
  task: z.enum(["transcribe", "translate"]),
  diarize: z.boolean(),
  minSpeakers: z.number().int().optional(),
  maxSpeakers: z.number().int().optional(),
  chunkSeconds: z.union([z.number(), z.literal("auto")]),
  overlapSeconds: z.number(),
  format: z.enum(OUTPUT_FORMATS as unknown as [OutputFormat, ...OutputFormat[]]),
});

/**
 * A job record's options, read back from the table. Only a job whose options
 * parsed gets past CHUNKING, so for every later step they are valid; a record
 * that says otherwise was written by something else and cannot be processed.
 */
export function storedJobOptions(value: unknown): JobOptions {
  const parsed = storedOptionsSchema.safeParse(value);
  if (!parsed.success) {
    throw new PermanentError("bad_job_record", `the job record's options are not valid: ${parsed.error.issues[0]?.message ?? "unknown"}`);
  }
  return parsed.data;
}

/**
 * The metadata key the realtime gateway puts on a session's recording (`realtime/<sessionId>.flac`), naming
 * the session. Not an option of the transcription (so not part of the job id): it tells the job which
 * session item to report its cost to when it completes (finish-job.ts).
 */
export const REALTIME_SESSION_KEY = "realtime-session";

/** A gateway session id (`sess_` and letters or digits), as it stands in the session item's key `SESSION#<id>`. */
export const realtimeSessionIdSchema = z.string().regex(/^sess_[A-Za-z0-9]{1,64}$/);

/** The realtime session an object's metadata names: absent, a valid id, or a value that is not one. */
export function realtimeSessionOf(
  metadata: Readonly<Record<string, string>>,
): { sessionId?: string } | { invalid: string } {
  const raw = readMetadata(metadata).get(REALTIME_SESSION_KEY);
  if (raw === undefined) return {};
  const parsed = realtimeSessionIdSchema.safeParse(raw);
  return parsed.success ? { sessionId: parsed.data } : { invalid: raw.slice(0, 80) };
}

/** The metadata keys, as S3 returns them (lowercase, without x-amz-meta-). */
export const OPTION_KEYS = [
  "language", "prompt", "temperature", "model", "task", "diarize",
  "min-speakers", "max-speakers", "chunk-seconds", "overlap-seconds", "format",
] as const;

export const OPTION_LIMITS = {
  temperature: { min: 0, max: 1 },
  speakers: { min: 1, max: 20 },
  chunkSeconds: { min: 20, max: 1200 },
  overlapSeconds: { min: 0, max: 30 },
} as const;

export const DEFAULT_JOB_OPTIONS: JobOptions = {
  language: "auto",
  model: DEFAULTS.model,
  task: "transcribe",
  // Meetings and calls are why people use this: diarization is on unless turned off.
  diarize: true,
  // An explicit length (metadata, or a deployment's fixed default) always wins over this.
  chunkSeconds: "auto",
  overlapSeconds: DEFAULTS.overlapSeconds,
  format: "verbose_json",
};

/**
 * Reads and validates the job options from S3 user metadata. Missing keys take
 * `defaults` (then DEFAULT_JOB_OPTIONS; `defaultModel` for the model); keys we do
 * not know are ignored, since other tools put their own metadata on objects. Every
 * problem is reported at once, in words a caller can act on.
 */
export function parseJobOptions(
  metadata: Readonly<Record<string, string>>,
  defaults: Partial<JobOptions> = {},
  defaultModel?: string,
): ParsedOptions {
  const meta = readMetadata(metadata);
  const base: JobOptions = { ...DEFAULT_JOB_OPTIONS, ...(defaultModel ? { model: defaultModel } : {}), ...defined(defaults) };
  const problems: string[] = [];
  const problem = (text: string) => problems.push(text);

  const options: JobOptions = {
    language: parseLanguage(meta.get("language"), problem) ?? base.language,
    model: parseModel(meta.get("model"), problem) ?? base.model,
    task: parseChoice(meta.get("task"), "task", ["transcribe", "translate"] as const, problem) ?? base.task,
    diarize: parseBoolean(meta.get("diarize"), "diarize", problem) ?? base.diarize,
    chunkSeconds: parseChunkSeconds(meta.get("chunk-seconds"), problem) ?? base.chunkSeconds,
    overlapSeconds:
      parseNumber(meta.get("overlap-seconds"), "overlap-seconds", OPTION_LIMITS.overlapSeconds, problem) ?? base.overlapSeconds,
    format: parseChoice(meta.get("format"), "format", OUTPUT_FORMATS, problem) ?? base.format,
  };
  const prompt = meta.get("prompt") ?? base.prompt;
  if (prompt !== undefined && prompt.length > 0) options.prompt = prompt;
  const temperature = parseNumber(meta.get("temperature"), "temperature", OPTION_LIMITS.temperature, problem) ?? base.temperature;
  if (temperature !== undefined) options.temperature = temperature;
  const minSpeakers = parseNumber(meta.get("min-speakers"), "min-speakers", OPTION_LIMITS.speakers, problem, true) ?? base.minSpeakers;
  if (minSpeakers !== undefined) options.minSpeakers = minSpeakers;
  const maxSpeakers = parseNumber(meta.get("max-speakers"), "max-speakers", OPTION_LIMITS.speakers, problem, true) ?? base.maxSpeakers;
  if (maxSpeakers !== undefined) options.maxSpeakers = maxSpeakers;

  if (minSpeakers !== undefined && maxSpeakers !== undefined && maxSpeakers < minSpeakers) {
    problem(`max-speakers (${maxSpeakers}) must be at least min-speakers (${minSpeakers})`);
  }
  // The overlap is context around a segment's own stretch (half on each side), so it only has to be shorter than the chunk.
  // An automatic length is checked by the chunker once it is known (it is at least 60 s when the duration is).
  if (options.chunkSeconds !== "auto" && options.overlapSeconds >= options.chunkSeconds) {
    problem(`overlap-seconds (${options.overlapSeconds}) must be less than chunk-seconds (${options.chunkSeconds})`);
  }
  return problems.length > 0 ? { ok: false, reason: problems.join("; ") } : { ok: true, options };
}

/** The metadata that parses back to exactly these options. */
export function optionsToMetadata(options: JobOptions): Record<string, string> {
  const meta: Record<string, string> = {
    language: options.language,
    model: options.model,
    task: options.task,
    diarize: String(options.diarize),
    "chunk-seconds": String(options.chunkSeconds),
    "overlap-seconds": String(options.overlapSeconds),
    format: options.format,
  };
  if (options.prompt !== undefined) meta.prompt = encodeMetadataValue(options.prompt);
  if (options.temperature !== undefined) meta.temperature = String(options.temperature);
  if (options.minSpeakers !== undefined) meta["min-speakers"] = String(options.minSpeakers);
  if (options.maxSpeakers !== undefined) meta["max-speakers"] = String(options.maxSpeakers);
  return meta;
}

/**
 * One string per distinct set of options, the same whatever order the fields
 * were set in, for hashing into job ids: the same upload with the same options
 * is the same job, with other options another one. An automatic segment length
 * is `"chunkSeconds":"auto"` here, whatever length it comes to, so asking for
 * "auto" and asking for the length it would pick are two jobs.
 */
export function canonicalOptions(options: JobOptions): string {
  const entries = Object.entries(options)
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(Object.fromEntries(entries));
}

function readMetadata(metadata: Readonly<Record<string, string>>): Map<string, string> {
  const meta = new Map<string, string>();
  for (const [rawKey, rawValue] of Object.entries(metadata)) {
    const key = rawKey.toLowerCase().replace(/^x-amz-meta-/, "");
    if (typeof rawValue !== "string") continue;
    const value = decodeMetadataValue(rawValue).trim();
    // An empty value is how some clients say "not set".
    if (value.length > 0) meta.set(key, value);
  }
  return meta;
}

function defined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as Partial<T>;
}

type Report = (problem: string) => void;

function parseLanguage(raw: string | undefined, problem: Report): string | undefined {
  if (raw === undefined) return undefined;
  const value = raw.toLowerCase();
  if (value === "auto" || ISO_639_1.has(value)) return value;
  const suggestion = normalizeLanguage(value);
  problem(
    `language '${raw}' is not an ISO 639-1 code` +
      (suggestion ? ` (did you mean '${suggestion}'?)` : "") +
      `: use a two-letter code such as 'en', 'es', 'de', or 'auto'`,
  );
  return undefined;
}

/** A length in seconds, or "auto" (also what the metadata of optionsToMetadata says for an automatic length). */
function parseChunkSeconds(raw: string | undefined, problem: Report): number | "auto" | undefined {
  if (raw?.toLowerCase() === "auto") return "auto";
  return parseNumber(raw, "chunk-seconds", OPTION_LIMITS.chunkSeconds, (text) => problem(`${text}, or 'auto'`));
}

function parseModel(raw: string | undefined, problem: Report): string | undefined {
  if (raw === undefined) return undefined;
  if (/^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/.test(raw)) return raw;
  problem(`model '${raw}' is not a model name like '${DEFAULTS.model}'`);
  return undefined;
}

function parseChoice<T extends string>(raw: string | undefined, key: string, choices: readonly T[], problem: Report): T | undefined {
  if (raw === undefined) return undefined;
  const value = raw.toLowerCase();
  const match = choices.find((c) => c === value);
  if (match === undefined) problem(`${key} '${raw}' must be one of ${choices.join(", ")}`);
  return match;
}

function parseBoolean(raw: string | undefined, key: string, problem: Report): boolean | undefined {
  if (raw === undefined) return undefined;
  const value = raw.toLowerCase();
  if (value === "true") return true;
  if (value === "false") return false;
  problem(`${key} '${raw}' must be true or false`);
  return undefined;
}

/** A number within limits; `whole` demands an integer (speaker counts). */
function parseNumber(
  raw: string | undefined,
  key: string,
  limits: { min: number; max: number },
  problem: Report,
  whole = false,
): number | undefined {
  if (raw === undefined) return undefined;
  const pattern = whole ? /^\+?\d+$/ : /^[+-]?(\d+\.?\d*|\.\d+)$/;
  const value = pattern.test(raw) ? Number(raw) : NaN;
  if (Number.isFinite(value) && value >= limits.min && value <= limits.max) return value;
  problem(`${key} '${raw}' must be a ${whole ? "whole number" : "number"} from ${limits.min} to ${limits.max}`);
  return undefined;
}
