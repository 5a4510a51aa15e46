import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { deleteKeys, exists, getBytes, getBytesIfExists, getJson, getJsonIfExists, listKeys, presignGet, putJson } from "./object-store.js";

/**
 * The work bucket as the steps use it: segment audio and envelopes, results, speaker books and votes, voice
 * clips, under the keys of object-store.ts's `keys`. S3 here; in memory in the unit tests
 * (test/support/memory-stores.ts). Reads of a missing object throw (a retryable failure for the caller)
 * unless the method says IfExists.
 */
export interface WorkStore {
  getBytes(key: string): Promise<Uint8Array>;
  /** The object's bytes, or undefined when it does not exist. */
  getBytesIfExists(key: string): Promise<Uint8Array | undefined>;
  /** The object's JSON, as the step that wrote it wrote it: no schema is applied here. */
  getJson<T>(key: string): Promise<T>;
  getJsonIfExists<T>(key: string): Promise<T | undefined>;
  exists(key: string): Promise<boolean>;
  putJson(key: string, value: unknown): Promise<void>;
  putBytes(key: string, body: Uint8Array, contentType?: string): Promise<void>;
  /** Where ffmpeg can read the object (with range requests), so audio is decoded without a copy in memory. */
  readUrl(key: string): Promise<string>;
  /** Every key under `prefix` (a job's work area: pipeline/delete-job.ts). */
  listKeys(prefix: string): Promise<string[]>;
  /** Deletes the objects; missing ones are no error. */
  deleteKeys(keys: readonly string[]): Promise<void>;
}

/** The work bucket in S3, through object-store.ts's helpers. */
export class S3WorkStore implements WorkStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  getBytes(key: string): Promise<Uint8Array> {
    return getBytes(this.s3, this.bucket, key);
  }

  getBytesIfExists(key: string): Promise<Uint8Array | undefined> {
    return getBytesIfExists(this.s3, this.bucket, key);
  }

  getJson<T>(key: string): Promise<T> {
    return getJson<T>(this.s3, this.bucket, key);
  }

  getJsonIfExists<T>(key: string): Promise<T | undefined> {
    return getJsonIfExists<T>(this.s3, this.bucket, key);
  }

  exists(key: string): Promise<boolean> {
    return exists(this.s3, this.bucket, key);
  }

  putJson(key: string, value: unknown): Promise<void> {
    return putJson(this.s3, this.bucket, key, value);
  }

  async putBytes(key: string, body: Uint8Array, contentType?: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  readUrl(key: string): Promise<string> {
    return presignGet(this.s3, this.bucket, key);
  }

  listKeys(prefix: string): Promise<string[]> {
    return listKeys(this.s3, this.bucket, prefix);
  }

  deleteKeys(keys: readonly string[]): Promise<void> {
    return deleteKeys(this.s3, this.bucket, keys);
  }
}
