/**
 * The job record as it is read back from DynamoDB, and the job event as a subscriber reads it: typed by a
 * schema at the boundary, never cast.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { JobStore, jobRecordOf } from "../../shared/adapters/job-store.js";
import { jobEventOf, type JobEvent } from "../../shared/adapters/notifier.js";
import { jobEventSchema, parseJobEvent, type JobEventMessage } from "../../shared/domain/jobs/job-event.js";
import { DEFAULT_JOB_OPTIONS } from "../../shared/domain/options/options.js";
import { PermanentError } from "../../shared/errors.js";

/** A completed job's item as DynamoDB's document client returns it. */
function completedItem(): Record<string, unknown> {
  return {
    pk: "JOB#job-1",
    sk: "JOB",
    gsi1pk: "SOURCE#stt-input/a.mp3",
    gsi1sk: "2024-05-02T10:00:00.000Z",
    jobId: "job-1",
    status: "COMPLETED",
    source: { bucket: "stt-input", key: "a.mp3", etag: "abc", size: 1234 },
    options: { ...DEFAULT_JOB_OPTIONS },
    createdAt: "2024-05-02T10:00:00.000Z",
    updatedAt: "2024-05-02T10:01:00.000Z",
    completedAt: "2024-05-02T10:01:00.000Z",
    duration: 190.2,
    segmentCount: 3,
    doneSegments: new Set([0, 2, 1]),
    speakersSettled: 3,
    language: null,
    speakers: ["SPEAKER_00", "SPEAKER_01"],
    wordCount: 512,
    outputs: { json: "jobs/job-1/transcript.json" },
    audioSecondsBilled: 284.3,
    billing: { segmentSeconds: 214, segmentRequests: 3, probeSeconds: 70.3, probeRequests: 2 },
    expiresAt: 1722592800,
    someoneElsesAttribute: "x",
  };
}

describe("jobRecordOf", () => {
  it("types a stored job item and leaves out the table's keys and attributes it does not know", () => {
    // Act
    const job = jobRecordOf(completedItem());
    // Assess
    expect(job).toMatchObject({ jobId: "job-1", status: "COMPLETED", language: null, billing: { probeRequests: 2 } });
    expect(job.doneSegments).toEqual(new Set([0, 1, 2]));
    for (const key of ["pk", "sk", "gsi1pk", "gsi1sk", "someoneElsesAttribute"]) expect(job).not.toHaveProperty(key);
  });

  it("refuses an item the pipeline did not write, as a permanent error naming the job and the field", () => {
    // Prepare
    const item = { ...completedItem(), status: "DONE" };
    // Act / Assess
    expect(() => jobRecordOf(item)).toThrow(PermanentError);
    expect(() => jobRecordOf(item)).toThrow(/^the job record job-1 is not valid: status: /);
    expect(() => jobRecordOf({ ...completedItem(), billing: { segmentSeconds: "lots" } })).toThrow(/billing\.segmentSeconds/);
  });

  it("is what the store hands back from a read", async () => {
    // Prepare: a table that answers every read with one item
    let item = completedItem();
    const db = { send: async () => ({ Item: item }) } as unknown as DynamoDBDocumentClient;
    const store = new JobStore(db, "stt-jobs");
    // Act
    const good = await store.get("job-1");
    item = { ...item, source: { bucket: "stt-input" } };
    const bad = store.get("job-1");
    // Assess
    expect(good?.doneSegments?.size).toBe(3);
    await expect(bad).rejects.toMatchObject({ kind: "permanent", code: "bad_job_record", message: expect.stringMatching(/source\.key/) });
  });
});

describe("job events", () => {
  it("describe what the notifier sends, field for field", () => {
    expectTypeOf<JobEvent>().toExtend<JobEventMessage>();
    expectTypeOf<JobEventMessage>().toExtend<JobEvent>();
  });

  it("read back what the notifier publishes, as SNS delivers it raw, in an envelope, or as EventBridge's detail", () => {
    // Prepare
    const event = jobEventOf(jobRecordOf(completedItem()), "stt-output");
    const body = JSON.stringify(event);
    // Act
    const raw = parseJobEvent(body);
    const enveloped = parseJobEvent(JSON.stringify({ Type: "Notification", MessageId: "m", TopicArn: "arn", Message: body }));
    const bridged = parseJobEvent(JSON.stringify({ version: "0", "detail-type": "Transcription Job State Change", source: "stt", detail: event }));
    // Assess
    const expected = jobEventSchema.parse(JSON.parse(body));
    expect(expected).toMatchObject({ jobId: "job-1", status: "COMPLETED", speakers: 2, outputBucket: "stt-output", language: null });
    expect(raw).toEqual({ ok: true, event: expected });
    expect(enveloped).toEqual(raw);
    expect(bridged).toEqual(raw);
  });

  it("say why a message is not a job event", () => {
    expect(parseJobEvent("{")).toEqual({ ok: false, reason: "the notification is not JSON" });
    expect(parseJobEvent(JSON.stringify({ jobId: "j", status: "RUNNING", source: { bucket: "b", key: "k" } }))).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^not a job event: status: /),
    });
  });
});
