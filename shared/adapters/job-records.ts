import type { TranscriptSegment } from "../domain/types.js";
import type { JobRecord, UtteranceItem } from "./job-store.js";

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
  /** CHUNKING -> RUNNING with its segment count (a repeat with the same count is accepted); the record after it. */
  markChunked(jobId: string, fields: { segmentCount: number; duration: number }, now: Date): Promise<JobRecord | undefined>;
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
  complete(
    jobId: string,
    fields: Required<Pick<JobRecord, "language" | "speakers" | "wordCount" | "outputs" | "duration" | "audioSecondsBilled" | "billing">>,
    now: Date,
  ): Promise<boolean>;
  /** The completed job's link and cost on its realtime session's item; false when the item is gone. */
  linkRealtimeSession(sessionId: string, link: { jobId: string; audioSecondsBilled: number }): Promise<boolean>;
  /** Any non-terminal state -> FAILED; false when the job had already ended (or has no record). */
  fail(jobId: string, reason: string, code: string, now: Date): Promise<boolean>;
  /** The most recent retryable error, for a dead-lettered job's reason. */
  noteError(jobId: string, reason: string): Promise<void>;
  markNotified(jobId: string, now: Date): Promise<void>;
  /** One item per utterance, under keys the utterance decides, so a repeat overwrites the same items. */
  putUtterances(jobId: string, utterances: TranscriptSegment[], expiresAt?: number): Promise<void>;
  /** A job's utterances in time order, all or those starting within `range` (seconds). */
  utterances(jobId: string, range?: { from: number; to: number }): Promise<UtteranceItem[]>;
  /** Jobs made from one source object, newest first (the table's source index). */
  jobsForSource(bucket: string, key: string, indexName: string): Promise<JobRecord[]>;
}
