import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { HeadObjectCommand } from "@aws-sdk/client-s3";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, SendMessageCommand, type Message } from "@aws-sdk/client-sqs";
import type { S3Event, SQSEvent, SQSRecord } from "aws-lambda";
import pLimit from "p-limit";
import type { PipelineClients } from "../shared/clients.js";
import type { Log } from "../shared/pipeline/context.js";
import type { S3Handler, SqsHandler } from "../shared/pipeline/queue-handlers.js";
import type { ObjectCreated } from "./emulators.js";

/** SQS's longest wait for a receive, and the most messages one receive returns. */
const LONG_POLL_SECONDS = 20;
const MAX_RECEIVE = 10;

/**
 * Delivers events the way Lambda's integrations would: one S3 ObjectCreated
 * event per upload (async invoke, retried, then handed to an on-failure
 * destination), SQS batches through an event-source poller with bounded
 * concurrency that honours batchItemFailures (failed items stay on the queue
 * and come back after the visibility timeout; the queue's redrive policy
 * moves them to the DLQ).
 */
export interface SqsSource {
  name: string;
  queueUrl: string;
  queueArn: string;
  batchSize: number;
  maxConcurrency: number;
  handler: SqsHandler;
  /** Longest an invocation may run, like a Lambda timeout. */
  timeoutMs: number;
}

export interface S3Source {
  /** The function's name in the stats. */
  name: string;
  bucket: string;
  /** The bucket's uploads, one per request that created an object (LocalEmulators.objectsCreated). */
  objectsCreated: (bucket: string, signal: AbortSignal) => AsyncIterable<ObjectCreated>;
  handler: S3Handler;
  /** Invocations at once; more events wait their turn, in order. */
  maxConcurrency: number;
  /** Attempts after the first, as Lambda retries an async invocation. */
  retries: number;
  /** Waits before each retry (Lambda waits about 1 and 2 minutes); the last one repeats if there are more retries. */
  retryDelaysMs: readonly number[];
  /** Longest an invocation may run, like a Lambda timeout. */
  timeoutMs: number;
  /** Lambda's on-failure destination: an event still failing after the retries goes there, in Lambda's record. */
  failureQueueUrl?: string;
  /** The bucket's deletions, when its ObjectRemoved events reach the function too (LocalEmulators.objectsRemoved). */
  objectsRemoved?: (bucket: string, signal: AbortSignal) => AsyncIterable<ObjectCreated>;
}

export interface RunnerStats {
  invocations: Record<string, number>;
  inFlight: Record<string, number>;
  maxInFlight: Record<string, number>;
}

export class EventRunner {
  private running = true;
  private readonly stopping = new AbortController();
  private readonly loops: Promise<void>[] = [];
  readonly stats: RunnerStats = { invocations: {}, inFlight: {}, maxInFlight: {} };

  constructor(
    private readonly clients: PipelineClients,
    private readonly log: Log,
    private readonly region = "us-east-1",
  ) {}

  addSqsSource(source: SqsSource): void {
    this.loops.push(this.pollQueue(source));
  }

  addS3Source(source: S3Source): void {
    this.loops.push(this.consumeUploads(source));
    if (source.objectsRemoved) this.loops.push(this.consumeRemovals(source, source.objectsRemoved));
  }

  async stop(): Promise<void> {
    this.running = false;
    this.stopping.abort();
    await Promise.allSettled(this.loops);
  }

  private enter(name: string): void {
    this.stats.invocations[name] = (this.stats.invocations[name] ?? 0) + 1;
    const now = (this.stats.inFlight[name] ?? 0) + 1;
    this.stats.inFlight[name] = now;
    this.stats.maxInFlight[name] = Math.max(this.stats.maxInFlight[name] ?? 0, now);
  }

  private leave(name: string): void {
    this.stats.inFlight[name] = (this.stats.inFlight[name] ?? 1) - 1;
  }

  /**
   * One poller per queue, receiving only for invocations that are free (so no message waits invisible in a local
   * buffer), up to ten messages a receive cut into batches of `batchSize`, each handed to its own invocation.
   * Long polls as Lambda's poller does: an idle queue costs one request every 20 s; a message sent meanwhile
   * answers at once; stop() aborts the wait. (A poller per unit of concurrency all woke on every message, since
   * fauxqs answers every waiting receive: 800 receives for twenty short jobs, on the stack's one event loop.)
   */
  private async pollQueue(source: SqsSource): Promise<void> {
    const invocations = new Set<Promise<void>>();
    while (this.running) {
      const free = source.maxConcurrency - invocations.size;
      if (free <= 0) {
        await Promise.race(invocations);
        continue;
      }
      const messages = await this.receive(source, Math.min(MAX_RECEIVE, free * source.batchSize));
      for (let at = 0; at < messages.length; at += source.batchSize) {
        const invocation: Promise<void> = this.invoke(source, messages.slice(at, at + source.batchSize))
          // Never rejects: the poller waits on it, and its messages come back after the visibility timeout.
          .catch((error: Error) => this.log.warn("invocation failed", { fn: source.name, error: error.message }))
          .finally(() => invocations.delete(invocation));
        invocations.add(invocation);
      }
    }
    await Promise.allSettled(invocations);
  }

  private async receive(source: SqsSource, max: number): Promise<Message[]> {
    try {
      const out = await this.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: source.queueUrl,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: LONG_POLL_SECONDS,
          MessageSystemAttributeNames: ["All"],
          MessageAttributeNames: ["All"],
        }),
        { abortSignal: this.stopping.signal },
      );
      return out.Messages ?? [];
    } catch (error) {
      if (!this.running) return [];
      this.log.warn("receive failed", { queue: source.name, error: (error as Error).message });
      await sleep(500);
      return [];
    }
  }

  /** One invocation on one batch; what it does not report failed is deleted, the rest comes back after the visibility timeout. */
  private async invoke(source: SqsSource, messages: Message[]): Promise<void> {
    const event: SQSEvent = { Records: messages.map((m) => toSqsRecord(m, source.queueArn, this.region)) };
    let failed = new Set(messages.map((m) => m.MessageId!));
    this.enter(source.name);
    try {
      const response = await withTimeout(source.handler(event), source.timeoutMs, `${source.name} timed out`);
      failed = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
    } catch (error) {
      this.log.warn("invocation failed; the whole batch will be retried", { fn: source.name, error: (error as Error).message });
    } finally {
      this.leave(source.name);
    }
    const done = messages.filter((m) => !failed.has(m.MessageId!));
    if (done.length > 0) {
      await this.clients.sqs
        .send(
          new DeleteMessageBatchCommand({
            QueueUrl: source.queueUrl,
            Entries: done.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
          }),
        )
        .catch((error: Error) => this.log.warn("delete failed", { queue: source.name, error: error.message }));
    }
  }

  /** One invocation per upload, as S3 notifies Lambda; at most `maxConcurrency` at once, the rest queued in order. */
  private async consumeUploads(source: S3Source): Promise<void> {
    // Queued invocations that have not started when the runner stops are dropped (settled, never run).
    const limit = pLimit({ concurrency: source.maxConcurrency, rejectOnClear: true });
    const invocations = new Set<Promise<void>>();
    this.stopping.signal.addEventListener("abort", () => limit.clearQueue(), { once: true });
    for await (const created of source.objectsCreated(source.bucket, this.stopping.signal)) {
      // Described now, not when its turn comes: the event carries the ETag and size of this upload, as S3's does.
      const event = this.describe(created);
      const invocation = limit(async () => this.deliverS3(source, await event))
        .catch((error: Error) => {
          if (error.name !== "AbortError") this.log.error("an upload's event could not be handed on", { fn: source.name, error: error.message });
        })
        .finally(() => invocations.delete(invocation));
      invocations.add(invocation);
    }
    await Promise.allSettled(invocations);
  }

  /** One invocation per deletion, as S3 notifies Lambda of ObjectRemoved events: in order, one at a time. */
  private async consumeRemovals(source: S3Source, removed: NonNullable<S3Source["objectsRemoved"]>): Promise<void> {
    for await (const object of removed(source.bucket, this.stopping.signal)) {
      const event = s3Event(object.bucket, object.key, "", 0, this.region, undefined, "ObjectRemoved:Delete");
      await this.deliverS3(source, event).catch((error: Error) =>
        this.log.error("a deletion's event could not be handed on", { fn: source.name, error: error.message }),
      );
    }
  }

  private async describe(created: ObjectCreated): Promise<S3Event> {
    try {
      const head = await this.clients.s3.send(new HeadObjectCommand({ Bucket: created.bucket, Key: created.key }));
      return s3Event(created.bucket, created.key, head.ETag ?? "", head.ContentLength ?? 0, this.region, head.VersionId);
    } catch (error) {
      // Deleted (or overwritten and deleted) since: S3 notified all the same, and the chunker finds it gone.
      this.log.warn("an uploaded object could not be described", { bucket: created.bucket, error: (error as Error).message });
      return s3Event(created.bucket, created.key, "", 0, this.region);
    }
  }

  private async deliverS3(source: S3Source, event: S3Event): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      this.enter(source.name);
      try {
        await withTimeout(source.handler(event), source.timeoutMs, `${source.name} timed out`);
        return;
      } catch (error) {
        this.log.warn("invocation failed", { fn: source.name, attempt, error: (error as Error).message });
        if (attempt >= source.retries) return await this.giveUp(source, event, error, attempt + 1);
      } finally {
        this.leave(source.name);
      }
      await sleep(source.retryDelaysMs[Math.min(attempt, source.retryDelaysMs.length - 1)] ?? 0);
    }
  }

  /** As Lambda hands an async event it gave up on to the function's on-failure destination. */
  private async giveUp(source: S3Source, event: S3Event, error: unknown, attempts: number): Promise<void> {
    if (!source.failureQueueUrl) {
      this.log.error("an upload's event failed every attempt and has no failure destination", { fn: source.name });
      return;
    }
    const record = onFailureRecord(source.name, event, error, attempts, this.region);
    await this.clients.sqs.send(new SendMessageCommand({ QueueUrl: source.failureQueueUrl, MessageBody: JSON.stringify(record) }));
  }
}

/** The record Lambda sends an async invocation's on-failure destination. */
export function onFailureRecord(fn: string, event: S3Event, error: unknown, attempts: number, region = "us-east-1") {
  return {
    version: "1.0",
    timestamp: new Date().toISOString(),
    requestContext: {
      requestId: randomUUID(),
      functionArn: `arn:aws:lambda:${region}:000000000000:function:${fn}:$LATEST`,
      condition: "RetriesExhausted",
      approximateInvokeCount: attempts,
    },
    requestPayload: event,
    responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
    responsePayload: { errorType: (error as Error)?.name ?? "Error", errorMessage: (error as Error)?.message ?? String(error) },
  };
}

/** The record shape Lambda builds from an SQS message. */
function toSqsRecord(m: Message, queueArn: string, region: string): SQSRecord {
  const attrs = m.Attributes ?? {};
  return {
    messageId: m.MessageId!,
    receiptHandle: m.ReceiptHandle!,
    body: m.Body ?? "",
    attributes: {
      ApproximateReceiveCount: attrs.ApproximateReceiveCount ?? "1",
      SentTimestamp: attrs.SentTimestamp ?? String(Date.now()),
      SenderId: attrs.SenderId ?? "local",
      ApproximateFirstReceiveTimestamp: attrs.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
    },
    messageAttributes: {},
    md5OfBody: m.MD5OfBody ?? "",
    eventSource: "aws:sqs",
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** The event S3 sends Lambda: keys URL-encoded, spaces as '+'. */
export function s3Event(
  bucket: string,
  key: string,
  etag: string,
  size: number,
  region = "us-east-1",
  versionId?: string,
  eventName = "ObjectCreated:Put",
): S3Event {
  const encodedKey = encodeURIComponent(key).replace(/%20/g, "+").replace(/%2F/g, "/");
  return {
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: region,
        eventTime: new Date().toISOString(),
        eventName,
        userIdentity: { principalId: "local" },
        requestParameters: { sourceIPAddress: "127.0.0.1" },
        responseElements: { "x-amz-request-id": "local", "x-amz-id-2": "local" },
        s3: {
          s3SchemaVersion: "1.0",
          configurationId: "chunker",
          bucket: { name: bucket, ownerIdentity: { principalId: "local" }, arn: `arn:aws:s3:::${bucket}` },
          object: {
            key: encodedKey,
            size,
            eTag: etag.replace(/"/g, ""),
            ...(versionId ? { versionId } : {}),
            sequencer: Date.now().toString(16),
          },
        },
      },
    ],
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]);
}
