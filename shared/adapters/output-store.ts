import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";

/** The output bucket: the transcript files the stitcher writes, under object-store.ts's `keys.output`. */
export interface OutputStore {
  put(key: string, body: string, contentType: string): Promise<void>;
}

export class S3OutputStore implements OutputStore {
  constructor(
    private readonly s3: S3Client,
    private readonly bucket: string,
  ) {}

  async put(key: string, body: string, contentType: string): Promise<void> {
    await this.s3.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: body, ContentType: contentType }));
  }
}
