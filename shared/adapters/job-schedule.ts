import { DeleteCommand, GetCommand, PutCommand, QueryCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import type { TranscribingJob } from "../domain/jobs/fair-share.js";
import { wiring } from "../wiring.js";
import { isConditionFailure } from "./job-store.js";

/** A job waiting for a running slot (`maxRunningJobs`): its queue item, oldest first. */
export interface QueuedJob {
  jobId: string;
  /** When it was queued (the job record's `queuedAt`): the order jobs start in. */
  queuedAt: string;
  /** Its expected segments, for its share once it starts. */
  segments: number;
}

/** The jobs running now, and of those, the ones with segments still to transcribe (the shares are theirs). */
export interface ScheduleSnapshot {
  running: string[];
  transcribing: TranscribingJob[];
}

/**
 * Who runs and who waits (pipeline/schedule-jobs.ts, pipeline/release-segments.ts): the job table's schedule
 * item and queue items over DynamoDB (ScheduleStore), or an in-memory one in unit tests. Every method is safe
 * to repeat.
 */
export interface JobSchedule {
  /**
   * Admits the job as running, with its entry for the shares, if fewer than `maxRunning` jobs run (or it runs
   * already): true when it runs.
   */
  admit(job: TranscribingJob, maxRunning: number): Promise<boolean>;
  /** The job's segments are all transcribed: it stops taking a share (it still runs until it ends). */
  doneTranscribing(jobId: string): Promise<void>;
  /** The job ended: its running slot and share are free. */
  leave(jobId: string): Promise<void>;
  snapshot(): Promise<ScheduleSnapshot>;
  enqueue(job: QueuedJob): Promise<void>;
  dequeue(job: Pick<QueuedJob, "jobId" | "queuedAt">): Promise<void>;
  /** The oldest waiting jobs, at most `limit` (a strongly consistent read: a job queued just now is seen). */
  oldestQueued(limit: number): Promise<QueuedJob[]>;
}

/** The schedule item: `running` (jobId -> since) and `transcribing` (jobId -> { segments, since }). */
export const SCHEDULE_KEY = { pk: "SCHEDULE", sk: "JOBS" } as const;
/** Queue items: pk = QUEUED, sk = <queuedAt>#<jobId>, so a query reads them oldest first. */
const QUEUE_PK = wiring.table.queuedJobsPartition;

const scheduleItemSchema = z.object({
  running: z.record(z.string(), z.string()).default({}),
  transcribing: z.record(z.string(), z.object({ segments: z.number(), since: z.string() })).default({}),
});

const queueItemSchema = z.object({ jobId: z.string().min(1), queuedAt: z.string(), segments: z.number() });

/**
 * One item holds the running jobs: admitting is a single conditional update (`size(running) < max`), so two
 * chunkers can never both take the last slot, with no transactions. The map is bounded by `maxRunningJobs`
 * (at most 10,000 ids, well inside an item's 400 KB). Waiting jobs are items of their own under one
 * partition, read oldest first with a consistent query.
 */
export class ScheduleStore implements JobSchedule {
  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
  ) {}

  async admit(job: TranscribingJob, maxRunning: number): Promise<boolean> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: SCHEDULE_KEY,
            UpdateExpression: "SET running.#j = if_not_exists(running.#j, :since), transcribing.#j = if_not_exists(transcribing.#j, :entry)",
            ConditionExpression: "attribute_exists(running.#j) OR size(running) < :max",
            ExpressionAttributeNames: { "#j": job.jobId },
            ExpressionAttributeValues: {
              ":since": job.since,
              ":entry": { segments: job.segments, since: job.since },
              ":max": maxRunning,
            },
          }),
        );
        return true;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        // Full, or no schedule item yet: create it (empty) once, then ask again.
        if (!(await this.createItem())) return false;
      }
    }
    return false;
  }

  /** True when this call created the item. */
  private async createItem(): Promise<boolean> {
    try {
      await this.db.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...SCHEDULE_KEY, running: {}, transcribing: {} },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  async doneTranscribing(jobId: string): Promise<void> {
    await this.remove(jobId, "REMOVE transcribing.#j");
  }

  async leave(jobId: string): Promise<void> {
    await this.remove(jobId, "REMOVE running.#j, transcribing.#j");
  }

  private async remove(jobId: string, expression: string): Promise<void> {
    try {
      await this.db.send(
        new UpdateCommand({
          TableName: this.table,
          Key: SCHEDULE_KEY,
          UpdateExpression: expression,
          // No item, no entry: nothing to remove (and no item made of nothing).
          ConditionExpression: "attribute_exists(pk)",
          ExpressionAttributeNames: { "#j": jobId },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw error;
    }
  }

  async snapshot(): Promise<ScheduleSnapshot> {
    const out = await this.db.send(new GetCommand({ TableName: this.table, Key: SCHEDULE_KEY, ConsistentRead: true }));
    const item = scheduleItemSchema.parse(out.Item ?? {});
    return {
      running: Object.keys(item.running),
      transcribing: Object.entries(item.transcribing).map(([jobId, entry]) => ({ jobId, ...entry })),
    };
  }

  async enqueue(job: QueuedJob): Promise<void> {
    await this.db.send(new PutCommand({ TableName: this.table, Item: { pk: QUEUE_PK, sk: queueSortKey(job), ...job } }));
  }

  async dequeue(job: Pick<QueuedJob, "jobId" | "queuedAt">): Promise<void> {
    await this.db.send(new DeleteCommand({ TableName: this.table, Key: { pk: QUEUE_PK, sk: queueSortKey(job) } }));
  }

  async oldestQueued(limit: number): Promise<QueuedJob[]> {
    const out = await this.db.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: "pk = :pk",
        ExpressionAttributeValues: { ":pk": QUEUE_PK },
        ConsistentRead: true,
        Limit: limit,
      }),
    );
    return (out.Items ?? []).map((item) => queueItemSchema.parse(item));
  }
}

function queueSortKey(job: Pick<QueuedJob, "jobId" | "queuedAt">): string {
  return `${job.queuedAt}#${job.jobId}`;
}
