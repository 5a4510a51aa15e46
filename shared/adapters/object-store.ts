import {
  DeleteObjectsCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";

/** Small typed helpers over S3; the keys of everything the pipeline writes are built in `keys`. */
export const keys = {
  segmentAudio: (jobId: string, index: number) => `jobs/${jobId}/segments/${pad(index)}.flac`,
  /** Energy per 10 ms of the segment's audio, one signed byte of dBFS each: for refining word starts. */
  segmentEnvelope: (jobId: string, index: number) => `jobs/${jobId}/segments/${pad(index)}.env`,
  /** The segment's queue message, stored by the chunker: it is sent when the job's share lets it go (release-segments.ts). */
  segmentMessage: (jobId: string, index: number) => `jobs/${jobId}/segments/${pad(index)}.msg.json`,
  segmentResult: (jobId: string, index: number) => `jobs/${jobId}/results/${pad(index)}.json`,
  /** The speaker book once the first `settled` segments are settled (settle-job-speakers.ts). */
  speakerBook: (jobId: string, settled: number) => `jobs/${jobId}/speakers/book-${pad(settled)}.json`,
  /** Votes for one segment's voices, asked as its result was stored (domain/speakers/early-votes.ts). */
  earlyVotes: (jobId: string, index: number) => `jobs/${jobId}/speakers/votes-${pad(index)}.json`,
  /** A voice's reference clip (16 kHz s16le PCM), named by voice and the step that wrote it. */
  voiceClip: (jobId: string, clip: string) => `jobs/${jobId}/speakers/${clip}.pcm`,
  output: (jobId: string, file: string) => `jobs/${jobId}/${file}`,
  /** Everything of one job, in the work bucket and in the output bucket (pipeline/delete-job.ts). */
  jobPrefix: (jobId: string) => `jobs/${jobId}/`,
};

const pad = (n: number) => String(n).padStart(5, "0");

export async function getBytes(s3: S3Client, bucket: string, key: string): Promise<Uint8Array> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  if (!out.Body) throw new Error(`empty body for s3://${bucket}/${key}`);
  return out.Body.transformToByteArray();
}

/** The object's bytes, or undefined when it does not exist. */
export async function getBytesIfExists(s3: S3Client, bucket: string, key: string): Promise<Uint8Array | undefined> {
  try {
    return await getBytes(s3, bucket, key);
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (error as Error).name === "NoSuchKey") return undefined;
    throw error;
  }
}

export async function getJson<T>(s3: S3Client, bucket: string, key: string): Promise<T> {
  const bytes = await getBytes(s3, bucket, key);
  return JSON.parse(Buffer.from(bytes).toString("utf8")) as T;
}

/** The object's JSON, or undefined when it does not exist. */
export async function getJsonIfExists<T>(s3: S3Client, bucket: string, key: string): Promise<T | undefined> {
  const bytes = await getBytesIfExists(s3, bucket, key);
  return bytes ? (JSON.parse(Buffer.from(bytes).toString("utf8")) as T) : undefined;
}

export async function putJson(s3: S3Client, bucket: string, key: string, value: unknown): Promise<void> {
  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: JSON.stringify(value), ContentType: "application/json" }),
  );
}

export async function exists(s3: S3Client, bucket: string, key: string): Promise<boolean> {
  try {
    await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    return true;
  } catch (error) {
    const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
    if (status === 404 || (error as Error).name === "NotFound" || (error as Error).name === "NoSuchKey") return false;
    throw error;
  }
}

/** A URL ffmpeg can read with range requests, so the chunker streams the source instead of copying it to /tmp. */
export async function presignGet(s3: S3Client, bucket: string, key: string, seconds = 3600): Promise<string> {
  return getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: seconds });
}

/** Every key under `prefix` (needs s3:ListBucket on it). */
export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
  const found: string[] = [];
  let token: string | undefined;
  do {
    const out = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const object of out.Contents ?? []) if (object.Key) found.push(object.Key);
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return found;
}

/** Deletes the objects (a missing one is no error: deleting is repeatable), 1000 per request. */
export async function deleteKeys(s3: S3Client, bucket: string, keysToDelete: readonly string[]): Promise<void> {
  for (let i = 0; i < keysToDelete.length; i += 1000) {
    const out = await s3.send(
      new DeleteObjectsCommand({
        Bucket: bucket,
        Delete: { Objects: keysToDelete.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true },
      }),
    );
    const failed = out.Errors?.[0];
    if (failed) throw new Error(`could not delete s3://${bucket}/${failed.Key}: ${failed.Code ?? "error"} ${failed.Message ?? ""}`.trim());
  }
}
