import { HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { presignGet } from "./object-store.js";

/** What the chunker learns of an uploaded recording before it reads any audio. */
export interface SourceHead {
  versionId?: string;
  /** As the store gives it (S3: in quotes). */
  etag?: string;
  size?: number;
  /** User metadata (S3: `x-amz-meta-*`, keys in lower case): the job's options. */
  metadata: Record<string, string>;
}

/**
 * The recordings the chunker reads: any bucket an upload event names (the input bucket, in practice). S3
 * here; in memory in the unit tests (test/support/memory-stores.ts).
 */
export interface SourceStore {
  /** The object's head, or undefined when it is gone (deleted before its event was handled). */
  head(object: { bucket: string; key: string; versionId?: string }): Promise<SourceHead | undefined>;
  /** Where ffprobe and ffmpeg read the recording (with range requests): it is never copied whole. */
  readUrl(object: { bucket: string; key: string }): Promise<string>;
}

export class S3SourceStore implements SourceStore {
  constructor(private readonly s3: S3Client) {}

  async head(object: { bucket: string; key: string; versionId?: string }): Promise<SourceHead | undefined> {
    try {
      const head = await this.s3.send(new HeadObjectCommand({ Bucket: object.bucket, Key: object.key, VersionId: object.versionId }));
      return { versionId: head.VersionId, etag: head.ETag, size: head.ContentLength, metadata: head.Metadata ?? {} };
    } catch (error) {
      if ((error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) return undefined;
      throw error;
    }
  }

  readUrl(object: { bucket: string; key: string }): Promise<string> {
    return presignGet(this.s3, object.bucket, object.key);
  }
}
