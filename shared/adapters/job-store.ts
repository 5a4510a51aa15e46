import {
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  UpdateCommand,
  type DynamoDBDocumentClient,
} from "@aws-sdk/lib-dynamodb";
import { z } from "zod";
import type { NamedSegment } from "../domain/types.js";
import type { JobBilling } from "../domain/jobs/job-billing.js";
import { COST_STAGES, type CostStage, type CostUsd, type LambdaUsage } from "../domain/jobs/cost-estimate.js";
import { JOB_STATUSES, TERMINAL_STATUSES, costUsdSchema, jobBillingSchema, lambdaUsageSchema, type JobStatus } from "../domain/jobs/job-event.js";
import { issueText } from "../domain/options/options.js";
import { PermanentError } from "../errors.js";
import { wiring } from "../wiring.js";
import { conditionalDelete, conditionalUpdate, isConditionFailure } from "./conditional-writes.js";
import { DailyCostItems } from "./daily-cost-items.js";
import { UtteranceItems } from "./utterance-items.js";
import { RegistryItems } from "./registry-items.js";
import { languageShareSchema, type LanguageShare } from "../domain/languages/language-shares.js";

export type { JobStatus };
export { isConditionFailure } from "./conditional-writes.js";
export { utteranceSortKey } from "./utterance-items.js";
export { dailyCostKey, dailyCostJobAttribute, dailyCostOf } from "./daily-cost-items.js";
export const TERMINAL: readonly JobStatus[] = TERMINAL_STATUSES;

export interface SourceObject {
  bucket: string;
  key: string;
  versionId?: string;
  etag?: string;
  size?: number;
  /** A recording by URL (a `*.url.json` pointer): the URL without its query string, fragment or credentials. */
  url?: string;
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
  /** Segments whose audio and message the chunker has stored: 0..cutSegments-1 (pipeline/release-segments.ts). */
  cutSegments?: number;
  /** Segments sent to the queue: 0..releasedSegments-1, as the job's share lets them go. */
  releasedSegments?: number;
  /** Who released which range [from, to): a repeat of that step (a redelivery) sends the same range again. */
  releaseClaims?: Record<string, [number, number]>;
  /**
   * Segment index -> the message whose delivery is asking the provider for it, until when (epoch ms): a copy of
   * that segment's message (duplicate S3 events, resent ranges) finds it taken and is consumed without a request.
   * An entry goes when its segment is counted done.
   */
  requestLeases?: Record<string, { holder: string; until: number }>;
  /** When the job started waiting for a running slot (QUEUED; `maxRunningJobs`): the order queued jobs start in. */
  queuedAt?: string;
  /** When it left the queue. */
  startedAt?: string;
  language?: string | null;
  /**
   * Completed jobs whose segments' languages are known: how long each language was spoken and its fraction of
   * the speech, most first (domain/languages/language-shares.ts; Amazon Transcribe's `LanguageCodes`).
   */
  languages?: LanguageShare[];
  speakers?: string[];
  wordCount?: number;
  outputs?: Record<string, string>;
  /**
   * Seconds of audio the pipeline sent to the provider for the job (segment requests + speaker probes),
   * set when it completes; `billing` has the parts. The rules are in domain/jobs/job-billing.ts.
   */
  audioSecondsBilled?: number;
  billing?: JobBilling;
  /**
   * Lambda use per stage (chunker, transcriber, stitcher): GB-seconds and invocations, one ADD per invocation
   * (pipeline/invocation-meter.ts), redeliveries included. Stored as flat attributes (`chunkerGbSeconds`,
   * `chunkerInvocations`, ...): ADD cannot reach into a map that does not exist yet.
   */
  lambda?: LambdaUsage;
  /** Provider audio sent for the job so far, every attempt that reached the provider (added per invocation). */
  providerSecondsSent?: number;
  /** Audio sent again so far (domain/jobs/job-billing.ts's retrySeconds; added per invocation). */
  retrySeconds?: number;
  /** Segments whose provider request was answered at least once: a request for one of them again is a retry. */
  answeredSegments?: Set<number>;
  /** The chunker's estimate (pipeline/cost-cap.ts), and the day and amount it reserved under the daily limit. */
  costEstimate?: JobCostEstimate;
  /** What the job cost in dollars: set when it completes, or when a failed or cancelled job is settled. */
  costUsd?: CostUsd;
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
  /**
   * Completed jobs: speaker label -> the person's name, for the labels that have one (an enrolled voice found
   * in the recording, or a rename: pipeline/rename-speaker.ts). Every output shows these names.
   */
  speakerNames?: Record<string, string>;
  /** How many times the completed transcript was changed since (renames); absent = never. */
  transcriptRevision?: number;
}

/** The estimate a job was admitted with (pipeline/cost-cap.ts). */
export interface JobCostEstimate {
  usd: number;
  /** The UTC day whose counter holds this job's reservation, when a daily limit applied. */
  day?: string;
  reservedUsd?: number;
}

/** What one invocation adds to its job's record (pipeline/invocation-meter.ts): one UpdateItem with ADD. */
export interface UsageDelta {
  stage: CostStage;
  gbSeconds: number;
  invocations: number;
  providerSecondsSent: number;
  retrySeconds: number;
  answeredSegments: readonly number[];
}

/** The daily cost counter (`pk = COST#<yyyy-mm-dd>`, `sk = COST`): the total, and each job's share (`job_<id>`). */
export interface DailyCost {
  day: string;
  totalUsd: number;
  jobs: Record<string, number>;
}

export type DailyReservation = { reserved: true; already: boolean } | { reserved: false; spentUsd: number };

/** An utterance item: the transcript's segment, with its speaker's name where the label has one. */
export interface UtteranceItem extends NamedSegment {
  jobId: string;
}

/** The value of the recent-jobs index's partition key: every job is in it (wiring.table.recentIndex). */
export const RECENT_INDEX_KEY = "JOBS";
/** Items read per page of the recent-jobs index when filtering by state (the filter applies after the read). */
const RECENT_FILTERED_PAGE = 25;
/** The recent-jobs index's sort key: newest first when read backwards; the id keeps jobs of the same millisecond apart. */
export const recentIndexSortKey = (createdAt: string, jobId: string) => `${createdAt}#${jobId}`;

/** What the stitcher writes when it completes a job (JobRecords.complete). */
export type CompletedFields = Required<
  Pick<JobRecord, "language" | "speakers" | "wordCount" | "outputs" | "duration" | "audioSecondsBilled" | "billing">
> &
  Pick<JobRecord, "speakerNames" | "costUsd" | "languages">;

const jobKey = (jobId: string) => ({ pk: `JOB#${jobId}`, sk: "JOB" });
/** The realtime gateway's session item, beside the job items in the same table (the gateway writes it; see realtime/). */
export const realtimeSessionKey = (sessionId: string) => ({ pk: `SESSION#${sessionId}`, sk: "SESSION" });
export const sourceIndexKey = (bucket: string, key: string) => `SOURCE#${bucket}/${key}`;


/**
 * The job table. Every write is idempotent or conditional, because each
 * caller may run twice (at-least-once delivery) and dynalite has no
 * transactions: state moves forward only through conditional updates.
 */
export class JobStore {
  /** Stitch leases this store's process holds (jobId -> lease end), so only the holder hands one back. */

  private readonly dailyCosts: DailyCostItems;
  private readonly utteranceItems: UtteranceItems;
  private readonly registry: RegistryItems;

  constructor(
    private readonly db: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly retentionDays?: number,
  ) {
    this.dailyCosts = new DailyCostItems(db, table, retentionDays);
    this.utteranceItems = new UtteranceItems(db, table);
    this.registry = new RegistryItems(db, table);
  }

  private conditionalUpdate(input: ConstructorParameters<typeof UpdateCommand>[0]): Promise<boolean> {
    return conditionalUpdate(this.db, input);
  }

  private conditionalDelete(input: ConstructorParameters<typeof DeleteCommand>[0]): Promise<boolean> {
    return conditionalDelete(this.db, input);
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
      // Maps, so each release and each segment's request can add its own entry (claimRelease, claimSegmentRequest).
      releaseClaims: {},
      requestLeases: {},
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
            gsi3pk: RECENT_INDEX_KEY,
            gsi3sk: recentIndexSortKey(record.createdAt, job.jobId),
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

  /**
   * Chunking finished: the segment count is known from now on. CHUNKING -> RUNNING; a QUEUED job stays QUEUED
   * with its count (it starts later: pipeline/schedule-jobs.ts). A queued job started meanwhile moved to
   * CHUNKING, so the two forms are tried in turn until one holds or neither can.
   */
  async markChunked(jobId: string, fields: { segmentCount: number; duration: number }, now: Date): Promise<JobRecord | undefined> {
    const values = { ":n": fields.segmentCount, ":d": fields.duration, ":now": now.toISOString() };
    for (let attempt = 0; attempt < 3; attempt++) {
      const running = await this.updateIf({
        TableName: this.table,
        Key: jobKey(jobId),
        UpdateExpression: "SET #s = :running, segmentCount = :n, #d = :d, chunkedAt = :now, updatedAt = :now",
        ConditionExpression: "#s = :chunking OR (#s = :running AND segmentCount = :n)",
        ExpressionAttributeNames: { "#s": "status", "#d": "duration" },
        ExpressionAttributeValues: { ...values, ":running": "RUNNING", ":chunking": "CHUNKING" },
      });
      if (running) return running;
      const queued = await this.updateIf({
        TableName: this.table,
        Key: jobKey(jobId),
        UpdateExpression: "SET segmentCount = :n, #d = :d, chunkedAt = :now, updatedAt = :now",
        ConditionExpression: "#s = :queued AND (attribute_not_exists(segmentCount) OR segmentCount = :n)",
        ExpressionAttributeNames: { "#s": "status", "#d": "duration" },
        ExpressionAttributeValues: { ...values, ":queued": "QUEUED" },
      });
      if (queued) return queued;
      const job = await this.get(jobId);
      if (!job || job.status !== "CHUNKING") return job;
    }
    return this.get(jobId);
  }

  /** An update returning the record after it, or undefined when its condition does not hold. */
  private async updateIf(input: ConstructorParameters<typeof UpdateCommand>[0]): Promise<JobRecord | undefined> {
    try {
      const out = await this.db.send(new UpdateCommand({ ...input, ReturnValues: "ALL_NEW" }));
      return out.Attributes ? jobRecordOf(out.Attributes) : undefined;
    } catch (error) {
      if (isConditionFailure(error)) return undefined;
      throw error;
    }
  }

  /** The chunker stored segments 0..count-1 (audio and message): cutSegments moves up to count, never down. */
  async markCut(jobId: string, count: number, now: Date): Promise<JobRecord | undefined> {
    const moved = await this.updateIf({
      TableName: this.table,
      Key: jobKey(jobId),
      UpdateExpression: "SET cutSegments = :n, updatedAt = :now",
      ConditionExpression: "attribute_exists(pk) AND (attribute_not_exists(cutSegments) OR cutSegments < :n)",
      ExpressionAttributeValues: { ":n": count, ":now": now.toISOString() },
    });
    return moved ?? this.get(jobId);
  }

  /**
   * Records that `claimant` releases segments [from, to): releasedSegments moves from `from` to `to`, only if
   * it still is `from` and the claimant has released nothing yet, and only while the job transcribes. The
   * record after it, or undefined when another release came first (read again and recompute).
   */
  async claimRelease(jobId: string, claimant: string, range: [number, number]): Promise<JobRecord | undefined> {
    const [from, to] = range;
    const input = {
      TableName: this.table,
      Key: jobKey(jobId),
      UpdateExpression: "SET releasedSegments = :to, releaseClaims.#c = :range",
      ConditionExpression:
        `(${from === 0 ? "attribute_not_exists(releasedSegments) OR " : ""}releasedSegments = :from) ` +
        "AND attribute_not_exists(releaseClaims.#c) AND (#s = :chunking OR #s = :running)",
      ExpressionAttributeNames: { "#c": claimant, "#s": "status" },
      ExpressionAttributeValues: { ":from": from, ":to": to, ":range": [from, to], ":chunking": "CHUNKING", ":running": "RUNNING" },
    };
    return this.intoMap(jobId, "releaseClaims", () => this.updateIf(input));
  }

  /**
   * The right to ask the provider for segment `index`, for the delivery of message `holder`: taken when nobody
   * holds it, or its holder's lease ran out; kept when `holder` holds it already (a redelivery of the same
   * message, after a crash). False while another message's delivery holds it.
   */
  async claimSegmentRequest(jobId: string, index: number, holder: string, nowMs: number, leaseSeconds: number): Promise<boolean> {
    const input = {
      TableName: this.table,
      Key: jobKey(jobId),
      UpdateExpression: "SET requestLeases.#i = :lease",
      ConditionExpression: "attribute_exists(pk) AND (attribute_not_exists(requestLeases.#i) OR requestLeases.#i.#h = :holder OR requestLeases.#i.#u < :now)",
      ExpressionAttributeNames: { "#i": String(index), "#h": "holder", "#u": "until" },
      ExpressionAttributeValues: { ":lease": { holder, until: nowMs + leaseSeconds * 1000 }, ":holder": holder, ":now": nowMs },
    };
    return this.intoMap(jobId, "requestLeases", () => this.conditionalUpdate(input));
  }

  /**
   * Runs `write`, an update that sets an entry of the record's map `attribute`. The maps are made with the job
   * (create); a record from before one of them has none, which DynamoDB refuses as an invalid path: then the map
   * is made (empty, if still missing; no record, nothing made) and the write runs again.
   */
  private async intoMap<T>(jobId: string, attribute: "releaseClaims" | "requestLeases", write: () => Promise<T>): Promise<T> {
    try {
      return await write();
    } catch (error) {
      if (!(error instanceof Error && error.name === "ValidationException")) throw error;
      await this.db
        .send(
          new UpdateCommand({
            TableName: this.table,
            Key: jobKey(jobId),
            UpdateExpression: "SET #m = if_not_exists(#m, :empty)",
            ConditionExpression: "attribute_exists(pk)",
            ExpressionAttributeNames: { "#m": attribute },
            ExpressionAttributeValues: { ":empty": {} },
          }),
        )
        .catch((failure: unknown) => {
          if (!isConditionFailure(failure)) throw failure;
        });
      return write();
    }
  }

  /** CHUNKING -> QUEUED (waiting for a running slot), `queuedAt` set once; the record after it, or as it is. */
  async markQueued(jobId: string, now: Date): Promise<JobRecord | undefined> {
    const moved = await this.updateIf({
      TableName: this.table,
      Key: jobKey(jobId),
      UpdateExpression: "SET #s = :queued, queuedAt = if_not_exists(queuedAt, :now), updatedAt = :now",
      ConditionExpression: "#s = :chunking AND attribute_not_exists(startedAt)",
      ExpressionAttributeNames: { "#s": "status" },
      ExpressionAttributeValues: { ":queued": "QUEUED", ":chunking": "CHUNKING", ":now": now.toISOString() },
    });
    return moved ?? this.get(jobId);
  }

  /**
   * QUEUED -> RUNNING when it is cut already (its segment count is known), else -> CHUNKING (its chunker goes
   * on cutting); the record after it, or as it is when it was not QUEUED.
   */
  async startQueued(jobId: string, now: Date): Promise<JobRecord | undefined> {
    for (const [next, cut] of [["RUNNING", "attribute_exists(segmentCount)"], ["CHUNKING", "attribute_not_exists(segmentCount)"]]) {
      const moved = await this.updateIf({
        TableName: this.table,
        Key: jobKey(jobId),
        UpdateExpression: "SET #s = :next, startedAt = :now, updatedAt = :now",
        ConditionExpression: `#s = :queued AND ${cut}`,
        ExpressionAttributeNames: { "#s": "status" },
        ExpressionAttributeValues: { ":next": next, ":queued": "QUEUED", ":now": now.toISOString() },
      });
      if (moved) return moved;
    }
    return this.get(jobId);
  }

  /** Records one segment as done. ADD on a set is idempotent, so a redelivered message counts once. */
  async addDoneSegment(jobId: string, index: number, now: Date): Promise<JobRecord | undefined> {
    // The segment's request lease goes with it: a done segment is never asked again, and the record every step
    // reads stays small (a day-long job has hundreds of segments).
    const add = async () => {
      try {
        const out = await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: jobKey(jobId),
            UpdateExpression: "ADD doneSegments :seg SET updatedAt = :now REMOVE requestLeases.#i",
            ConditionExpression: "attribute_exists(pk)",
            ExpressionAttributeNames: { "#i": String(index) },
            ExpressionAttributeValues: { ":seg": new Set([index]), ":now": now.toISOString() },
            ReturnValues: "ALL_NEW",
          }),
        );
        return out.Attributes ? jobRecordOf(out.Attributes) : undefined;
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    };
    return this.intoMap(jobId, "requestLeases", add);
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
    fields: CompletedFields,
    now: Date,
  ): Promise<boolean> {
    const applied = await this.conditionalUpdate({
      TableName: this.table,
      Key: jobKey(jobId),
      // speakerNames is always a map (maybe empty), so a rename can set one of its entries.
      UpdateExpression:
        "SET #s = :done, #lang = :lang, speakers = :speakers, wordCount = :wc, outputs = :outputs, #d = :d, " +
        "audioSecondsBilled = :billed, billing = :billing, speakerNames = :names, completedAt = :now, updatedAt = :now" +
        (fields.costUsd ? ", costUsd = :cost" : "") +
        (fields.languages?.length ? ", languages = :languages" : "") +
        " REMOVE stitchLeaseUntil",
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
        ":names": fields.speakerNames ?? {},
        ":now": now.toISOString(),
        ...(fields.costUsd ? { ":cost": fields.costUsd } : {}),
        ...(fields.languages?.length ? { ":languages": fields.languages } : {}),
      },
    });
    return applied;
  }

  /**
   * Names a completed job's speaker (`name` null: back to its label) and counts the change in
   * `transcriptRevision`, in one conditional update: the record after it, or undefined when the job is not
   * COMPLETED or has no such speaker.
   */
  async setSpeakerName(jobId: string, speakerId: string, name: string | null, now: Date): Promise<JobRecord | undefined> {
    const update = async (): Promise<JobRecord | undefined> => {
      try {
        const out = await this.db.send(
          new UpdateCommand({
            TableName: this.table,
            Key: jobKey(jobId),
            UpdateExpression:
              name === null
                ? "REMOVE speakerNames.#id SET updatedAt = :now ADD transcriptRevision :one"
                : "SET speakerNames.#id = :name, updatedAt = :now ADD transcriptRevision :one",
            ConditionExpression: "#s = :done AND contains(speakers, :id) AND attribute_exists(speakerNames)",
            ExpressionAttributeNames: { "#s": "status", "#id": speakerId },
            ExpressionAttributeValues: {
              ":done": "COMPLETED",
              ":id": speakerId,
              ":one": 1,
              ":now": now.toISOString(),
              ...(name === null ? {} : { ":name": name }),
            },
            ReturnValues: "ALL_NEW",
          }),
        );
        return out.Attributes ? jobRecordOf(out.Attributes) : undefined;
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    };
    const updated = await update();
    if (updated) return updated;
    // Jobs completed before speakers had names have no speakerNames map to set an entry of: give them one.
    const added = await this.conditionalUpdate({
      TableName: this.table,
      Key: jobKey(jobId),
      UpdateExpression: "SET speakerNames = :empty",
      ConditionExpression: "#s = :done AND attribute_not_exists(speakerNames)",
      ExpressionAttributeNames: { "#s": "status" },
      ExpressionAttributeValues: { ":done": "COMPLETED", ":empty": {} },
    });
    return added ? update() : undefined;
  }

  /**
   * Jobs newest first, through the recent-jobs index (no scan), at most `limit`; with `status`, only jobs in
   * that state (a filter: pages are read until `limit` are found or the index ends). Jobs created before the
   * index existed are not in it.
   */
  async recentJobs(opts: { limit: number; status?: JobStatus }): Promise<JobRecord[]> {
    const limit = Math.max(0, Math.floor(opts.limit));
    const jobs: JobRecord[] = [];
    let startKey: Record<string, unknown> | undefined;
    while (jobs.length < limit) {
      const out = await this.queryRecent(
        new QueryCommand({
          TableName: this.table,
          IndexName: wiring.table.recentIndex.name,
          KeyConditionExpression: "gsi3pk = :pk",
          ExpressionAttributeValues: { ":pk": RECENT_INDEX_KEY, ...(opts.status ? { ":status": opts.status } : {}) },
          ...(opts.status ? { FilterExpression: "#s = :status", ExpressionAttributeNames: { "#s": "status" } } : {}),
          ScanIndexForward: false,
          // The limit counts items read before the filter: read pages of at least RECENT_FILTERED_PAGE when filtering.
          Limit: opts.status ? Math.max(limit - jobs.length, RECENT_FILTERED_PAGE) : limit - jobs.length,
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of out.Items ?? []) jobs.push(jobRecordOf(item));
      startKey = out.LastEvaluatedKey;
      if (!startKey) break;
    }
    return jobs.slice(0, limit);
  }

  /** A table made before the index existed lacks it (dynalite cannot add one to a table on disk): say so, once. */
  private async queryRecent(command: QueryCommand) {
    try {
      return await this.db.send(command);
    } catch (error) {
      if ((error as Error).name === "ValidationException" && /specified index/i.test((error as Error).message)) {
        throw new PermanentError(
          "no_recent_index",
          `the job table ${this.table} has no index ${wiring.table.recentIndex.name}: it was created before that index existed ` +
            "(a local stack's table: remove its dynamodb folder under the state folder to have it created anew)",
        );
      }
      throw error;
    }
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

  /**
   * One invocation's use, added to its job's record in one UpdateItem (ADD is atomic, and cheap: no read).
   * Not conditional on the job's state: every invocation really costs, a redelivered one too. Nothing is
   * written for a job whose record is gone.
   */
  async addUsage(jobId: string, usage: UsageDelta): Promise<void> {
    const values: Record<string, unknown> = { ":g": usage.gbSeconds, ":i": usage.invocations, ":p": usage.providerSecondsSent, ":r": usage.retrySeconds };
    let add = `${usage.stage}GbSeconds :g, ${usage.stage}Invocations :i, providerSecondsSent :p, retrySeconds :r`;
    if (usage.answeredSegments.length) {
      add += ", answeredSegments :a";
      values[":a"] = new Set(usage.answeredSegments);
    }
    await this.conditionalUpdate({
      TableName: this.table,
      Key: jobKey(jobId),
      UpdateExpression: `ADD ${add}`,
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeValues: values,
    });
  }

  /** The estimate the job was admitted with (and its daily reservation): a SET of fixed values, safe to repeat. */
  async setCostEstimate(jobId: string, estimate: JobCostEstimate): Promise<void> {
    await this.conditionalUpdate({
      TableName: this.table,
      Key: jobKey(jobId),
      UpdateExpression: "SET costEstimate = :e",
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeValues: { ":e": JSON.parse(JSON.stringify(estimate)) },
    });
  }

  /** What an ended job cost in dollars (failed or cancelled jobs, when their spend is settled). */
  async setCostUsd(jobId: string, costUsd: CostUsd): Promise<void> {
    await this.conditionalUpdate({
      TableName: this.table,
      Key: jobKey(jobId),
      UpdateExpression: "SET costUsd = :c",
      ConditionExpression: "attribute_exists(pk)",
      ExpressionAttributeValues: { ":c": costUsd },
    });
  }

  /** Any non-terminal state -> FAILED. Returns false when the job had already ended (completed, failed or cancelled). */
  async fail(jobId: string, reason: string, code: string, now: Date): Promise<boolean> {
    return this.conditionalUpdate({
      TableName: this.table,
      Key: jobKey(jobId),
      UpdateExpression: "SET #s = :failed, #e = :reason, errorCode = :code, updatedAt = :now, completedAt = :now",
      ConditionExpression: "attribute_exists(pk) AND #s <> :failed AND #s <> :done AND #s <> :cancelled",
      ExpressionAttributeNames: { "#s": "status", "#e": "error" },
      ExpressionAttributeValues: {
        ":failed": "FAILED",
        ":done": "COMPLETED",
        ":cancelled": "CANCELLED",
        ":reason": reason,
        ":code": code,
        ":now": now.toISOString(),
      },
    });
  }

  /**
   * CHUNKING, QUEUED or RUNNING -> CANCELLED (pipeline/cancel-job.ts). False when the job is in no such state (ended
   * already, or unknown). `outputs` is removed with the move: a cancelled job never lists outputs, whatever a
   * stitcher that lost the race wrote.
   */
  async cancel(jobId: string, now: Date): Promise<boolean> {
    return this.conditionalUpdate({
      TableName: this.table,
      Key: jobKey(jobId),
      UpdateExpression: "SET #s = :cancelled, updatedAt = :now, completedAt = :now REMOVE outputs",
      ConditionExpression: "#s IN (:chunking, :running, :queued)",
      ExpressionAttributeNames: { "#s": "status" },
      ExpressionAttributeValues: { ":cancelled": "CANCELLED", ":chunking": "CHUNKING", ":running": "RUNNING", ":queued": "QUEUED", ":now": now.toISOString() },
    });
  }

  /**
   * Removes the job item, only while the job is in one of `statuses` (an ended job: a running one would write
   * it again). True when it is gone, whether this call removed it or it was gone already.
   */
  async deleteJob(jobId: string, statuses: readonly JobStatus[]): Promise<boolean> {
    const names = statuses.map((_, i) => `:s${i}`);
    return this.conditionalDelete({
      TableName: this.table,
      Key: jobKey(jobId),
      ConditionExpression: `attribute_not_exists(pk) OR #s IN (${names.join(", ")})`,
      ExpressionAttributeNames: { "#s": "status" },
      ExpressionAttributeValues: Object.fromEntries(statuses.map((status, i) => [names[i], status])),
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

  // The other item kinds of the table, each in its own module.
  reserveDailyCost(...args: Parameters<DailyCostItems["reserveDailyCost"]>) {
    return this.dailyCosts.reserveDailyCost(...args);
  }
  settleDailyCost(...args: Parameters<DailyCostItems["settleDailyCost"]>) {
    return this.dailyCosts.settleDailyCost(...args);
  }
  dailyCost(...args: Parameters<DailyCostItems["dailyCost"]>) {
    return this.dailyCosts.dailyCost(...args);
  }
  putUtterances(...args: Parameters<UtteranceItems["putUtterances"]>) {
    return this.utteranceItems.putUtterances(...args);
  }
  utterances(...args: Parameters<UtteranceItems["utterances"]>) {
    return this.utteranceItems.utterances(...args);
  }
  deleteUtterances(...args: Parameters<UtteranceItems["deleteUtterances"]>) {
    return this.utteranceItems.deleteUtterances(...args);
  }
  putVoice(...args: Parameters<RegistryItems["putVoice"]>) {
    return this.registry.putVoice(...args);
  }
  getVoice(...args: Parameters<RegistryItems["getVoice"]>) {
    return this.registry.getVoice(...args);
  }
  listVoices() {
    return this.registry.listVoices();
  }
  deleteVoice(...args: Parameters<RegistryItems["deleteVoice"]>) {
    return this.registry.deleteVoice(...args);
  }
  putList(...args: Parameters<RegistryItems["putList"]>) {
    return this.registry.putList(...args);
  }
  getList(...args: Parameters<RegistryItems["getList"]>) {
    return this.registry.getList(...args);
  }
  listLists(...args: Parameters<RegistryItems["listLists"]>) {
    return this.registry.listLists(...args);
  }
  deleteList(...args: Parameters<RegistryItems["deleteList"]>) {
    return this.registry.deleteList(...args);
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
    url: z.string().optional(),
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
  cutSegments: z.number().int().nonnegative().optional(),
  releasedSegments: z.number().int().nonnegative().optional(),
  releaseClaims: z.record(z.string(), z.tuple([z.number().int().nonnegative(), z.number().int().nonnegative()])).optional(),
  requestLeases: z.record(z.string(), z.object({ holder: z.string(), until: z.number() })).optional(),
  queuedAt: z.string().optional(),
  startedAt: z.string().optional(),
  language: z.string().nullable().optional(),
  languages: z.array(languageShareSchema).optional(),
  speakers: z.array(z.string()).optional(),
  wordCount: z.number().optional(),
  outputs: z.record(z.string(), z.string()).optional(),
  audioSecondsBilled: z.number().optional(),
  billing: jobBillingSchema.optional(),
  lambda: lambdaUsageSchema.optional(),
  providerSecondsSent: z.number().optional(),
  retrySeconds: z.number().optional(),
  answeredSegments: z.set(z.coerce.number().int().nonnegative()).optional(),
  costEstimate: z.object({ usd: z.number(), day: z.string().optional(), reservedUsd: z.number().optional() }).optional(),
  costUsd: costUsdSchema.optional(),
  realtimeSessionId: z.string().optional(),
  error: z.string().optional(),
  errorCode: z.string().optional(),
  lastError: z.string().optional(),
  notifiedAt: z.string().optional(),
  stitchLeaseUntil: z.number().optional(),
  speakersSettled: z.number().int().nonnegative().optional(),
  speakerLeaseUntil: z.number().optional(),
  expiresAt: z.number().optional(),
  speakerNames: z.record(z.string(), z.string()).optional(),
  transcriptRevision: z.number().int().nonnegative().optional(),
}) satisfies z.ZodType<JobRecord>;

/**
 * A job item read back from the table. Only the pipeline writes job items, so one that does not parse was
 * written by something else: no step can go on with it, and the error names the field.
 */
export function jobRecordOf(item: Record<string, unknown>): JobRecord {
  const parsed = jobRecordSchema.safeParse(withLambdaUsage(item));
  if (!parsed.success) {
    const jobId = typeof item.jobId === "string" ? ` ${item.jobId}` : "";
    throw new PermanentError("bad_job_record", `the job record${jobId} is not valid: ${issueText(parsed.error.issues[0])}`);
  }
  return parsed.data;
}

/** The flat usage attributes an invocation ADDs (`<stage>GbSeconds`, `<stage>Invocations`), as the record's `lambda`. */
function withLambdaUsage(item: Record<string, unknown>): Record<string, unknown> {
  const lambda: Record<string, { gbSeconds: number; invocations: number }> = {};
  for (const stage of COST_STAGES) {
    const gbSeconds = item[`${stage}GbSeconds`];
    const invocations = item[`${stage}Invocations`];
    if (typeof gbSeconds === "number" || typeof invocations === "number") {
      lambda[stage] = { gbSeconds: typeof gbSeconds === "number" ? gbSeconds : 0, invocations: typeof invocations === "number" ? invocations : 0 };
    }
  }
  return Object.keys(lambda).length ? { ...item, lambda } : item;
}

