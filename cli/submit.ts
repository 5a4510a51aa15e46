import { createReadStream, statSync } from "node:fs";
import { basename } from "node:path";
import { randomUUID } from "node:crypto";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { CreateQueueCommand, DeleteQueueCommand, GetQueueAttributesCommand, ReceiveMessageCommand, DeleteMessageBatchCommand } from "@aws-sdk/client-sqs";
import { SubscribeCommand, UnsubscribeCommand } from "@aws-sdk/client-sns";
import { URL_POINTER_SUFFIX, wiring } from "../shared/wiring.js";
import { urlPointerJson } from "../shared/sources/url-pointer.js";
import type { JobRecord } from "../shared/adapters/job-store.js";
import type { JobEvent } from "../shared/adapters/notifier.js";
import type { OutputFormat } from "../shared/domain/types.js";
import { OUTPUT_FILES } from "../shared/pipeline/stitch-job.js";
import type { StackSession } from "./stack-session.js";
import { parseJobEvent } from "../shared/domain/jobs/job-event.js";

/** Uploads a file with its options as S3 user metadata, exactly as a user dropping it by hand would. */
export async function uploadRecording(
  session: StackSession,
  path: string,
  metadata: Record<string, string>,
): Promise<{ jobId: string; key: string }> {
  const key = `uploads/${new Date().toISOString().slice(0, 10)}/${randomUUID().slice(0, 8)}/${basename(path)}`;
  const bucket = session.resources.buckets.input;
  // Multipart for big files: fauxqs (like S3) refuses single requests over a size limit.
  await new Upload({
    client: session.clients.s3,
    params: { Bucket: bucket, Key: key, Body: statSync(path).size ? createReadStream(path) : "", Metadata: metadata },
    partSize: 8 * 1024 * 1024,
    queueSize: 2,
  }).done();
  return { jobId: await jobOfUpload(session, bucket, key), key };
}

/**
 * Drops a recording by URL: a `.url.json` pointer with the URL and the options (the same keys as the
 * metadata), which the chunker fetches (shared/sources/url-source.ts). The key is named after the URL's file.
 */
export async function uploadUrlPointer(
  session: StackSession,
  url: string,
  options: Record<string, string>,
): Promise<{ jobId: string; key: string }> {
  const name = (basename(new URL(url).pathname) || "recording").replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 80);
  const key = `uploads/${new Date().toISOString().slice(0, 10)}/${randomUUID().slice(0, 8)}/${name}${URL_POINTER_SUFFIX}`;
  const bucket = session.resources.buckets.input;
  await session.clients.s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: key, Body: urlPointerJson(url, options), ContentType: "application/json" }),
  );
  return { jobId: await jobOfUpload(session, bucket, key), key };
}

/** The chunker names the job (from the object's version and options); find it through the source index. */
async function jobOfUpload(session: StackSession, bucket: string, key: string): Promise<string> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const [job] = await session.jobs.jobsForSource(bucket, key, wiring.table.sourceIndex.name);
    if (job) return job.jobId;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no job was started for s3://${bucket}/${key}: is the local stack's event runner running?`);
}

/** A private queue subscribed to the job topic: how the CLI hears that a job ended, as any subscriber would. */
export async function subscribeToJobEvents(session: StackSession) {
  const { sqs, sns } = session.clients;
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: `stt-cli-${randomUUID().slice(0, 8)}` }));
  const attrs = await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ["QueueArn"] }));
  const sub = await sns.send(
    new SubscribeCommand({
      TopicArn: session.resources.topicArn,
      Protocol: "sqs",
      Endpoint: attrs.Attributes!.QueueArn!,
      Attributes: { RawMessageDelivery: "true" },
    }),
  );
  return {
    async next(waitSeconds: number): Promise<JobEvent[]> {
      const out = await sqs.send(new ReceiveMessageCommand({ QueueUrl, WaitTimeSeconds: waitSeconds, MaxNumberOfMessages: 10 }));
      const messages = out.Messages ?? [];
      if (messages.length) {
        await sqs.send(
          new DeleteMessageBatchCommand({ QueueUrl, Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })) }),
        );
      }
      // Anything else on the topic (or a malformed message) is skipped, never trusted as a job event.
      return messages.flatMap((m) => {
        const parsed = parseJobEvent(m.Body ?? "");
        return parsed.ok ? [parsed.event] : [];
      });
    },
    async close() {
      await sns.send(new UnsubscribeCommand({ SubscriptionArn: sub.SubscriptionArn })).catch(() => undefined);
      await sqs.send(new DeleteQueueCommand({ QueueUrl })).catch(() => undefined);
    },
  };
}

export interface WaitOptions {
  onProgress?: (job: JobRecord) => void;
  timeoutMs?: number;
}

/** Waits for the job's notification, showing progress from its record meanwhile. */
export async function waitForJob(
  session: StackSession,
  events: Awaited<ReturnType<typeof subscribeToJobEvents>>,
  jobId: string,
  options: WaitOptions = {},
): Promise<{ event: JobEvent; job: JobRecord }> {
  const deadline = Date.now() + (options.timeoutMs ?? 6 * 3600_000);
  while (Date.now() < deadline) {
    for (const event of await events.next(1)) {
      // A TRANSCRIPT_CHANGED (a rename) only follows a job's end: it is not the end this waits for.
      if (event.jobId === jobId && event.event === "JOB_ENDED") {
        const job = await session.jobs.get(jobId);
        if (job) return { event, job };
      }
    }
    const job = await session.jobs.get(jobId);
    if (job) options.onProgress?.(job);
  }
  throw new Error(`timed out waiting for job ${jobId}`);
}

export async function readOutput(session: StackSession, job: JobRecord, format: OutputFormat): Promise<string> {
  // A deployment that demands redaction keeps only the redacted outputs (pipeline/redact-outputs.ts).
  const key = job.outputs?.[format] ?? job.outputs?.[`redacted_${format}`] ?? `jobs/${job.jobId}/${OUTPUT_FILES[format].file}`;
  const out = await session.clients.s3.send(new GetObjectCommand({ Bucket: session.resources.buckets.output, Key: key }));
  return out.Body!.transformToString();
}
