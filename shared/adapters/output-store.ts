import type { Readable } from "node:stream";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { deleteKeys, getBytes, listKeys } from "./object-store.js";

/** The output bucket: the transcript files the stitcher writes, under object-store.ts's `keys.output`. */
export interface OutputStore {
  put(key: string, body: string, contentType: string): Promise<void>;
  /** A file of unknown length written as it is produced (a multipart upload): the redacted audio. */
  putStream(key: string, body: Readable, contentType: string): Promise<void>;
  /** A file written there, as text (UTF-8): a rename renders the outputs again from the stored verbose_json. */
  getText(key: string): Promise<string>;
  /** Every key under `prefix` (a job's outputs: pipeline/delete-job.ts). */
  listKeys(prefix: string): Promise<string[]>;
  /** Deletes the objects; missing ones are no error (a cancelled job's outputs, a deleted job's). */
  deleteKeys(keys: readonly string[]): Promise<void>;
}

export class S3OutputStore implements OutputStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: string, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }

  async putStream(key: string, body: Readable, contentType: string): Promise<void> {
    await new Upload({ client: this.s3, params: { Bucket: this.bucket, Key: key, Body: body, ContentType: contentType } }).done();
  }

  async getText(key: string): Promise<string> {
    return Buffer.from(await getBytes(this.s3, this.bucket, key)).toString("utf8");
  }

  listKeys(prefix: string): Promise<string[]> {
    return listKeys(this.s3, this.bucket, prefix);
  }

  deleteKeys(keys: readonly string[]): Promise<void> {
    return deleteKeys(this.s3, this.bucket, keys);
  }
}
