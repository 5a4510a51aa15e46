/**
 * What the queue consumers read before any step runs: the pipeline's own messages, and the dead letters
 * (poison messages, and Lambda's on-failure records of S3 events the chunker gave up on).
 */
import { describe, expect, it } from "vitest";
import { PermanentError } from "../../shared/errors.js";
import {
  failedUploadOf,
  jobIdOf,
  parseMessage,
  s3ObjectKey,
  segmentIndexOf,
  segmentMessageSchema,
} from "../../shared/pipeline/messages.js";

/** An on-failure destination record as Lambda writes it for an asynchronous S3 invocation. */
function onFailureRecord(overrides: Record<string, unknown> = {}): string {
  return JSON.stringify({
    version: "1.0",
    timestamp: "2024-05-02T10:00:00.000Z",
    requestContext: { requestId: "r-1", functionArn: "arn:aws:lambda:us-east-1:1:function:stt-chunker", condition: "RetriesExhausted", approximateInvokeCount: 3 },
    requestPayload: {
      Records: [
        {
          eventSource: "aws:s3",
          eventName: "ObjectCreated:Put",
          s3: { bucket: { name: "stt-input" }, object: { key: "team/stand+up%C3%A9.mp3", eTag: "\"abc\"", size: 10 } },
        },
      ],
    },
    responseContext: { statusCode: 200, functionError: "Unhandled" },
    responsePayload: { errorType: "Error", errorMessage: "ffprobe timed out" },
    ...overrides,
  });
}

const segmentBody = (index: number) =>
  JSON.stringify({
    kind: "segment",
    jobId: "job-1",
    audioKey: `jobs/job-1/segments/${index}.flac`,
    segment: { index, start: 0, end: 10, ownStart: 0, ownEnd: 10 },
  });

describe("failedUploadOf", () => {
  it("reads the upload and the chunker's last error from an on-failure record, with the key decoded as S3 sends it", () => {
    // Act
    const upload = failedUploadOf(onFailureRecord());
    // Assess
    expect(upload).toEqual({ bucket: "stt-input", key: "team/stand upé.mp3", etag: "\"abc\"", error: "ffprobe timed out" });
  });

  it("falls back to the failure condition when the function said nothing (a timeout)", () => {
    expect(failedUploadOf(onFailureRecord({ responsePayload: null }))?.error).toBe("RetriesExhausted");
    expect(failedUploadOf(onFailureRecord({ responsePayload: "odd", requestContext: 7 }))?.error).toBe("the chunker kept failing");
  });

  it("is not fooled by a message that is not an on-failure record of an S3 event", () => {
    expect(failedUploadOf("not json")).toBeUndefined();
    expect(failedUploadOf(segmentBody(0))).toBeUndefined();
    expect(failedUploadOf(onFailureRecord({ requestPayload: { Records: [] } }))).toBeUndefined();
    expect(failedUploadOf(onFailureRecord({ requestPayload: { Records: [{ s3: { bucket: {}, object: { key: "a" } } }] } }))).toBeUndefined();
    expect(failedUploadOf(onFailureRecord({ requestPayload: { Records: [{ s3: { bucket: { name: "b" }, object: { key: "%E0%A4%A" } } }] } }))).toBeUndefined();
  });
});

describe("the job and segment a message names", () => {
  it("reads them from well-formed messages only, segment 0 included", () => {
    expect(jobIdOf(segmentBody(0))).toBe("job-1");
    expect(jobIdOf(JSON.stringify({ kind: "stitch", jobId: "job-2" }))).toBe("job-2");
    expect(jobIdOf(JSON.stringify({ jobId: 42 }))).toBeUndefined();
    expect(jobIdOf("{")).toBeUndefined();
    expect(segmentIndexOf(segmentBody(3))).toBe(3);
    expect(segmentIndexOf(JSON.stringify({ kind: "segment", jobId: "job-1", index: "zero" }))).toBeUndefined();
    // A message from before the index was dropped from the top still reads, by its segment's index.
    expect(segmentIndexOf(JSON.stringify({ ...JSON.parse(segmentBody(4)), index: 4 }))).toBe(4);
    expect(segmentIndexOf("null")).toBeUndefined();
  });

  it("refuses a poison message as a permanent error, naming what is wrong", () => {
    expect(() => parseMessage(segmentMessageSchema, "not json")).toThrow(PermanentError);
    expect(() => parseMessage(segmentMessageSchema, JSON.stringify({ kind: "segment", jobId: "j" }))).toThrow(/wrong shape: audioKey: /);
  });
});

describe("s3ObjectKey", () => {
  it("decodes keys as S3 events carry them", () => {
    expect(s3ObjectKey("a+b%2Bc/d%20e.mp3")).toBe("a b+c/d e.mp3");
  });
});
