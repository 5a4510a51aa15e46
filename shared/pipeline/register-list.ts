import { readFile } from "node:fs/promises";
import type { SourceObject } from "../adapters/job-store.js";
import { PermanentError, RetryableError } from "../errors.js";
import {
  MAX_LIST_FILE_BYTES,
  listOfKey,
  listSnapshotKey,
  listSnapshotSchema,
  listSourceTag,
  parseTermList,
  type ListKind,
  type ListRecord,
  type ListSnapshot,
} from "../domain/vocabulary/term-list.js";
import { vocabularyPrompt } from "../domain/vocabulary/prompt-budget.js";
import type { JobOptions } from "../domain/options/options.js";
import type { PipelineContext } from "./context.js";

export type RegisterListOutcome =
  | { kind: "list"; list: ListKind; status: ListRecord["status"]; repeat: boolean }
  | { kind: "list-ignored"; why: "gone" | "stale" | "bad-name" };

/**
 * Registers a word list from an object under vocabularies/ or vocabulary-filters/ in the input bucket
 * (`vocabularies/acme.txt` -> vocabulary acme): reads it (at most MAX_LIST_FILE_BYTES), checks it
 * (term-list.ts: parseTermList) and stores the list item, READY with its terms or REFUSED with the reason. The
 * item names the object version it was made from: a redelivered event finds it and changes nothing.
 */
export async function registerList(ctx: PipelineContext, object: SourceObject): Promise<RegisterListOutcome> {
  const parsed = listOfKey(object.key);
  if (!parsed || "invalid" in parsed) {
    ctx.log.warn("a list file's key names no valid list; ignored", { reason: parsed && "invalid" in parsed ? parsed.invalid : "no list prefix" });
    return { kind: "list-ignored", why: "bad-name" };
  }
  const { kind, name } = parsed;
  const head = await ctx.sources.head({ bucket: object.bucket, key: object.key });
  if (!head) return { kind: "list-ignored", why: "gone" };
  const headEtag = head.etag?.replace(/"/g, "");
  const eventEtag = object.etag?.replace(/"/g, "");
  if ((object.versionId && head.versionId && object.versionId !== head.versionId) || (eventEtag && headEtag && eventEtag !== headEtag)) {
    return { kind: "list-ignored", why: "stale" };
  }
  const source: ListRecord["source"] = {
    bucket: object.bucket,
    key: object.key,
    ...(head.versionId ? { versionId: head.versionId } : {}),
    ...(headEtag ? { etag: headEtag } : {}),
  };
  const existing = await ctx.jobs.getList(kind, name);
  if (existing && listSourceTag(existing.source) === listSourceTag(source)) {
    return { kind: "list", list: kind, status: existing.status, repeat: true };
  }
  const base = { kind, name, source, registeredAt: ctx.now().toISOString() };
  let record: ListRecord;
  if ((head.size ?? 0) > MAX_LIST_FILE_BYTES) {
    record = { ...base, status: "REFUSED", reason: `the file is larger than ${MAX_LIST_FILE_BYTES / 1024} KiB`, terms: [] };
  } else {
    const checked = parseTermList(kind, await readListText(ctx, source));
    record = "reason" in checked ? { ...base, status: "REFUSED", reason: checked.reason, terms: [] } : { ...base, status: "READY", terms: checked.terms };
  }
  const stored = await ctx.jobs.putList(record);
  // Counts and the outcome only: the terms are the user's data.
  ctx.log.info("word list registered", { list: kind, status: stored.status, terms: stored.terms.length });
  return { kind: "list", list: kind, status: stored.status, repeat: false };
}

/** The object's bytes as UTF-8 (invalid sequences become U+FFFD, which parseTermList refuses). */
async function readListText(ctx: PipelineContext, source: ListRecord["source"]): Promise<string> {
  const url = await ctx.sources.readUrl(source);
  if (!/^https?:\/\//i.test(url)) return (await readFile(url)).toString("utf8");
  const response = await fetch(url);
  if (!response.ok) throw new RetryableError("list_read", `the list file could not be read (HTTP ${response.status})`);
  const bytes = Buffer.from(await response.arrayBuffer());
  return bytes.subarray(0, MAX_LIST_FILE_BYTES + 1).toString("utf8");
}

/**
 * The lists a job names (`vocabulary`, `filter`), resolved when it is chunked and stored in its work area with
 * the prompt every segment sends: a name with no READY list fails the job. Stored once: a redelivered chunker
 * event finds the snapshot and keeps it, so every later step reads the same terms.
 */
export async function snapshotJobLists(ctx: PipelineContext, jobId: string, options: JobOptions): Promise<ListSnapshot | undefined> {
  if (!options.vocabulary && !options.filter) return undefined;
  const key = listSnapshotKey(jobId);
  const stored = await ctx.work.getJsonIfExists<unknown>(key);
  if (stored !== undefined) return listSnapshotSchema.parse(stored);

  const vocabulary = options.vocabulary ? await readyList(ctx, "vocabulary", options.vocabulary) : undefined;
  const filter = options.filter ? await readyList(ctx, "filter", options.filter) : undefined;
  const prompt = vocabularyPrompt(options.prompt, vocabulary?.terms ?? []);
  const snapshot: ListSnapshot = {
    ...(vocabulary ? { vocabulary: { name: vocabulary.name, terms: vocabulary.terms } } : {}),
    ...(filter ? { filter: { name: filter.name, terms: filter.terms } } : {}),
    ...(prompt.prompt ? { prompt: prompt.prompt } : {}),
    promptTerms: prompt.included,
    promptTermsLeftOut: prompt.leftOut,
  };
  await ctx.work.putJson(key, snapshot);
  ctx.log.info("word lists snapshotted", {
    jobId,
    vocabularyTerms: vocabulary?.terms.length ?? 0,
    promptTerms: prompt.included,
    promptTermsLeftOut: prompt.leftOut,
    filterEntries: filter?.terms.length ?? 0,
  });
  return snapshot;
}

/** The job's list snapshot, for the transcriber and the stitcher; undefined for a job that names none. */
export async function jobLists(ctx: PipelineContext, jobId: string, options: JobOptions): Promise<ListSnapshot | undefined> {
  if (!options.vocabulary && !options.filter) return undefined;
  return listSnapshotSchema.parse(await ctx.work.getJson(listSnapshotKey(jobId)));
}

async function readyList(ctx: PipelineContext, kind: ListKind, name: string): Promise<ListRecord> {
  const key = kind === "vocabulary" ? "vocabulary" : "filter";
  const list = await ctx.jobs.getList(kind, name);
  if (!list) throw new PermanentError("invalid_options", `${key}: no registered list '${name}'`);
  if (list.status !== "READY") {
    throw new PermanentError("invalid_options", `${key}: no registered list '${name}' (it was refused: ${list.reason ?? "unknown reason"})`);
  }
  return list;
}
