/**
 * A job again, from the same source object (the same version), with some options changed: `stt rerun <jobId>
 * --max-speakers 3`. The rerun goes the way every job starts, through the chunker's S3 trigger: a request object,
 * zero bytes, under `reruns/` in the input bucket, whose user metadata names the job (`rerun-of`) and carries the
 * options to change, under the same keys as an upload's metadata. The chunker reads the old job's record for its
 * source (version-pinned) and options, lays the request's options over them and starts the job as for an upload
 * of that version: the job id comes from the object and the options, so the same rerun asked twice is one job,
 * and a rerun with nothing changed is the old job itself. The user's object is never copied.
 *
 * In AWS, without this CLI: `aws s3api put-object --bucket <input> --key reruns/<any name> --metadata
 * rerun-of=<jobId>,max-speakers=3` (needs s3:PutObject on the input bucket and kms:GenerateDataKey, as an upload).
 */
import { z } from "zod";
import type { JobRecord, SourceObject } from "../adapters/job-store.js";
import { encodeMetadataValue } from "../domain/options/metadata-encoding.js";
import { canonicalOptions, issueText, parseJobOptions, storedJobOptions, type JobOptions, type ParsedOptions } from "../domain/options/options.js";
import { PermanentError } from "../errors.js";
import type { PipelineContext } from "./context.js";
import { makeJobId } from "./job-id.js";

/** Keys under this prefix of the input bucket are rerun requests, not recordings. */
export const RERUN_PREFIX = "reruns/";
/** The request's metadata key naming the job to run again (the other keys are options, as on an upload). */
export const RERUN_OF_KEY = "rerun-of";

export const isRerunKey = (key: string) => key.startsWith(RERUN_PREFIX);

/** The key the CLI gives a request: named by the job it starts, so the same rerun asked again is the same object. */
export const rerunRequestKey = (newJobId: string) => `${RERUN_PREFIX}${newJobId}`;

/** A job id as makeJobId makes them. */
const JOB_ID = /^[0-9a-f]{24}$/;

/** The request object's metadata (keys as S3 returns them: lower case, without x-amz-meta-). */
export const rerunRequestSchema = z
  .object({ [RERUN_OF_KEY]: z.string().trim().regex(JOB_ID, { error: (issue) => `${RERUN_OF_KEY} '${String(issue.input)}' is not a job id (24 hex digits)` }) })
  .catchall(z.string());

/**
 * The old job's options as upload metadata (the keys parseJobOptions reads), with `overrides` laid over them. A
 * job whose options did not parse kept its raw metadata: that is the base then, so a rerun can fix a bad key.
 */
export function rerunMetadata(old: JobRecord["options"], overrides: Readonly<Record<string, string>>): Record<string, string> {
  // A job whose options parsed stores them whole (with a model); one that did not stores `{ metadata }`.
  const raw = old.metadata;
  const base =
    typeof raw === "object" && raw !== null && !("model" in old)
      ? Object.fromEntries(Object.entries(raw as Record<string, unknown>).filter((e): e is [string, string] => typeof e[1] === "string"))
      : optionsToMetadata(storedJobOptions(old));
  const merged: Record<string, string> = { ...base };
  for (const [key, value] of Object.entries(overrides)) merged[key.toLowerCase().replace(/^x-amz-meta-/, "")] = value;
  // Turning diarization off drops the voices to name (they need it), unless the rerun names voices itself.
  if (merged.diarize === "false" && overrides.speakers === undefined) delete merged.speakers;
  return merged;
}

/** Every option of a job, under its metadata key: parseJobOptions(optionsToMetadata(o)) gives o back. */
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
  if (options.speakers !== undefined) meta.speakers = options.speakers.join(",");
  if (options.channels !== undefined) meta.channels = options.channels.join(",");
  if (options.languageOptions !== undefined) meta["language-options"] = options.languageOptions.join(",");
  return meta;
}

/** The options a job gets from its metadata, with the deployment's defaults: the chunker's rule, one copy. */
export function jobOptionsOf(ctx: Pick<PipelineContext, "config">, metadata: Readonly<Record<string, string>>): ParsedOptions {
  const { chunkSeconds, overlapSeconds, segmentCap } = ctx.config.defaults;
  // With a cap configured, a job that does not set chunk-seconds gets "auto": a length from its duration.
  const defaults = { overlapSeconds, chunkSeconds: segmentCap === undefined ? chunkSeconds : ("auto" as const) };
  return parseJobOptions(metadata, defaults, ctx.config.provider.model);
}

/** The old job's source, pinned to the version (or, without versioning, the ETag) it was made from. */
function pinnedSource(job: JobRecord): SourceObject {
  const { bucket, key, versionId, etag } = job.source;
  return { bucket, key, ...(versionId ? { versionId } : {}), ...(etag ? { etag } : {}) };
}

export type RerunRequestRead =
  | { kind: "rerun"; rerunOf: string; source: SourceObject; metadata: Record<string, string> }
  | { kind: "rerun-ignored"; why: string };

/**
 * What the chunker makes of a request object under reruns/: the source to chunk and the metadata to read the
 * options from, or why there is nothing to do (logged; a request names no job of its own to fail).
 */
export async function readRerunRequest(ctx: PipelineContext, object: { bucket: string; key: string; versionId?: string }): Promise<RerunRequestRead> {
  const head = await ctx.sources.head(object);
  if (!head) return { kind: "rerun-ignored", why: "the request object is gone" };
  const parsed = rerunRequestSchema.safeParse(Object.fromEntries(Object.entries(head.metadata).map(([k, v]) => [k.toLowerCase(), v])));
  if (!parsed.success) return { kind: "rerun-ignored", why: `not a rerun request: ${issueText(parsed.error.issues[0])}` };
  const { [RERUN_OF_KEY]: rerunOf, ...overrides } = parsed.data;
  const old = await ctx.jobs.get(rerunOf);
  if (!old) return { kind: "rerun-ignored", why: `no job ${rerunOf} to run again` };
  return { kind: "rerun", rerunOf, source: pinnedSource(old), metadata: rerunMetadata(old.options, overrides) };
}

export type RerunOutcome =
  /** The request was sent; the chunker starts the job (`jobId`) from it. */
  | { kind: "requested"; jobId: string; requestKey: string; options: JobOptions }
  /** A job with this source and these options exists already (an earlier rerun, or the old job itself). */
  | { kind: "exists"; jobId: string; job: JobRecord; options: JobOptions };

/** Puts the request object (zero bytes, `metadata` as its user metadata) in the input bucket. */
export type SubmitRerunRequest = (key: string, metadata: Record<string, string>) => Promise<void>;

/**
 * Asks for a rerun of `jobId` with `overrides` (upload metadata keys: `max-speakers`, `language`, ...): checks
 * everything the chunker would (the job, its source still there at the same version, the options), then
 * submits the request unless the job it names exists already. Throws a PermanentError with the reason when
 * the rerun cannot be made. Safe to repeat: the same overrides give the same job id and the same request key.
 */
export async function rerunJob(
  ctx: PipelineContext,
  jobId: string,
  overrides: Readonly<Record<string, string>>,
  submit: SubmitRerunRequest,
): Promise<RerunOutcome> {
  const old = await ctx.jobs.get(jobId);
  if (!old) throw new PermanentError("unknown_job", `no job ${jobId}`);
  const parsed = jobOptionsOf(ctx, rerunMetadata(old.options, overrides));
  if (!parsed.ok) throw new PermanentError("invalid_options", parsed.reason);
  const source = pinnedSource(old);
  const head = await ctx.sources.head(source);
  if (!head) throw new PermanentError("source_gone", `the source s3://${source.bucket}/${source.key}${source.versionId ? ` (version ${source.versionId})` : ""} of job ${jobId} is gone`);
  if (!source.versionId && source.etag && head.etag?.replace(/"/g, "") !== source.etag) {
    throw new PermanentError(
      "source_changed",
      `s3://${source.bucket}/${source.key} was replaced since job ${jobId} (its ETag changed) and the bucket keeps no versions: upload it again instead`,
    );
  }
  const newJobId = makeJobId(source, canonicalOptions(parsed.options));
  const existing = await ctx.jobs.get(newJobId);
  if (existing) return { kind: "exists", jobId: newJobId, job: existing, options: parsed.options };
  const requestKey = rerunRequestKey(newJobId);
  const metadata: Record<string, string> = { [RERUN_OF_KEY]: jobId };
  for (const [key, value] of Object.entries(overrides)) metadata[key] = value;
  await submit(requestKey, metadata);
  ctx.log.info("rerun requested", { jobId, newJobId });
  return { kind: "requested", jobId: newJobId, requestKey, options: parsed.options };
}
