import type { NamedSegment } from "../domain/types.js";
import type { CompletedFields, DailyCost, DailyReservation, JobCostEstimate, JobRecord, JobStatus, UsageDelta, UtteranceItem } from "./job-store.js";
import type { CostUsd } from "../domain/jobs/cost-estimate.js";
import type { VoiceRecord } from "../domain/speakers/enrolled-voices.js";
import type { ListKind, ListRecord } from "../domain/vocabulary/term-list.js";

/**
 * The job table as the steps use it: job-store.ts's JobStore over DynamoDB, or an in-memory one in the unit
 * tests (test/support/memory-job-records.ts). Every method is safe under at-least-once delivery: state moves
 * forward only through conditional updates, which answer false or undefined, never throw, when their
 * condition does not hold.
 */
export interface JobRecords {
  /** The record as stored (strongly consistent), or undefined. */
  get(jobId: string): Promise<JobRecord | undefined>;
  /** Creates the job in CHUNKING unless it exists; returns the record that is stored either way. */
  create(
    job: Pick<JobRecord, "jobId" | "source" | "options" | "realtimeSessionId">,
    now: Date,
  ): Promise<{ created: boolean; job: JobRecord }>;
  /**
   * CHUNKING -> RUNNING with its segment count (a repeat with the same count is accepted); a QUEUED job gets
   * its count and stays QUEUED. The record after it.
   */
  markChunked(jobId: string, fields: { segmentCount: number; duration: number }, now: Date): Promise<JobRecord | undefined>;
  /** Segments 0..count-1 are stored (audio and message): cutSegments up to count, never down; the record after it. */
  markCut(jobId: string, count: number, now: Date): Promise<JobRecord | undefined>;
  /**
   * `claimant` releases segments [from, to) of a CHUNKING or RUNNING job: releasedSegments from `from` to `to`
   * if it is still `from` and the claimant released nothing before. The record after it, or undefined.
   */
  claimRelease(jobId: string, claimant: string, range: [number, number]): Promise<JobRecord | undefined>;
  /** CHUNKING -> QUEUED with `queuedAt` (set once); the record after it, or as it is. */
  markQueued(jobId: string, now: Date): Promise<JobRecord | undefined>;
  /** QUEUED -> RUNNING (cut already) or CHUNKING (still being cut); the record after it, or as it is. */
  startQueued(jobId: string, now: Date): Promise<JobRecord | undefined>;
  /**
   * The right to ask the provider for segment `index` for message `holder`'s delivery (JobStore's
   * claimSegmentRequest): true when taken or already held by `holder`, false while another message holds it.
   */
  claimSegmentRequest(jobId: string, index: number, holder: string, nowMs: number, leaseSeconds: number): Promise<boolean>;
  /** Adds the segment to the done-set (idempotent); the record after it, undefined when the job has no record. */
  addDoneSegment(jobId: string, index: number, now: Date): Promise<JobRecord | undefined>;
  /** The stitch lease of a RUNNING job, if nobody holds one (or its holder's ran out): its end, or undefined. */
  claimStitch(jobId: string, nowMs: number, leaseSeconds: number): Promise<number | undefined>;
  /** Hands back the stitch lease `claimStitch` returned; false when it is no longer that lease. */
  releaseStitch(jobId: string, until: number): Promise<boolean>;
  /** The speaker lease for the segments after the first `settled`; its end, or undefined when not claimed. */
  claimSpeakers(jobId: string, settled: number, nowMs: number, leaseSeconds: number): Promise<number | undefined>;
  /** Moves the settled prefix from `from` to `to` and hands the lease back; the record after it, or undefined. */
  recordSpeakersSettled(jobId: string, from: number, to: number, lease: number): Promise<JobRecord | undefined>;
  /** Hands back a speaker lease after a failed step, if it is still this holder's. */
  releaseSpeakers(jobId: string, lease: number): Promise<void>;
  /** RUNNING -> COMPLETED with the transcript's figures; false when the job had already ended. */
  complete(jobId: string, fields: CompletedFields, now: Date): Promise<boolean>;
  /**
   * A completed job's speaker named `name` (null: shown as its label again), and `transcriptRevision` one up,
   * in one conditional write: the record after it, or undefined when the job is not COMPLETED or has no such speaker.
   */
  setSpeakerName(jobId: string, speakerId: string, name: string | null, now: Date): Promise<JobRecord | undefined>;
  /** The completed job's link and cost on its realtime session's item; false when the item is gone. */
  linkRealtimeSession(sessionId: string, link: { jobId: string; audioSecondsBilled: number }): Promise<boolean>;
  /** One invocation's use added to its job's record (one ADD, whatever the job's state); nothing for a job that is gone. */
  addUsage(jobId: string, usage: UsageDelta): Promise<void>;
  /** The estimate the job was admitted with, and its daily reservation (pipeline/cost-cap.ts). */
  setCostEstimate(jobId: string, estimate: JobCostEstimate): Promise<void>;
  /** What a failed or cancelled job cost in dollars, set when its spend is settled. */
  setCostUsd(jobId: string, costUsd: CostUsd): Promise<void>;
  /** Reserves `usd` for the job on the day's counter, unless the total would pass `limitUsd`; a repeat finds it reserved. */
  reserveDailyCost(day: string, jobId: string, usd: number, limitUsd: number): Promise<DailyReservation>;
  /** The job's share from `reservedUsd` to `actualUsd`, the total by the difference; false when it is not the reservation any more. */
  settleDailyCost(day: string, jobId: string, reservedUsd: number, actualUsd: number): Promise<boolean>;
  /** The day's counter, or undefined when nothing was reserved that day. */
  dailyCost(day: string): Promise<DailyCost | undefined>;
  /** Any non-terminal state -> FAILED; false when the job had already ended (or has no record). */
  fail(jobId: string, reason: string, code: string, now: Date): Promise<boolean>;
  /** CHUNKING, QUEUED or RUNNING -> CANCELLED, without outputs; false when the job is in neither state (or has no record). */
  cancel(jobId: string, now: Date): Promise<boolean>;
  /** Removes the job item while its status is one of `statuses`; true when it is gone (now or before). */
  deleteJob(jobId: string, statuses: readonly JobStatus[]): Promise<boolean>;
  /** Removes the job's utterance items (repeatable); how many there were. */
  deleteUtterances(jobId: string): Promise<number>;
  /** The most recent retryable error, for a dead-lettered job's reason. */
  noteError(jobId: string, reason: string): Promise<void>;
  markNotified(jobId: string, now: Date): Promise<void>;
  /** One item per utterance, under keys the utterance decides, so a repeat overwrites the same items. */
  putUtterances(jobId: string, utterances: NamedSegment[], expiresAt?: number): Promise<void>;
  /** A job's utterances in time order, all or those starting within `range` (seconds). */
  utterances(jobId: string, range?: { from: number; to: number }): Promise<UtteranceItem[]>;
  /** Jobs made from one source object, newest first (the table's source index). */
  jobsForSource(bucket: string, key: string, indexName: string): Promise<JobRecord[]>;
  /** Jobs newest first (the table's recent-jobs index, no scan), at most `limit`; with `status`, only those in it. */
  recentJobs(opts: { limit: number; status?: JobStatus }): Promise<JobRecord[]>;
  /**
   * Stores an enrolled voice (`VOICE#<name>`) unless the item already holds the registration of the same object
   * version (a redelivered event): the item that is stored either way.
   */
  putVoice(voice: VoiceRecord): Promise<VoiceRecord>;
  /** The voice item, or undefined. */
  getVoice(name: string): Promise<VoiceRecord | undefined>;
  /** Every voice item, by name. */
  listVoices(): Promise<VoiceRecord[]>;
  /** Removes the voice; with `source`, only while the item is still that object's registration. False when nothing was removed. */
  deleteVoice(name: string, source?: VoiceRecord["source"]): Promise<boolean>;
  /**
   * Stores a registered word list (`LIST#<kind>#<name>`) unless the item already holds the registration of the
   * same object version: the item that is stored either way.
   */
  putList(list: ListRecord): Promise<ListRecord>;
  getList(kind: ListKind, name: string): Promise<ListRecord | undefined>;
  /** Every list of a kind, by name. */
  listLists(kind: ListKind): Promise<ListRecord[]>;
  /** False when there was none. */
  deleteList(kind: ListKind, name: string): Promise<boolean>;
}
