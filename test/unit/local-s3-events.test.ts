import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CopyObjectCommand, CreateBucketCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { CreateQueueCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { Upload } from "@aws-sdk/lib-storage";
import type { S3Event } from "aws-lambda";
import { startEmulators, type LocalEmulators } from "../../local/emulators.js";
import { EventRunner } from "../../local/runner.js";
import { quietLog } from "../../local/stack.js";
import { createClients, type PipelineClients } from "../../shared/clients.js";

let emulators: LocalEmulators;
let clients: PipelineClients;
let runner: EventRunner;
let failureQueueUrl: string;
const delivered: Array<{ bucket: string; key: string; eTag: string; size: number }> = [];
/** Keys whose invocations fail, and how often each was tried. */
const failing = new Map<string, number>();
let slowMs = 0;

beforeAll(async () => {
  emulators = await startEmulators();
  clients = createClients({ aws: emulators.awsEndpoint, dynamodb: emulators.dynamodbEndpoint });
  for (const bucket of ["uploads", "elsewhere"]) await clients.s3.send(new CreateBucketCommand({ Bucket: bucket }));
  failureQueueUrl = (await clients.sqs.send(new CreateQueueCommand({ QueueName: "failures" }))).QueueUrl!;
  runner = new EventRunner(clients, quietLog);
  runner.addS3Source({
    name: "chunker",
    bucket: "uploads",
    objectsCreated: emulators.objectsCreated,
    handler: async (event: S3Event) => {
      const { s3 } = event.Records[0];
      const key = decodeURIComponent(s3.object.key.replace(/\+/g, " "));
      if (failing.has(key)) {
        failing.set(key, failing.get(key)! + 1);
        throw new Error(`cannot take ${key}`);
      }
      if (slowMs) await sleep(slowMs);
      delivered.push({ bucket: s3.bucket.name, key, eTag: s3.object.eTag, size: s3.object.size });
    },
    maxConcurrency: 1,
    retries: 2,
    retryDelaysMs: [10],
    timeoutMs: 10_000,
    failureQueueUrl,
  });
});

afterAll(async () => {
  await runner?.stop();
  await emulators?.stop();
});

async function until(done: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error("timed out waiting");
    await sleep(20);
  }
}

const eventsFor = (key: string) => delivered.filter((d) => d.key === key);

describe("the local S3 event source", () => {
  it("sends one event per upload, as S3 does: the same bytes uploaded again with other options are a second event", async () => {
    // Prepare
    const body = Buffer.from("the same bytes");

    // Act
    await clients.s3.send(new PutObjectCommand({ Bucket: "uploads", Key: "team/a b.mp3", Body: body, Metadata: { language: "en" } }));
    await clients.s3.send(new PutObjectCommand({ Bucket: "uploads", Key: "team/a b.mp3", Body: body, Metadata: { language: "de" } }));
    await clients.s3.send(new PutObjectCommand({ Bucket: "elsewhere", Key: "team/a b.mp3", Body: body }));
    await until(() => eventsFor("team/a b.mp3").length >= 2);
    await sleep(200);

    // Assess: two events, each with this upload's ETag and size (the key arrives URL-encoded and is decoded)
    const events = eventsFor("team/a b.mp3");
    expect(events).toHaveLength(2);
    for (const event of events) expect(event).toMatchObject({ bucket: "uploads", size: body.length, eTag: expect.stringMatching(/^[0-9a-f]{32}$/) });
    expect(events[0].eTag).toBe(events[1].eTag);
  });

  it("sends one event for a multipart upload and one for a copy, in the order they were stored", async () => {
    // Prepare: two parts (fauxqs holds parts to S3's 5 MiB minimum)
    const big = Buffer.alloc(6 * 1024 * 1024, 7);

    // Act
    await new Upload({ client: clients.s3, params: { Bucket: "uploads", Key: "big.wav", Body: big }, partSize: 5 * 1024 * 1024 }).done();
    await clients.s3.send(new CopyObjectCommand({ Bucket: "uploads", Key: "copy.wav", CopySource: "uploads/big.wav" }));
    await until(() => eventsFor("copy.wav").length === 1);

    // Assess
    expect(eventsFor("big.wav")).toEqual([{ bucket: "uploads", key: "big.wav", eTag: expect.stringMatching(/-2$/), size: big.length }]);
    expect(delivered.findIndex((d) => d.key === "big.wav")).toBeLessThan(delivered.findIndex((d) => d.key === "copy.wav"));
  });

  it("runs no more invocations than its concurrency, taking events in order", async () => {
    // Prepare
    slowMs = 50;
    const keys = Array.from({ length: 5 }, (_, i) => `queued/${i}.mp3`);

    // Act
    await Promise.all(keys.map((key) => clients.s3.send(new PutObjectCommand({ Bucket: "uploads", Key: key, Body: key }))));
    await until(() => keys.every((key) => eventsFor(key).length === 1));
    slowMs = 0;

    // Assess
    expect(runner.stats.maxInFlight.chunker).toBe(1);
  });

  it("retries a failing invocation, then hands the event to the failure queue in Lambda's on-failure record", async () => {
    // Prepare
    failing.set("poison.mp3", 0);

    // Act
    await clients.s3.send(new PutObjectCommand({ Bucket: "uploads", Key: "poison.mp3", Body: "x" }));
    const out = await clients.sqs.send(new ReceiveMessageCommand({ QueueUrl: failureQueueUrl, WaitTimeSeconds: 10 }));

    // Assess: the first attempt and two retries
    expect(failing.get("poison.mp3")).toBe(3);
    const record = JSON.parse(out.Messages![0].Body!) as {
      requestContext: { condition: string; approximateInvokeCount: number };
      requestPayload: S3Event;
      responsePayload: { errorMessage: string };
    };
    expect(record.requestContext).toMatchObject({ condition: "RetriesExhausted", approximateInvokeCount: 3 });
    expect(record.requestPayload.Records[0].s3.object.key).toBe("poison.mp3");
    expect(record.responsePayload.errorMessage).toBe("cannot take poison.mp3");
  });
});
