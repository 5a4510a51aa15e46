/**
 * The AWS side of the steps' ports (shared/adapters/work-queues.ts, source-store.ts, work-store.ts), against
 * clients that record the commands they are sent: the requests the steps' in-memory tests stand for. The
 * emulator tests run them for real.
 */
import { HeadObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { describe, expect, it } from "vitest";
import { S3SourceStore } from "../../shared/adapters/source-store.js";
import { SqsWorkQueues } from "../../shared/adapters/work-queues.js";
import { S3WorkStore } from "../../shared/adapters/work-store.js";
import { cutSegments, segmentMessage } from "../support/job-fixtures.js";

const URLS = { segmentsQueueUrl: "http://sqs/segments", stitchQueueUrl: "http://sqs/stitch" };

function recordingClient<C>(answer: (command: unknown) => unknown = () => ({})): { client: C; sent: unknown[] } {
  const sent: unknown[] = [];
  const client = { send: async (command: unknown) => (sent.push(command), answer(command)) } as unknown as C;
  return { client, sent };
}

describe("SqsWorkQueues", () => {
  it("sends segment messages in batches of at most 10, in order, each with its index as the entry id", async () => {
    // Prepare
    const { client, sent } = recordingClient<SQSClient>();
    const messages = cutSegments(23).map((s) => segmentMessage(s));

    // Act
    await new SqsWorkQueues(client, URLS).sendSegments(messages);

    // Assess
    const batches = sent as SendMessageBatchCommand[];
    expect(batches.every((c) => c instanceof SendMessageBatchCommand && c.input.QueueUrl === URLS.segmentsQueueUrl)).toBe(true);
    expect(batches.map((c) => c.input.Entries!.length)).toEqual([10, 10, 3]);
    const entries = batches.flatMap((c) => c.input.Entries!);
    expect(entries.map((e) => e.Id)).toEqual(messages.map((m) => String(m.segment.index)));
    expect(entries.map((e) => JSON.parse(e.MessageBody!))).toEqual(messages);
  });

  it("fails when SQS refuses any entry of a batch", async () => {
    // Prepare
    const { client } = recordingClient<SQSClient>(() => ({ Failed: [{ Id: "3", Message: "throttled", SenderFault: false, Code: "x" }] }));

    // Act
    const sending = new SqsWorkQueues(client, URLS).sendSegments(cutSegments(4).map((s) => segmentMessage(s)));

    // Assess
    await expect(sending).rejects.toThrow("could not queue 1 segment message(s): throttled");
  });

  it("sends the stitch request to the stitch queue", async () => {
    // Prepare
    const { client, sent } = recordingClient<SQSClient>();

    // Act
    await new SqsWorkQueues(client, URLS).sendStitch({ kind: "stitch", jobId: "j1" });

    // Assess
    expect(sent).toHaveLength(1);
    const command = sent[0] as SendMessageCommand;
    expect(command).toBeInstanceOf(SendMessageCommand);
    expect(command.input).toEqual({ QueueUrl: URLS.stitchQueueUrl, MessageBody: '{"kind":"stitch","jobId":"j1"}' });
  });
});

describe("S3SourceStore", () => {
  it("reads an upload's version, ETag, size and metadata from its head", async () => {
    // Prepare
    const { client, sent } = recordingClient<S3Client>(() => ({ VersionId: "v1", ETag: '"abc"', ContentLength: 12, Metadata: { language: "en" } }));

    // Act
    const head = await new S3SourceStore(client).head({ bucket: "in", key: "a.mp3", versionId: "v1" });

    // Assess
    expect((sent[0] as HeadObjectCommand).input).toEqual({ Bucket: "in", Key: "a.mp3", VersionId: "v1" });
    expect(head).toEqual({ versionId: "v1", etag: '"abc"', size: 12, metadata: { language: "en" } });
  });

  it("answers undefined for an upload that is gone (404), and passes other errors on", async () => {
    // Prepare
    const gone = recordingClient<S3Client>(() => Promise.reject(Object.assign(new Error("NotFound"), { $metadata: { httpStatusCode: 404 } })));
    const denied = recordingClient<S3Client>(() => Promise.reject(Object.assign(new Error("AccessDenied"), { $metadata: { httpStatusCode: 403 } })));

    // Act
    const missing = await new S3SourceStore(gone.client).head({ bucket: "in", key: "a.mp3" });
    const refused = new S3SourceStore(denied.client).head({ bucket: "in", key: "a.mp3" });

    // Assess
    expect(missing).toBeUndefined();
    await expect(refused).rejects.toThrow("AccessDenied");
  });
});

describe("S3WorkStore", () => {
  it("puts bytes in the work bucket with the content type given, and none when none is given", async () => {
    // Prepare
    const { client, sent } = recordingClient<S3Client>();
    const store = new S3WorkStore(client, "work");

    // Act
    await store.putBytes("jobs/j/segments/00000.flac", new Uint8Array([1]), "audio/flac");
    await store.putBytes("jobs/j/segments/00000.env", new Uint8Array([2]));

    // Assess
    const puts = (sent as PutObjectCommand[]).map((c) => c.input);
    expect(puts).toEqual([
      { Bucket: "work", Key: "jobs/j/segments/00000.flac", Body: new Uint8Array([1]), ContentType: "audio/flac" },
      { Bucket: "work", Key: "jobs/j/segments/00000.env", Body: new Uint8Array([2]), ContentType: undefined },
    ]);
  });
});
