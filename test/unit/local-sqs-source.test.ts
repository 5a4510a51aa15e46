/** The local SQS event source: bounded concurrency, batches, partial failures, and no message held while nothing is free. */
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CreateQueueCommand, GetQueueAttributesCommand, SendMessageBatchCommand } from "@aws-sdk/client-sqs";
import type { SQSEvent } from "aws-lambda";
import { startEmulators, type LocalEmulators } from "../../local/emulators.js";
import { EventRunner } from "../../local/runner.js";
import { quietLog } from "../../local/stack.js";
import { createClients, type PipelineClients } from "../../shared/clients.js";

const MAX_CONCURRENCY = 3;
const BATCH_SIZE = 2;

let emulators: LocalEmulators;
let clients: PipelineClients;
let runner: EventRunner;
let queueUrl: string;
const handled = new Map<string, number>();
const batchSizes: number[] = [];
let running = 0;
let mostRunning = 0;
/** The most messages received but not yet deleted, seen while every invocation was busy. */
let mostHeldWhileFull = 0;

beforeAll(async () => {
  emulators = await startEmulators();
  clients = createClients({ aws: emulators.awsEndpoint, dynamodb: emulators.dynamodbEndpoint });
  queueUrl = (await clients.sqs.send(new CreateQueueCommand({ QueueName: "work", Attributes: { VisibilityTimeout: "1" } }))).QueueUrl!;
  runner = new EventRunner(clients, quietLog);
  runner.addSqsSource({
    name: "worker",
    queueUrl,
    queueArn: "arn:aws:sqs:us-east-1:000000000000:work",
    batchSize: BATCH_SIZE,
    maxConcurrency: MAX_CONCURRENCY,
    timeoutMs: 10_000,
    handler: async (event: SQSEvent) => {
      running++;
      mostRunning = Math.max(mostRunning, running);
      batchSizes.push(event.Records.length);
      if (running === MAX_CONCURRENCY) {
        const out = await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessagesNotVisible"] }));
        mostHeldWhileFull = Math.max(mostHeldWhileFull, Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible ?? 0));
      }
      await sleep(50);
      running--;
      const failures: Array<{ itemIdentifier: string }> = [];
      for (const record of event.Records) {
        const tries = (handled.get(record.body) ?? 0) + 1;
        handled.set(record.body, tries);
        // "m7" fails its first delivery: it must come back after the visibility timeout, the rest of its batch not.
        if (record.body === "m7" && tries === 1) failures.push({ itemIdentifier: record.messageId });
      }
      return { batchItemFailures: failures };
    },
  });
});

afterAll(async () => {
  await runner?.stop();
  await emulators?.stop();
});

describe("the local SQS event source", () => {
  it("handles every message in batches, at most its concurrency at once, holding no more than those invocations take", async () => {
    // Act
    const bodies = Array.from({ length: 30 }, (_, i) => `m${i}`);
    for (let at = 0; at < bodies.length; at += 10) {
      await clients.sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: bodies.slice(at, at + 10).map((body, i) => ({ Id: String(i), MessageBody: body })) }),
      );
    }
    const deadline = Date.now() + 15_000;
    while ((handled.size < bodies.length || (handled.get("m7") ?? 0) < 2) && Date.now() < deadline) await sleep(50);

    // Assess
    expect([...handled.keys()].sort()).toEqual([...bodies].sort());
    for (const body of bodies) expect(handled.get(body), body).toBe(body === "m7" ? 2 : 1);
    expect(mostRunning).toBe(MAX_CONCURRENCY);
    expect(Math.max(...batchSizes)).toBeLessThanOrEqual(BATCH_SIZE);
    // Received messages are invisible: while all three invocations ran, no more than their batches were taken
    // (and m7, invisible until its timeout once its first delivery failed).
    expect(mostHeldWhileFull).toBeLessThanOrEqual(MAX_CONCURRENCY * BATCH_SIZE + 1);
    expect(runner.stats.maxInFlight.worker).toBe(MAX_CONCURRENCY);
  });
});
