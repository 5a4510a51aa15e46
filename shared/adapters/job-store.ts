import { setTimeout as sleep } from "node:timers/promises";
import {
  BatchWriteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import { ConditionalCheckFailedException } from "@aws-sdk/client-dynamodb";
import { z } from "zod";
import type { TranscriptSegment } from "../domain/types.js";
import type { JobBilling } from "../domain/jobs/job-billing.js";
import { JOB_STATUSES, TERMINAL_STATUSES, jobBillingSchema, type JobStatus } from "../domain/jobs/job-event.js";
import { issueText } from "../domain/options/options.js";
import { PermanentError } from "../errors.js";

export type { JobStatus };
export const TERMINAL: readonly JobStatus[] = TERMINAL_STATUSES;

export interface SourceObject {
  bucket: string;
  key: string;
  versionId?: string;
  etag?: string;
  size?: number;
}

/** The job item: pk = JOB#<jobId>, sk = JOB. */
export interface JobRecord {
  jobId: string;
  status: JobStatus;
  source: SourceObject;
  /**
   * The job's options as parseJobOptions returned them, or `{ metadata }` when they did not parse (the job
   * is then FAILED). Steps read them with domain/options/options.ts's storedJobOptions.
   */
  options: Record<string, unknown>;
  createdAt: string;
  updatedAt: string;
  chunkedAt?: string;
  completedAt?: string;
  duration?: number;
  segmentCount?: number;
  /** Indexes of segments whose result is stored; a set, so a repeated ADD counts once. */
  doneSegments?: Set<number>;
  language?: string | null;
  speakers?: string[];
  wordCount?: number;
  outputs?: Record<string, string>;
  /**
   * Seconds of audio the pipeline sent to the provider for the job (segment requests + speaker probes),
   * set when it completes; `billing` has the parts. The rules are in domain/jobs/job-billing.ts.
   */
  audioSecondsBilled?: number;
  billing?: JobBilling;
  /** The realtime session whose recording this job transcribes (S3 metadata `realtime-session`), if any. */
  realtimeSessionId?: string;
  error?: string;
  errorCode?: string;
  /** The most recent retryable error, kept so a dead-lettered job can say why it failed. */
  lastError?: string;
  notifiedAt?: string;
  stitchLeaseUntil?: number;
  /** Segments 0..speakersSettled-1 have settled speaker labels (diarized jobs; see settle-job-speakers.ts). */
  speakersSettled?: number;
  speakerLeaseUntil?: number;
  expiresAt?: number;
}

export interface UtteranceItem extends TranscriptSegment {
  jobId: string;
}

const jobKey = (jobId: string) => ({ pk: `JOB#${jobId}`, sk: "JOB" });
/** The realtime gateway's session item, beside the job items in the same table (the gateway writes it; see realtime/). */
export const realtimeSessionKey = (sessionId: string) => ({ pk: `SESSION#${sessionId}`, sk: "SESSION" });
/** Zero-padded milliseconds so a sort-key range query selects utterances by time. */
export const utteranceSortKey = (start: number, id: number) =>
  `UTT#${String(Math.round(start * 1000)).padStart(10, "0")}#${String(id).padStart(6, "0")}`;
export const sourceIndexKey = (bucket: string, key: string) => `SOURCE#${bucket}/${key}`;

export function isConditionFailure(error: unknown): boolean {
  return (
    error instanceof ConditionalCheckFailedException ||
    (error instanceof Error && error.name === "ConditionalCheckFailedException")
  );
}

/**
 * The job table. Every write is idempotent or conditional, because each
 * caller may run twice (at-least-once delivery) and dynalite has no
 * transactions: state moves forward only through conditional updates.
 */
export class JobStore {
  /** Stitch leases this store's process holds (jobId -> lease end), so only the holder hands one back. */

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly retentionDays?: number,
  ) {}

  /** An update that applies only if its condition holds: false, not an error, when it does not. */
  private async conditionalUpdate(input: ConstructorParameters<typeof UpdateCommand>[0]): Promise<boolean> {
    try {
      await this.db.send(new UpdateCommand(input));
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: jobKey(jobId), ConsistentRead: true }));
    return out.Item ? jobRecordOf(out.Item) : undefined;
  }

  /** Creates the job unless it exists; returns the record that is stored either way. */
  async create(
    job: Pick<JobRecord, "jobId" | "source" | "options" | "realtimeSessionId">,
    now: Date,
  ): Promise<{ created: boolean; job: JobRecord }> {
    const record: JobRecord = {
      ...job,
      status: "CHUNKING",
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      expiresAt: this.retentionDays ? Math.floor(now.getTime() / 1000) + this.retentionDays * 86400 : undefined,
    };
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...jobKey(job.jobId),
            ...record,
            gsi1pk: sourceIndexKey(job.source.bucket, job.source.key),
            gsi1sk: record.createdAt,
          },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return { created: true, job: record };
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
      const existing = await this.get(job.jobId);
      if (!existing) throw error;
      return { created: false, job: existing };
    }
  }

  /** Chunking finished: the segment count is known from now on. */
  async markChunked(jobId: string, fields: { segmentCount: number; duration: number }, now: Date): Promise<JobRecord | undefined> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: jobKey(jobId),
          UpdateExpression: "SET #s = :running, segmentCount = :n, #d = :d, chunkedAt = :now, updatedAt = :now",
          ConditionExpression: "#s = :chunking OR (#s = :running AND segmentCount = :n)",
          ExpressionAttributeNames: { "#s": "status", "#d": "duration" },
          ExpressionAttributeValues: {
            ":running": "RUNNING",
            ":chunking": "CHUNKING",
            ":n": fields.segmentCount,
            ":d": fields.duration,
            ":now": now.toISOString(),
          },
          ReturnValues: "ALL_NEW",
        }),
      );
      return out.Attributes ? jobRecordOf(out.Attributes) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return this.get(jobId);
      throw error;
    }
  }

  /** Records one segment as done. ADD on a set is idempotent, so a redelivered message counts once. */
  async addDoneSegment(jobId: string, index: number, now: Date): Promise<JobRecord | undefined> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: jobKey(jobId),
          UpdateExpression: "ADD doneSegments :seg SET updatedAt = :now",
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeValues: { ":seg": new Set([index]), ":now": now.toISOString() },
          ReturnValues: "ALL_NEW",
        }),
      );
      return out.Attributes ? jobRecordOf(out.Attributes) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /**
   * Claims the right to stitch for `leaseSeconds`. A stitcher that dies loses
   * its lease when it expires, so the job can never be stuck behind it.
   */
  async claimStitch(jobId: string, nowMs: number, leaseSeconds: number): Promise<number | undefined> {
    const until = nowMs + leaseSeconds * 1000;
    const applied = await this.conditionalUpdate({
      TableName: this.table,
      Key: jobKey(jobId),
      UpdateExpression: "SET stitchLeaseUntil = :until",
      ConditionExpression: "#s = :running AND (attribute_not_exists(stitchLeaseUntil) OR stitchLeaseUntil < :now)",
      ExpressionAttributeNames: { "#s": "status" },
      ExpressionAttributeValues: { ":running": "RUNNING", ":now": nowMs, ":until": until },
    });
    return applied ? until : undefined;
  }

  /**
   * Hands back a stitch lease after its stitch failed, so the message's next delivery (after a retry
   * backoff of seconds: queue-handlers.ts) does not find the job "being stitched" until the lease ends
   * (the stitcher's timeout + 30 s). Conditional on the lease being the one `claimStitch` returned, so a
   * lease another worker took since is left alone.
   */
  async releaseStitch(jobId: string, until: number): Promise<boolean> {
    return this.conditionalUpdate({
      TableName: this.table,
      Key: jobKey(jobId),
      UpdateExpression: "REMOVE stitchLeaseUntil",
      ConditionExpression: "stitchLeaseUntil = :until",
      ExpressionAttributeValues: { ":until": until },
    });
  }

  /**
   * Claims the right to settle the speakers of the segments after the first
   * `settled`, for `leaseSeconds`: one settler per job at a time, and only
   * from the state it read. Returns the lease's end, which the holder passes
   * back to record progress or to release it.
   */
  async claimSpeakers(jobId: string, settled: number, nowMs: number, leaseSeconds: number): Promise<number | undefined> {
    const until = nowMs + leaseSeconds * 1000;
    const applied = await this.conditionalUpdate({
      TableName: this.table,
      Key: jobKey(jobId),
      UpdateExpression: "SET speakerLeaseUntil = :until",
      ConditionExpression: `(#s = :running OR #s = :chunking) AND (attribute_not_exists(speakerLeaseUntil) OR speakerLeaseUntil < :now) AND ${settledIs(settled)}`,
      ExpressionAttributeNames: { "#s": "status" },
      ExpressionAttributeValues: { ":running": "RUNNING", ":chunking": "CHUNKING", ":now": nowMs, ":until": until, ":k": settled },
    });
    return applied ? until : undefined;
  }

  /** Records progress from `from` to `to` settled segments and hands the lease back; the record after the write. */
  async recordSpeakersSettled(jobId: string, from: number, to: number, lease: number): Promise<JobRecord | undefined> {
    try {
      const out = await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: jobKey(jobId),
          UpdateExpression: "SET speakersSettled = :to, updatedAt = :now REMOVE speakerLeaseUntil",
          ConditionExpression: `speakerLeaseUntil = :lease AND ${settledIs(from)}`,
          ExpressionAttributeValues: { ":to": to, ":k": from, ":lease": lease, ":now": new Date().toISOString() },
          ReturnValues: "ALL_NEW",
        }),
      );
      return out.Attributes ? jobRecordOf(out.Attributes) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** Hands back a speaker lease after a failed step, if it is still this holder's. */
  async releaseSpeakers(jobId: string, lease: number): Promise<void> {
    await this.conditionalUpdate({
      TableName: this.table,
      Key: jobKey(jobId),
      UpdateExpression: "REMOVE speakerLeaseUntil",
      ConditionExpression: "speakerLeaseUntil = :lease",
      ExpressionAttributeValues: { ":lease": lease },
    });
  }

  /**
   * RUNNING -> COMPLETED. Returns false when another writer already finished the job. The cost is set here,
   * once, from the stored results: never added up message by message (an ADD that a redelivery repeats).
   */
  async complete(
    jobId: string,
    fields: Required<Pick<JobRecord, "language" | "speakers" | "wordCount" | "outputs" | "duration" | "audioSecondsBilled" | "billing">>,
    now: Date,
  ): Promise<boolean> {
    const applied = await this.conditionalUpdate({
      TableName: this.table,
      Key: jobKey(jobId),
      UpdateExpression:
        "SET #s = :done, #lang = :lang, speakers = :speakers, wordCount = :wc, outputs = :outputs, #d = :d, " +
        "audioSecondsBilled = :billed, billing = :billing, completedAt = :now, updatedAt = :now REMOVE stitchLeaseUntil",
      ConditionExpression: "#s = :running",
      ExpressionAttributeNames: { "#s": "status", "#lang": "language", "#d": "duration" },
      ExpressionAttributeValues: {
        ":done": "COMPLETED",
        ":running": "RUNNING",
        ":lang": fields.language,
        ":speakers": fields.speakers,
        ":wc": fields.wordCount,
        ":outputs": fields.outputs,
        ":d": fields.duration,
        ":billed": fields.audioSecondsBilled,
        ":billing": fields.billing,
        ":now": now.toISOString(),
      },
    });
    return applied;
  }

  /**
   * Writes a completed job's link and cost on the realtime session it came from (a SET of fixed values, so
   * repeating it changes nothing). Returns false when the session item is gone (expired, or never in this
   * table): the job does not create one.
   */
  async linkRealtimeSession(sessionId: string, link: { jobId: string; audioSecondsBilled: number }): Promise<boolean> {
    return this.conditionalUpdate({
      TableName: this.table,
      Key: realtimeSessionKey(sessionId),
      UpdateExpression: "SET batchJobId = :job, batchAudioSecondsBilled = :billed",
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeValues: { ":job": link.jobId, ":billed": link.audioSecondsBilled },
    });
  }

  /** Any non-terminal state -> FAILED. Returns false when the job had already ended. */
  async fail(jobId: string, reason: string, code: string, now: Date): Promise<boolean> {
    return this.conditionalUpdate({
      TableName: this.table,
      Key: jobKey(jobId),
      UpdateExpression: "SET #s = :failed, #e = :reason, errorCode = :code, updatedAt = :now, completedAt = :now",
      ConditionExpression: "attribute_exists(pk) AND #s <> :failed AND #s <> :done",
      ExpressionAttributeNames: { "#s": "status", "#e": "error" },
      ExpressionAttributeValues: { ":failed": "FAILED", ":done": "COMPLETED", ":reason": reason, ":code": code, ":now": now.toISOString() },
    });
  }

  async noteError(jobId: string, reason: string): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: jobKey(jobId),
        UpdateExpression: "SET lastError = :reason",
        ConditionExpression: "attribute_exists(pk)",
        ExpressionAttributeValues: { ":reason": reason },
      }),
    );
  }

  async markNotified(jobId: string, now: Date): Promise<void> {
    await this.db.send(
      new UpdateCommand({
        TableName: this.table,
        Key: jobKey(jobId),
        UpdateExpression: "SET notifiedAt = :now",
        ExpressionAttributeValues: { ":now": now.toISOString() },
      }),
    );
  }

  /** Puts are idempotent: the same utterance always lands on the same key. */
  /** `expiresAt` is the job's, so utterances expire with their job (same TTL attribute). */
  async putUtterances(jobId: string, utterances: TranscriptSegment[], expiresAt?: number): Promise<void> {
    const items = utterances.map((u) => ({
      pk: `JOB#${jobId}`,
      sk: utteranceSortKey(u.start, u.id),
      jobId,
      ...u,
      ...(expiresAt ? { expiresAt } : {}),
    }));
    for (let i = 0; i < items.length; i += 25) {
      let pending: Record<string, unknown>[] = items.slice(i, i + 25).map((Item) => ({ PutRequest: { Item } }));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 8) throw new Error("DynamoDB kept returning unprocessed utterance writes");
        const out = await this.db.send(new BatchWriteCommand({ RequestItems: { [this.table]: pending } }));
        pending = (out.UnprocessedItems?.[this.table] ?? []) as Record<string, unknown>[];
        if (pending.length) await sleep(50 * 2 ** attempt);
      }
    }
  }

  async utterances(jobId: string, range?: { from: number; to: number }): Promise<UtteranceItem[]> {
    const items: UtteranceItem[] = [];
    let startKey: Record<string, unknown> | undefined;
    do {
      const out = await this.db.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: range ? "pk = :pk AND sk BETWEEN :a AND :b" : "pk = :pk AND begins_with(sk, :utt)",
          ExpressionAttributeValues: range
            ? { ":pk": `JOB#${jobId}`, ":a": utteranceSortKey(range.from, 0), ":b": utteranceSortKey(range.to, 999999) }
            : { ":pk": `JOB#${jobId}`, ":utt": "UTT#" },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) {
        items.push({ jobId, id: item.id, start: item.start, end: item.end, text: item.text, speaker_id: item.speaker_id ?? null });
      }
      startKey = out.LastEvaluatedKey;
    } while (startKey);
    return items;
  }

  async jobsForSource(bucket: string, key: string, indexName: string): Promise<JobRecord[]> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: indexName,
        KeyConditionExpression: "gsi1pk = :pk",
        ExpressionAttributeValues: { ":pk": sourceIndexKey(bucket, key) },
        ScanIndexForward: false,
      }),
    );
    return (out.Items ?? []).map(jobRecordOf);
  }
}

/** speakersSettled is absent until the first step: absent counts as 0. */
function settledIs(settled: number): string {
  return settled === 0 ? "(attribute_not_exists(speakersSettled) OR speakersSettled = :k)" : "speakersSettled = :k";
}

/** The job item as it is read back: every field the pipeline writes, typed; other attributes are dropped. */
const jobRecordSchema = z.object({
  jobId: z.string().min(1),
  status: z.enum(JOB_STATUSES),
  source: z.object({
    bucket: z.string(),
    key: z.string(),
    versionId: z.string().optional(),
    etag: z.string().optional(),
    size: z.number().optional(),
  }),
  options: z.record(z.string(), z.unknown()),
  createdAt: z.string(),
  updatedAt: z.string(),
  chunkedAt: z.string().optional(),
  completedAt: z.string().optional(),
  duration: z.number().optional(),
  segmentCount: z.number().int().nonnegative().optional(),
  // A DynamoDB number set: the document client reads it as a Set.
  doneSegments: z.set(z.coerce.number().int().nonnegative()).optional(),
  language: z.string().nullable().optional(),
  speakers: z.array(z.string()).optional(),
  wordCount: z.number().optional(),
  outputs: z.record(z.string(), z.string()).optional(),
  audioSecondsBilled: z.number().optional(),
  billing: jobBillingSchema.optional(),
  realtimeSessionId: z.string().optional(),
  error: z.string().optional(),
  errorCode: z.string().optional(),
  lastError: z.string().optional(),
  notifiedAt: z.string().optional(),
  stitchLeaseUntil: z.number().optional(),
  speakersSettled: z.number().int().nonnegative().optional(),
  speakerLeaseUntil: z.number().optional(),
  expiresAt: z.number().optional(),
}) satisfies z.ZodType<JobRecord>;

/**
 * A job item read back from the table. Only the pipeline writes job items, so one that does not parse was
 * written by something else: no step can go on with it, and the error names the field.
 */
export function jobRecordOf(item: Record<string, unknown>): JobRecord {
  const parsed = jobRecordSchema.safeParse(item);
  if (!parsed.success) {
    const jobId = typeof item.jobId === "string" ? ` ${item.jobId}` : "";
    throw new PermanentError("bad_job_record", `the job record${jobId} is not valid: ${issueText(parsed.error.issues[0])}`);
  }
  return parsed.data;
}
