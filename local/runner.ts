import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type Message } from "@aws-sdk/client-sqs";
import type { S3Event, SQSEvent, SQSRecord } from "aws-lambda";
import type { PipelineClients } from "../shared/clients.js";
import type { Log } from "../shared/pipeline/context.js";
import type { S3Handler, SqsHandler } from "../shared/pipeline/queue-handlers.js";

/**
 * Delivers events the way Lambda's integrations would: S3 ObjectCreated
 * events for new objects (async invoke, two retries), SQS batches through an
 * event-source poller with bounded concurrency that honours
 * batchItemFailures (failed items stay on the queue and come back after
 * the visibility timeout; the queue's redrive policy moves them to the DLQ).
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
  bucket: string;
  handler: S3Handler;
  maxConcurrency: number;
  retries: number;
  onGiveUp?: (event: S3Event, error: unknown) => Promise<void>;
}

export interface RunnerStats {
  invocations: Record<string, number>;
  inFlight: Record<string, number>;
  maxInFlight: Record<string, number>;
}

export class EventRunner {
  private running = true;
  private readonly loops: Promise<void>[] = [];
  private readonly seen = new Set<string>();
  readonly stats: RunnerStats = { invocations: {}, inFlight: {}, maxInFlight: {} };

  constructor(
    private readonly clients: PipelineClients,
    private readonly log: Log,
    private readonly region = "us-east-1",
  ) {}

  addSqsSource(source: SqsSource): void {
    for (let worker = 0; worker < source.maxConcurrency; worker++) this.loops.push(this.pollQueue(source));
  }

  addS3Source(source: S3Source): void {
    this.loops.push(this.pollBucket(source));
  }

  async stop(): Promise<void> {
    this.running = false;
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

  private async pollQueue(source: SqsSource): Promise<void> {
    while (this.running) {
      let messages: Message[] = [];
      try {
        const out = await this.clients.sqs.send(
          new ReceiveMessageCommand({
            QueueUrl: source.queueUrl,
            MaxNumberOfMessages: source.batchSize,
            WaitTimeSeconds: 1,
            MessageSystemAttributeNames: ["All"],
            MessageAttributeNames: ["All"],
          }),
        );
        messages = out.Messages ?? [];
      } catch (error) {
        if (!this.running) return;
        this.log.warn("receive failed", { queue: source.name, error: (error as Error).message });
        await sleep(500);
        continue;
      }
      if (messages.length === 0) continue;
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
  }

  private async pollBucket(source: S3Source): Promise<void> {
    const active = new Set<Promise<void>>();
    while (this.running) {
      try {
        let token: string | undefined;
        do {
          const out = await this.clients.s3.send(new ListObjectsV2Command({ Bucket: source.bucket, ContinuationToken: token }));
          for (const object of out.Contents ?? []) {
            const id = `${object.Key}\n${object.ETag}`;
            if (this.seen.has(id)) continue;
            this.seen.add(id);
            while (active.size >= source.maxConcurrency) await Promise.race(active);
            const task = this.deliverS3(source, object.Key!, object.ETag ?? "", object.Size ?? 0).finally(() => active.delete(task));
            active.add(task);
          }
          token = out.NextContinuationToken;
        } while (token && this.running);
      } catch (error) {
        if (this.running) this.log.warn("listing the input bucket failed", { error: (error as Error).message });
      }
      await sleep(200);
    }
    await Promise.allSettled(active);
  }

  private async deliverS3(source: S3Source, key: string, etag: string, size: number): Promise<void> {
    const event = s3Event(source.bucket, key, etag, size, this.region);
    for (let attempt = 0; attempt <= source.retries; attempt++) {
      this.enter("chunker");
      try {
        await source.handler(event);
        return;
      } catch (error) {
        this.log.warn("chunker invocation failed", { attempt, error: (error as Error).message });
        if (attempt === source.retries) await source.onGiveUp?.(event, error);
        else await sleep(1000 * (attempt + 1));
      } finally {
        this.leave("chunker");
      }
    }
  }
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
export function s3Event(bucket: string, key: string, etag: string, size: number, region = "us-east-1"): S3Event {
  const encodedKey = encodeURIComponent(key).replace(/%20/g, "+").replace(/%2F/g, "/");
  return {
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: region,
        eventTime: new Date().toISOString(),
        eventName: "ObjectCreated:Put",
        userIdentity: { principalId: "local" },
        requestParameters: { sourceIPAddress: "127.0.0.1" },
        responseElements: { "x-amz-request-id": "local", "x-amz-id-2": "local" },
        s3: {
          s3SchemaVersion: "1.0",
          configurationId: "chunker",
          bucket: { name: bucket, ownerIdentity: { principalId: "local" }, arn: `arn:aws:s3:::${bucket}` },
          object: { key: encodedKey, size, eTag: etag.replace(/"/g, ""), sequencer: Date.now().toString(16) },
        },
      },
    ],
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
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
