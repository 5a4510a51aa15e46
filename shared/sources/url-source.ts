import { Readable } from "node:stream";
import { GetObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { SourceObject } from "../adapters/job-store.js";
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

/** Multipart parts of the copy: 2 in flight keep the memory at ~16 MB whatever the size. */
const PART_BYTES = 8 * 1024 * 1024;

/** The pointer objects and the copies, in S3; a fake in the unit tests. */
export interface UrlSourceStore {
  /** The pointer's first `maxBytes + 1` bytes (enough to tell it is too big). */
  readPointer(object: Pick<SourceObject, "bucket" | "key" | "versionId">, maxBytes: number): Promise<Uint8Array>;
  /** The stored copy's size, or undefined when there is none (a multipart upload exists only once complete). */
  copySize(key: string): Promise<number | undefined>;
  /** Streams `body` into the copy; resolves with the bytes stored. */
  putCopy(key: string, body: AsyncIterable<Uint8Array>): Promise<number>;
}

export class S3UrlSourceStore implements UrlSourceStore {
  constructor(
    private readonly s3: S3Client,
    private readonly workBucket: string,
  ) {}

  async readPointer(object: Pick<SourceObject, "bucket" | "key" | "versionId">, maxBytes: number): Promise<Uint8Array> {
    const out = await this.s3.send(
      new GetObjectCommand({ Bucket: object.bucket, Key: object.key, VersionId: object.versionId, Range: `bytes=0-${maxBytes}` }),
    );
    return out.Body ? out.Body.transformToByteArray() : new Uint8Array();
  }

  async copySize(key: string): Promise<number | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: this.workBucket, Key: key }));
      return head.ContentLength ?? 0;
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if (status === 404 || (error as Error).name === "NotFound") return undefined;
      throw error;
    }
  }

  async putCopy(key: string, body: AsyncIterable<Uint8Array>): Promise<number> {
    let bytes = 0;
    // The body's own error (too large, a timeout) is the reason; the upload's is only its echo.
    let failure: unknown;
    const source = Readable.from(
      (async function* () {
        try {
          for await (const chunk of body) {
            bytes += chunk.length;
            yield chunk;
          }
        } catch (error) {
          failure = error;
          throw error;
        }
      })(),
    );
    try {
      // An upload that fails is aborted (its parts deleted): no partial copy is ever visible under the key.
      await new Upload({ client: this.s3, params: { Bucket: this.workBucket, Key: key, Body: source }, partSize: PART_BYTES, queueSize: 2 }).done();
    } catch (error) {
      throw failure ?? error;
    }
    if (failure) throw failure;
    return bytes;
  }
}

export interface UrlSourceDeps {
  store: UrlSourceStore;
  settings: UrlFetchSettings;
  open: (url: string, settings: UrlFetchSettings) => Promise<OpenedUrl>;
}

/** The chunker's: S3, the configured limits, the real network. */
export function urlSourceDeps(ctx: PipelineContext): UrlSourceDeps {
  return {
    store: new S3UrlSourceStore(ctx.clients.s3, ctx.config.workBucket),
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
