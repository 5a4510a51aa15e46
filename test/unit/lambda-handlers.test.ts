/**
 * The Lambda entry points under Powertools: the Lambda context on every log line, each record's job and
 * segment as keys of its lines, metrics flushed per invocation, tracing off outside Lambda. No AWS call is
 * made: the events below are ones the handlers answer without one.
 */
import type { Context, SQSEvent } from "aws-lambda";
import { Logger } from "@aws-lambda-powertools/logger";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { RetryableError } from "../../shared/errors.js";
import type { JobStore } from "../../shared/adapters/job-store.js";
import { lambdaObservability } from "../../shared/lambda/composition-root.js";
import { createContext, withLogKeys } from "../../shared/pipeline/context.js";
import { transcriberHandler } from "../../shared/pipeline/queue-handlers.js";
import type { PipelineClients } from "../../shared/clients.js";
import type { PipelineConfig } from "../../shared/config.js";
import { ENV } from "../../shared/wiring.js";
import { sqsRecord } from "../support/sqs-record.js";

type Line = Record<string, any>;

function captureOutput(): { lines: () => Line[]; text: () => string; restore: () => void } {
  const written: string[] = [];
  const write = (chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  };
  const spies = [vi.spyOn(process.stdout, "write").mockImplementation(write), vi.spyOn(process.stderr, "write").mockImplementation(write)];
  return {
    lines: () => written.join("").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l)),
    text: () => written.join(""),
    restore: () => spies.forEach((s) => s.mockRestore()),
  };
}

function lambdaContext(requestId: string): Context {
  return {
    functionName: "stt-dead-letter",
    functionVersion: "$LATEST",
    invokedFunctionArn: "arn:aws:lambda:us-east-1:000000000000:function:stt-dead-letter",
    memoryLimitInMB: "256",
    awsRequestId: requestId,
    logGroupName: "/aws/lambda/stt-dead-letter",
    logStreamName: "stream",
    callbackWaitsForEmptyEventLoop: true,
    getRemainingTimeInMillis: () => 60_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

const record = (messageId: string, body: string) => sqsRecord(messageId, body, { receiveCount: 2, receiptHandle: "r" });

/** What the function construct sets, with names nothing answers to: the tests below make no AWS call. */
const FUNCTION_ENV: Record<string, string> = {
  [ENV.inputBucket]: "in",
  [ENV.workBucket]: "work",
  [ENV.outputBucket]: "out",
  [ENV.segmentsQueueUrl]: "https://sqs.us-east-1.amazonaws.com/000000000000/stt-segments",
  [ENV.stitchQueueUrl]: "https://sqs.us-east-1.amazonaws.com/000000000000/stt-stitch",
  [ENV.table]: "stt-jobs",
  [ENV.topicArn]: "arn:aws:sns:us-east-1:000000000000:stt-job-events",
  [ENV.apiKey]: "not-a-key",
  AWS_REGION: "us-east-1",
};

beforeEach(() => {
  for (const [name, value] of Object.entries(FUNCTION_ENV)) vi.stubEnv(name, value);
});
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
});

describe("Lambda handlers", () => {
  it("answer under Powertools: the Lambda context on each line, nothing flushed when nothing was measured", async () => {
    // Prepare
    const { handler } = await import("../../functions/dead-letter/handler.js");
    const out = captureOutput();

    // Act: a dead-lettered message that names no job, in two invocations
    let first, second;
    try {
      first = await handler({ Records: [record("m1", "{}")] }, lambdaContext("req-1"));
      second = await handler({ Records: [record("m2", "{}")] }, lambdaContext("req-2"));
    } finally {
      out.restore();
    }

    // Assess
    expect(first).toEqual({ batchItemFailures: [] });
    expect(second).toEqual({ batchItemFailures: [] });
    const lines = out.lines();
    expect(lines.map((l) => [l.message, l.function_request_id])).toEqual([
      ["dead-lettered message names no job", "req-1"],
      ["dead-lettered message names no job", "req-2"],
    ]);
    expect(lines[0]).toMatchObject({ level: "ERROR", service: "stt-dead-letter", function_name: "stt-dead-letter", messageId: "m1" });
    // No metric lines, no "no metrics to publish" warning, no X-Ray complaints outside Lambda.
    expect(out.text().split("\n").filter((l) => l.trim()).length).toBe(2);
  });

  it("do not trace outside Lambda", () => {
    // Act
    const { tracer, serviceName } = lambdaObservability("transcriber");

    // Assess
    expect(serviceName).toBe("stt-transcriber");
    expect(tracer.isTracingEnabled()).toBe(false);
  });
});

describe("record log keys", () => {
  it("put each record's job and segment on its lines, for records handled at once", async () => {
    // Prepare: a batch of two segments of different jobs, whose job reads fail after different delays
    const log = new Logger({ serviceName: "stt-transcriber" });
    const config = { table: "stt-jobs", provider: { timeoutMs: 1000 } } as unknown as PipelineConfig;
    const base = createContext(config, { dynamo: {}, sns: {} } as unknown as PipelineClients, { ffmpeg: "", ffprobe: "" }, log);
    const jobs = {
      get: async (jobId: string) => {
        await new Promise((resolve) => setTimeout(resolve, jobId === "job-a" ? 30 : 5));
        throw new RetryableError("dynamo_throttled", `throttled reading ${jobId}`);
      },
      noteError: async () => undefined,
    } as unknown as JobStore;
    const handle = transcriberHandler({ ...base, jobs });
    const segment = (jobId: string, index: number) =>
      JSON.stringify({
        kind: "segment",
        jobId,
        audioKey: `jobs/${jobId}/segments/${index}.flac`,
        segment: { index, start: 0, end: 10, ownStart: 0, ownEnd: 10 },
      });
    const event: SQSEvent = { Records: [record("m-a", segment("job-a", 3)), record("m-b", segment("job-b", 7))] };
    const out = captureOutput();

    // Act
    let response: Awaited<ReturnType<typeof handle>> | undefined;
    try {
      response = await handle(event);
    } finally {
      out.restore();
    }

    // Assess
    expect(response!.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(["m-a", "m-b"]);
    const retried = out.lines().filter((l) => l.message === "record will be retried");
    expect(retried.map((l) => [l.messageId, l.jobId, l.segment])).toEqual([
      ["m-b", "job-b", 7],
      ["m-a", "job-a", 3],
    ]);
  });

  it("leave a context alone when a record names no job", () => {
    // Prepare
    const ctx = createContext({ table: "t", provider: { timeoutMs: 1 } } as unknown as PipelineConfig, { dynamo: {}, sns: {} } as unknown as PipelineClients, { ffmpeg: "", ffprobe: "" }, new Logger({ logLevel: "SILENT" }));

    // Act / Assess
    expect(withLogKeys(ctx, { jobId: undefined, segment: undefined })).toBe(ctx);
    expect(withLogKeys(ctx, { jobId: "j" }).log).not.toBe(ctx.log);
  });
});
