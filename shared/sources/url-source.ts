import type { SourceObject } from "../adapters/job-store.js";
import type { UrlSourceStore } from "../adapters/url-source-store.js";
import { DEFAULTS } from "../wiring.js";
import type { PipelineContext } from "../pipeline/context.js";
import { openUrl, type OpenedUrl, type UrlFetchSettings } from "./url-fetch.js";
import { MAX_POINTER_BYTES, parseUrlPointer, redactUrl, type ParsedPointer } from "./url-pointer.js";

/**
 * A recording by URL, as the chunker takes it: the pointer object is read (url-pointer.ts), the URL's bytes
 * are streamed into the work bucket (multipart, bounded: url-fetch.ts) under a key fixed by the job id, and
 * that copy is chunked exactly like an uploaded object, through the same probe and decoder with the same
 * guards. Streaming the URL straight into ffmpeg would skip the copy, but ffmpeg would then fetch from the
 * user's server itself, by range requests, outside the address rules; the copy keeps every byte the pipeline
 * reads behind them, and a redelivered event finds the copy and does not fetch again.
 */

/** Where a job's copy of its URL's bytes lives in the work bucket (expired with the job's other work files). */
export const urlCopyKey = (jobId: string) => `jobs/${jobId}/source/recording`;

export interface UrlSourceDeps {
  store: UrlSourceStore;
  settings: UrlFetchSettings;
  open: (url: string, settings: UrlFetchSettings) => Promise<OpenedUrl>;
}

/** The chunker's: S3, the configured limits, the real network. */
export function urlSourceDeps(ctx: PipelineContext): UrlSourceDeps {
  return {
    store: ctx.urlSources,
    settings: ctx.config.urlSources ?? { maxBytes: DEFAULTS.urlMaxBytes },
    open: (url, settings) => openUrl(url, settings),
  };
}

/** The pointer object's JSON, read (a bounded GET of that version) and checked. */
export async function readUrlPointer(object: SourceObject, deps: Pick<UrlSourceDeps, "store">): Promise<ParsedPointer> {
  return parseUrlPointer(await deps.store.readPointer(object, MAX_POINTER_BYTES));
}

/**
 * The recording a URL serves, as a work-bucket object the chunker reads like an upload. Fetched once per
 * job: when the copy is stored already (an event delivered again, a chunker retried after the copy), it is
 * used as it is.
 */
export async function copyUrlRecording(ctx: PipelineContext, jobId: string, url: string, deps: UrlSourceDeps = urlSourceDeps(ctx)): Promise<SourceObject> {
  const key = urlCopyKey(jobId);
  const copy = (size: number): SourceObject => ({ bucket: ctx.config.workBucket, key, size });
  const stored = await deps.store.copySize(key);
  if (stored !== undefined) {
    ctx.log.info("the URL's copy is stored already; not fetched again", { jobId, bytes: stored });
    return copy(stored);
  }
  const opened = await deps.open(url, deps.settings);
  ctx.log.info("copying a recording by URL", { jobId, url: redactUrl(opened.url), contentLength: opened.contentLength });
  try {
    const bytes = await deps.store.putCopy(key, opened.body);
    ctx.log.info("recording copied from its URL", { jobId, bytes });
    return copy(bytes);
  } finally {
    await opened.close();
  }
}
