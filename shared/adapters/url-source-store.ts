/**
 * Recordings by URL in S3 (sources/url-source.ts): the pointer objects users upload, and each job's copy of the
 * URL's bytes in the work bucket.
 */
import { Readable } from "node:stream";
import { GetObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { SourceObject } from "./job-store.js";

/** Multipart parts of the copy: 2 in flight keep the memory at ~16 MB whatever the size. */
const PART_BYTES = 8 * 1024 * 1024;

/** The pointer objects and the copies: S3 here, memory in the unit tests (test/support/memory-stores.ts). */
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

