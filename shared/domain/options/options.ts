import { z } from "zod";
import { DEFAULTS } from "../../wiring.js";
import { PermanentError } from "../../errors.js";
import { OUTPUT_FORMATS, type OutputFormat } from "../types.js";
import { AUTO_LANGUAGE, isLanguageChoice, normalizeLanguage } from "./languages.js";
import { decodeMetadataValue } from "./metadata-encoding.js";
import { languageOptionsProblem, parseLanguageOptions } from "../languages/language-options.js";
import { FILTER_METHODS, type FilterMethod } from "../vocabulary/filter-words.js";
import { channelsText } from "../channels/channel-names.js";

export const TASKS = ["transcribe", "translate"] as const;
export type Task = (typeof TASKS)[number];

/** What a job's `chunk-seconds` says to let the chunker choose the length (domain/cutting/segment-length.ts). */
export const AUTO_LENGTH = "auto";

/** What a caller may ask of one job, through the uploaded object's S3 user metadata. */
export interface JobOptions {
  /** ISO 639-1 code, or "auto" to let the model detect it. */
  language: string;
  /**
   * `language-options=en,de,fr`: with language "auto", the languages a segment may be heard in (2..10 ISO
   * 639-1 codes, the most likely first); a segment heard in another is asked again (domain/languages/).
   */
  languageOptions?: string[];
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
   * recording's duration and the provider cap (domain/cutting/segment-length.ts).
   */
  chunkSeconds: number | typeof AUTO_LENGTH;
  overlapSeconds: number;
  /** Output format the CLI shows by default; every format is written anyway. */
  format: OutputFormat;
  /**
   * Enrolled voices to name in the transcript (`stt voices add`, or `voices/<name>.<ext>` in the input
   * bucket): names in the order given, or `["*"]` for every registered voice. Needs diarization.
   */
  speakers?: string[];
  /**
   * The most this job may cost, in US dollars (metadata `max-cost`): a recording estimated above it fails
   * before any of it is sent to the provider (pipeline/cost-cap.ts). Absent: the deployment's `maxJobCost`.
   */
  maxCost?: number;
  /** A registered custom vocabulary (`stt vocabulary add`, or `vocabularies/<name>.txt`): prompt terms and spelling fixes. */
  vocabulary?: string;
  /** A registered vocabulary filter (`stt vocabulary add --filter`, or `vocabulary-filters/<name>.txt`). */
  filter?: string;
  /** What the filter does to its words; set (default "mask") exactly when `filter` is. */
  filterMethod?: FilterMethod;
  /** "pii": redacted outputs (and audio) beside the originals (domain/redaction/). */
  redact?: Redact;
  /**
   * Channel identification (metadata `channels=agent,caller`): one name per channel of the recording; each
   * channel is transcribed on its own and its words carry its name (domain/channels/). Diarization inside
   * a channel is off unless `diarize=true` is given with it.
   */
  channels?: string[];
}

/** `redact=` values: personal data (e-mail addresses, phone, card, IBAN and other long numbers). */
export const REDACT_KINDS = ["pii"] as const;
export type Redact = (typeof REDACT_KINDS)[number];

export type ParsedOptions = { ok: true; options: JobOptions } | { ok: false; reason: string };

/** Options as the job record stores them (parseJobOptions' output, written by the chunker). */
const storedOptionsSchema: z.ZodType<JobOptions> = z.object({
  language: z.string(),
  languageOptions: z.array(z.string()).optional(),
  prompt: z.string().optional(),
  temperature: z.number().optional(),
  model: z.string(),
  task: z.enum(TASKS),
  diarize: z.boolean(),
  minSpeakers: z.number().int().optional(),
  maxSpeakers: z.number().int().optional(),
  chunkSeconds: z.union([z.number(), z.literal(AUTO_LENGTH)]),
  overlapSeconds: z.number(),
  format: z.enum(OUTPUT_FORMATS),
  speakers: z.array(z.string()).optional(),
  maxCost: z.number().optional(),
  vocabulary: z.string().optional(),
  filter: z.string().optional(),
  filterMethod: z.enum(FILTER_METHODS).optional(),
  redact: z.enum(REDACT_KINDS).optional(),
  channels: z.array(z.string()).optional(),
});

/**
 * A job record's options, read back from the table. Only a job whose options
 * parsed gets past CHUNKING, so for every later step they are valid; a record
 * that says otherwise was written by something else and cannot be processed.
 */
export function storedJobOptions(value: unknown): JobOptions {
  const parsed = storedOptionsSchema.safeParse(value);
  if (!parsed.success) {
    throw new PermanentError("bad_job_record", `the job record's options are not valid: ${issueText(parsed.error.issues[0])}`);
  }
  return parsed.data;
}

/** One zod issue as a reason: the field it is about, then what is wrong. */
export function issueText(issue: z.core.$ZodIssue | undefined): string {
  if (!issue) return "unknown";
  const field = issue.path.map(String).join(".");
  return field ? `${field}: ${issue.message}` : issue.message;
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

/**
 * An enrolled voice's name: what `voices/<name>.<ext>` and `speakers=<name>,...` carry. Letters, digits and
 * `-_.`, starting with a letter or digit, so it is safe as an S3 key part, a DynamoDB key and a label.
 */
export const VOICE_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/;
/** `speakers=*`: every voice registered when the job starts. */
export const ALL_VOICES = "*";
/** Names one job may ask for: each costs probe pieces in every naming probe. */
export const MAX_NAMED_SPEAKERS = 20;

export const OPTION_LIMITS = {
  temperature: { min: 0, max: 1 },
  speakers: { min: 1, max: 20 },
  chunkSeconds: { min: 20, max: 1200 },
  overlapSeconds: { min: 0, max: 30 },
  /** US dollars. */
  maxCost: { min: 0, max: 100_000 },
} as const;

/**
 * The overlap rule, for a job's options and a deployment's defaults alike: the overlap is context around a
 * segment's own stretch (half on each side), so it only has to be shorter than the segment.
 */
export function overlapFitsChunk(overlapSeconds: number, chunkSeconds: number): boolean {
  return overlapSeconds < chunkSeconds;
}

export const DEFAULT_JOB_OPTIONS: JobOptions = {
  language: AUTO_LANGUAGE,
  model: DEFAULTS.model,
  task: "transcribe",
  // Meetings and calls are why people use this: diarization is on unless turned off.
  diarize: true,
  // An explicit length (metadata, or a deployment's fixed default) always wins over this.
  chunkSeconds: AUTO_LENGTH,
  overlapSeconds: DEFAULTS.overlapSeconds,
  format: "verbose_json",
};

type Limits = { readonly min: number; readonly max: number };

const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)$/;
const WHOLE = /^\+?\d+$/;
const MODEL_NAME = /^[A-Za-z0-9][A-Za-z0-9._:/-]{0,199}$/;

function numberWithin(raw: string, limits: Limits, whole: boolean): boolean {
  const value = (whole ? WHOLE : DECIMAL).test(raw) ? Number(raw) : NaN;
  return Number.isFinite(value) && value >= limits.min && value <= limits.max;
}

function numberProblem(key: string, raw: unknown, limits: Limits, whole: boolean): string {
  return `${key} '${String(raw)}' must be a ${whole ? "whole number" : "number"} from ${limits.min} to ${limits.max}`;
}

/** A number within limits; `whole` demands an integer (speaker counts). */
function numberText(key: string, limits: Limits, whole = false) {
  return z
    .string()
    .refine((raw) => numberWithin(raw, limits, whole), { error: (issue) => numberProblem(key, issue.input, limits, whole) })
    .transform(Number);
}

/** One of a few words, in any case. */
function choiceText<T extends string>(key: string, choices: readonly T[]) {
  const find = (raw: string) => choices.find((choice) => choice === raw.toLowerCase());
  return z
    .string()
    .refine((raw) => find(raw) !== undefined, { error: (issue) => `${key} '${String(issue.input)}' must be one of ${choices.join(", ")}` })
    .transform((raw) => find(raw) as T);
}

function booleanText(key: string) {
  return z
    .string()
    .refine((raw) => /^(true|false)$/i.test(raw), { error: (issue) => `${key} '${String(issue.input)}' must be true or false` })
    .transform((raw) => raw.toLowerCase() === "true");
}

const languageText = z
  .string()
  .refine((raw) => isLanguageChoice(raw.toLowerCase()), {
    error: (issue) => {
      const raw = String(issue.input);
      const suggestion = normalizeLanguage(raw);
      return (
        `language '${raw}' is not an ISO 639-1 code` +
        (suggestion ? ` (did you mean '${suggestion}'?)` : "") +
        `: use a two-letter code such as 'en', 'es', 'de', or '${AUTO_LANGUAGE}'`
      );
    },
  })
  .transform((raw) => raw.toLowerCase());

/** `en,de,fr`: the languages a job with language=auto may be heard in (domain/languages/language-options.ts). */
const languageOptionsText = z.string().transform((raw, ctx): string[] => {
  const parsed = parseLanguageOptions(raw);
  if (parsed.ok) return parsed.codes;
  ctx.addIssue({ code: "custom", message: parsed.reason });
  return z.NEVER;
});

/** A length in seconds, or "auto" in any case. */
const chunkSecondsText = z
  .string()
  .refine((raw) => raw.toLowerCase() === AUTO_LENGTH || numberWithin(raw, OPTION_LIMITS.chunkSeconds, false), {
    error: (issue) => `${numberProblem("chunk-seconds", issue.input, OPTION_LIMITS.chunkSeconds, false)}, or '${AUTO_LENGTH}'`,
  })
  .transform((raw): number | typeof AUTO_LENGTH => (raw.toLowerCase() === AUTO_LENGTH ? AUTO_LENGTH : Number(raw)));

/** A registered list's name (the voice-name rule): `vocabulary=acme`, `filter=profanity`. */
function listNameText(key: string) {
  return z.string().regex(VOICE_NAME, {
    error: (issue) => `${key} '${String(issue.input).slice(0, 80)}' is not a list name (1-40 letters, digits, '-', '_' or '.', starting with a letter or digit)`,
  });
}

/** `alice,bob` (names, each once) or `*`: the enrolled voices a job names. */
const speakersText = z
  .string()
  .transform((raw, ctx): string[] => {
    if (raw.trim() === ALL_VOICES) return [ALL_VOICES];
    const names = raw.split(",").map((name) => name.trim());
    const bad = names.find((name) => !VOICE_NAME.test(name));
    if (bad !== undefined) {
      ctx.addIssue({
        code: "custom",
        message: `speakers '${raw.slice(0, 80)}': '${bad.slice(0, 40)}' is not a voice name (1-40 letters, digits, '-', '_' or '.'); use names separated by commas, or '${ALL_VOICES}'`,
      });
      return z.NEVER;
    }
    const unique = [...new Set(names)];
    if (unique.length > MAX_NAMED_SPEAKERS) {
      ctx.addIssue({ code: "custom", message: `speakers: at most ${MAX_NAMED_SPEAKERS} names, not ${unique.length}` });
      return z.NEVER;
    }
    return unique;
  });

/**
 * The job options as S3 user metadata carries them: keys as S3 returns them (lowercase, without
 * x-amz-meta-), values as text (RFC 2047 words decoded, trimmed, empty ones dropped: see readMetadata), each
 * optional, each read into its option or refused with a reason that names the key and the value. The keys
 * are in the order their problems are reported.
 */
export const metadataOptionsSchema = z
  .object({
    language: languageText,
    "language-options": languageOptionsText,
    model: z.string().regex(MODEL_NAME, { error: (issue) => `model '${String(issue.input)}' is not a model name like '${DEFAULTS.model}'` }),
    task: choiceText("task", TASKS),
    diarize: booleanText("diarize"),
    "chunk-seconds": chunkSecondsText,
    "overlap-seconds": numberText("overlap-seconds", OPTION_LIMITS.overlapSeconds),
    format: choiceText("format", OUTPUT_FORMATS),
    prompt: z.string(),
    temperature: numberText("temperature", OPTION_LIMITS.temperature),
    "min-speakers": numberText("min-speakers", OPTION_LIMITS.speakers, true),
    "max-speakers": numberText("max-speakers", OPTION_LIMITS.speakers, true),
    speakers: speakersText,
    "max-cost": numberText("max-cost", OPTION_LIMITS.maxCost),
    vocabulary: listNameText("vocabulary"),
    filter: listNameText("filter"),
    "filter-method": choiceText("filter-method", FILTER_METHODS),
    redact: choiceText("redact", REDACT_KINDS),
    channels: channelsText,
  })
  .partial();

export type MetadataOptions = z.output<typeof metadataOptionsSchema>;

/** The options the metadata sets, under their option names. */
function optionsOf(meta: MetadataOptions): Partial<JobOptions> {
  return defined({
    language: meta.language,
    languageOptions: meta["language-options"],
    model: meta.model,
    task: meta.task,
    diarize: meta.diarize,
    chunkSeconds: meta["chunk-seconds"],
    overlapSeconds: meta["overlap-seconds"],
    format: meta.format,
    prompt: meta.prompt,
    temperature: meta.temperature,
    minSpeakers: meta["min-speakers"],
    maxSpeakers: meta["max-speakers"],
    speakers: meta.speakers,
    maxCost: meta["max-cost"],
    vocabulary: meta.vocabulary,
    filter: meta.filter,
    filterMethod: meta["filter-method"],
    redact: meta.redact,
    channels: meta.channels,
  });
}

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
  const raw = Object.fromEntries(readMetadata(metadata));
  const problems: string[] = [];
  let parsed = metadataOptionsSchema.safeParse(raw);
  if (!parsed.success) {
    problems.push(...parsed.error.issues.map((issue) => issue.message));
    // The rules between keys below still see the keys that were good, so every problem is reported at once.
    const refused = new Set(parsed.error.issues.map((issue) => issue.path[0]));
    parsed = metadataOptionsSchema.safeParse(Object.fromEntries(Object.entries(raw).filter(([key]) => !refused.has(key))));
    if (!parsed.success) throw new Error(`metadata options: ${issueText(parsed.error.issues[0])}`);
  }
  const options: JobOptions = {
    ...DEFAULT_JOB_OPTIONS,
    ...(defaultModel ? { model: defaultModel } : {}),
    ...defined(defaults),
    ...optionsOf(parsed.data),
  };
  if (options.prompt?.length === 0) delete options.prompt;
  // A channel's speaker is its channel: diarizing inside one is only done when asked for with diarize=true.
  if (options.channels !== undefined && parsed.data.diarize === undefined) options.diarize = false;

  const { minSpeakers, maxSpeakers, chunkSeconds, overlapSeconds } = options;
  if (minSpeakers !== undefined && maxSpeakers !== undefined && maxSpeakers < minSpeakers) {
    problems.push(`max-speakers (${maxSpeakers}) must be at least min-speakers (${minSpeakers})`);
  }
  // An automatic length is checked by the chunker once it is known (it is at least 60 s when the duration is).
  const languageOptionsRule = languageOptionsProblem(options.language, options.languageOptions);
  if (languageOptionsRule !== undefined) problems.push(languageOptionsRule);
  if (options.speakers !== undefined && !options.diarize) {
    problems.push("speakers needs diarization: it cannot be set with diarize=false");
  }
  if (options.channels !== undefined && options.speakers !== undefined) {
    problems.push("speakers cannot be set with channels: each channel is named by channels=");
  }
  if (options.filterMethod !== undefined && options.filter === undefined) {
    problems.push(`filter-method needs filter: name a registered vocabulary filter (filter=<name>)`);
  }
  if (options.filter !== undefined) options.filterMethod ??= "mask";
  if (chunkSeconds !== AUTO_LENGTH && !overlapFitsChunk(overlapSeconds, chunkSeconds)) {
    problems.push(`overlap-seconds (${overlapSeconds}) must be less than chunk-seconds (${chunkSeconds})`);
  }
  return problems.length > 0 ? { ok: false, reason: problems.join("; ") } : { ok: true, options };
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

/** S3 user metadata as keys without x-amz-meta-, lowercase, and values decoded and trimmed; empty values dropped. */
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
