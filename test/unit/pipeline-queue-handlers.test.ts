/**
 * Where the queue consumers act on failures: dead letters fail their job, and a job that cannot even be
 * failed (its record does not parse) does not send its message round the queues for ever. The job table and
 * the notifier are stubs: no AWS call is made.
 */
import type { SQSEvent } from "aws-lambda";
import { Logger } from "@aws-lambda-powertools/logger";
import { describe, expect, it } from "vitest";
import type { JobRecords } from "../../shared/adapters/job-records.js";
import type { JobRecord } from "../../shared/adapters/job-store.js";
import type { PipelineClients } from "../../shared/clients.js";
import type { PipelineConfig } from "../../shared/config.js";
import { DEFAULT_JOB_OPTIONS } from "../../shared/domain/options/options.js";
import { PermanentError } from "../../shared/errors.js";
import { createContext, type JobNotifier, type PipelineContext } from "../../shared/pipeline/context.js";
import { deadLetterHandler } from "../../shared/pipeline/queue-handlers.js";
import { sqsRecord } from "../support/sqs-record.js";
import { MemoryJobSchedule } from "../support/memory-job-schedule.js";

const record = (messageId: string, body: string) => sqsRecord(messageId, body, { queue: "stt-dead-letters", receiveCount: 5 });

interface Calls {
  failed: Array<{ jobId: string; reason: string; code: string }>;
  published: string[];
}

/** A context whose job table is `jobs` (what the test needs of it) and whose notifier records what it sends. */
function contextWith(jobs: Partial<JobRecords>, calls: Calls): PipelineContext {
  const config = { table: "stt-jobs", outputBucket: "stt-output", provider: { timeoutMs: 1000 } } as unknown as PipelineConfig;
  const clients = { dynamo: {}, sns: {}, s3: {}, sqs: {} } as unknown as PipelineClients;
  const base = createContext(config, clients, { ffmpeg: "", ffprobe: "" }, new Logger({ logLevel: "SILENT" }));
  const notifier: JobNotifier = { publish: async (event) => void calls.published.push(`${event.jobId} ${event.status}`) };
  const table: Partial<JobRecords> = {
    fail: async (jobId, reason, code) => {
      calls.failed.push({ jobId, reason, code });
      return true;
    },
    markNotified: async () => undefined,
    noteError: async () => undefined,
    // A failed job's spend is settled before it is announced (pipeline/cost-cap.ts).
    setCostUsd: async () => undefined,
    ...jobs,
  };
  // An ended job leaves the schedule; nobody waits in these tests.
  return { ...base, jobs: table as JobRecords, schedule: new MemoryJobSchedule(), notifier };
}

const chunking = (jobId: string, etag: string): JobRecord => ({
  jobId,
  status: "CHUNKING",
  source: { bucket: "stt-input", key: "team/stand up.mp3", etag },
  options: { ...DEFAULT_JOB_OPTIONS },
  createdAt: "2024-05-02T10:00:00.000Z",
  updatedAt: "2024-05-02T10:00:00.000Z",
});

describe("deadLetterHandler", () => {
  it("fails the open job of an upload the chunker gave up on, with the chunker's last error", async () => {
    // Prepare: two jobs of the same key, one of them from another upload (another ETag)
    const calls: Calls = { failed: [], published: [] };
    const asked: string[] = [];
    const ctx = contextWith(
      {
        jobsForSource: async (bucket, key) => {
          asked.push(`${bucket}/${key}`);
          return [chunking("job-1", "abc"), chunking("job-0", "old")];
        },
        get: async (jobId) => ({ ...chunking(jobId, "abc"), status: "FAILED" }),
      },
      calls,
    );
    const body = JSON.stringify({
      requestContext: { condition: "RetriesExhausted" },
      requestPayload: { Records: [{ s3: { bucket: { name: "stt-input" }, object: { key: "team/stand+up.mp3", eTag: "\"abc\"" } } }] },
      responsePayload: { errorMessage: "ffprobe timed out" },
    });
    const event: SQSEvent = { Records: [record("m-1", body)] };

    // Act
    const response = await deadLetterHandler(ctx)(event);

    // Assess
    expect(response.batchItemFailures).toEqual([]);
    expect(asked).toEqual(["stt-input/team/stand up.mp3"]);
    expect(calls.failed).toEqual([{ jobId: "job-1", reason: "could not split the recording: ffprobe timed out", code: "chunker_failed" }]);
    expect(calls.published).toEqual(["job-1 FAILED"]);
  });

  it("consumes a dead letter whose job record cannot be read, instead of failing it again and again", async () => {
    // Prepare: every read of the job finds a record that does not parse
    const calls: Calls = { failed: [], published: [] };
    const unreadable = new PermanentError("bad_job_record", "the job record job-1 is not valid: status: Invalid option");
    const ctx = contextWith({ get: async () => Promise.reject(unreadable) }, calls);
    const event: SQSEvent = { Records: [record("m-1", JSON.stringify({ kind: "stitch", jobId: "job-1" }))] };

    // Act
    const response = await deadLetterHandler(ctx)(event);

    // Assess: the job was failed on the table, nothing could be announced, and the message is gone
    expect(response.batchItemFailures).toEqual([]);
    expect(calls.failed).toEqual([{ jobId: "job-1", reason: "the job record job-1 is not valid: status: Invalid option", code: "bad_job_record" }]);
    expect(calls.published).toEqual([]);
  });

  it("hands the message back when failing the job fails for a reason that can pass", async () => {
    // Prepare: the record does not parse, and the table is throttled while the job is failed
    const calls: Calls = { failed: [], published: [] };
    const ctx = contextWith(
      {
        get: async () => Promise.reject(new PermanentError("bad_job_record", "the job record job-1 is not valid: source.key: Invalid input")),
        fail: async () => Promise.reject(Object.assign(new Error("throttled"), { name: "ProvisionedThroughputExceededException" })),
      },
      calls,
    );
    const event: SQSEvent = { Records: [record("m-1", JSON.stringify({ kind: "stitch", jobId: "job-1" }))] };

    // Act
    const response = await deadLetterHandler(ctx)(event);

    // Assess
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: "m-1" }]);
  });
});
