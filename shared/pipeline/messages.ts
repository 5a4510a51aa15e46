import { z } from "zod";
import { PermanentError } from "../errors.js";
import { issueText } from "../domain/options/options.js";

/** One message per segment on the segments queue. */
export const segmentMessageSchema = z.object({
  kind: z.literal("segment"),
  jobId: z.string().min(1),
  // The segment's index is segment.index (messages from before carry a copy at the top, which is ignored).
  audioKey: z.string().min(1),
  segment: z.object({
    index: z.number().int().nonnegative(),
    start: z.number(),
    end: z.number(),
    ownStart: z.number(),
    ownEnd: z.number(),
    // A channel job's lane (domain/channels/); absent for mono jobs.
    channel: z.number().int().nonnegative().optional(),
  }),
});
export type SegmentMessage = z.infer<typeof segmentMessageSchema>;

/** "Every segment of this job is done": sent at least once, stitched exactly once. */
export const stitchMessageSchema = z.object({ kind: z.literal("stitch"), jobId: z.string().min(1) });
export type StitchMessage = z.infer<typeof stitchMessageSchema>;

/** A poison message is permanent by definition: retrying cannot make it parse. */
export function parseMessage<T>(schema: z.ZodType<T>, body: string): T {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    throw new PermanentError("bad_message", "queue message is not JSON");
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success) throw new PermanentError("bad_message", `queue message has the wrong shape: ${issueText(parsed.error.issues[0])}`);
  return parsed.data;
}

function jsonOf(body: string): unknown {
  try {
    return JSON.parse(body);
  } catch {
    return undefined;
  }
}

const namesJobSchema = z.object({ jobId: z.string() });

/** Best effort: the job a malformed or dead-lettered message belonged to, if it names one. */
export function jobIdOf(body: string): string | undefined {
  const parsed = namesJobSchema.safeParse(jsonOf(body));
  return parsed.success ? parsed.data.jobId : undefined;
}

/** The segment a message is for, if it is a well-formed segment message (log keys, a dead letter's reason). */
export function segmentIndexOf(body: string): number | undefined {
  const parsed = segmentMessageSchema.safeParse(jsonOf(body));
  return parsed.success ? parsed.data.segment.index : undefined;
}

/** An S3 event's object key: S3 sends it URL-encoded, with '+' for spaces. Throws on a malformed escape. */
export function s3ObjectKey(eventKey: string): string {
  return decodeURIComponent(eventKey.replace(/\+/g, " "));
}

/** The part of an S3 event record the pipeline reads. */
const s3EventRecordSchema = z.object({
  s3: z.object({
    bucket: z.object({ name: z.string().min(1) }),
    object: z.object({ key: z.string().min(1), eTag: z.string().optional() }),
  }),
});

/**
 * A Lambda on-failure destination record: the event the chunker gave up on (`requestPayload`, an S3 event;
 * S3 sends one record per event), and what it last said (`responsePayload`, absent or null when it timed
 * out; `requestContext.condition`, e.g. RetriesExhausted). As AWS sends it, and as the local runner copies it.
 * The parts that only add to the reason are read leniently: a record is recognised by its S3 event.
 */
export const failedInvocationSchema = z.object({
  requestPayload: z.object({ Records: z.array(s3EventRecordSchema).min(1) }),
  responsePayload: z.object({ errorMessage: z.string() }).partial().nullish().catch(undefined),
  requestContext: z.object({ condition: z.string() }).partial().optional().catch(undefined),
});

/** An upload the chunker gave up on, from a dead letter. */
export interface FailedUpload {
  bucket: string;
  key: string;
  etag?: string;
  error: string;
}

/** The upload a dead-lettered on-failure record is about; undefined when the message is not one. */
export function failedUploadOf(body: string): FailedUpload | undefined {
  const parsed = failedInvocationSchema.safeParse(jsonOf(body));
  if (!parsed.success) return undefined;
  const { requestPayload, responsePayload, requestContext } = parsed.data;
  const { s3 } = requestPayload.Records[0];
  let key: string;
  try {
    key = s3ObjectKey(s3.object.key);
  } catch {
    return undefined;
  }
  return {
    bucket: s3.bucket.name,
    key,
    etag: s3.object.eTag,
    error: responsePayload?.errorMessage ?? requestContext?.condition ?? "the chunker kept failing",
  };
}
