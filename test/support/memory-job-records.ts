import type { JobRecords } from "../../shared/adapters/job-records.js";
import { utteranceSortKey, type JobRecord, type UtteranceItem } from "../../shared/adapters/job-store.js";
import type { TranscriptSegment } from "../../shared/domain/types.js";

/**
 * The job table in memory, with the conditions of shared/adapters/job-store.ts (each method's condition is
 * the ConditionExpression of the same method there): what the steps' unit tests run on. Records go in and
 * out as copies, as they would through DynamoDB, so a step cannot change the stored state by mutating what
 * it read.
 */
export class MemoryJobRecords implements JobRecords {
  private readonly records = new Map<string, JobRecord>();
  private readonly utteranceItems = new Map<string, Map<string, UtteranceItem & { expiresAt?: number }>>();
  /** Realtime session items (`SESSION#<id>`), by session id: what linkRealtimeSession writes to. */
  readonly sessions = new Map<string, Record<string, unknown>>();
  /** Stitch leases this store's "process" holds, as JobStore keeps them. */

  constructor(private readonly retentionDays?: number) {}

  /** Test setup: stores a record as given (any state), replacing one with its id. */
  put(record: JobRecord): void {
    this.records.set(record.jobId, structuredClone(record));
  }

  /** Test inspection: the stored record (a copy), without going through a step's port. */
  peek(jobId: string): JobRecord | undefined {
    return this.copy(this.records.get(jobId));
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    return this.peek(jobId);
  }

  async create(
    job: Pick<JobRecord, "jobId" | "source" | "options" | "realtimeSessionId">,
    now: Date,
  ): Promise<{ created: boolean; job: JobRecord }> {
    const existing = this.records.get(job.jobId);
    if (existing) return { created: false, job: this.copy(existing)! };
    const record: JobRecord = {
      ...structuredClone(job),
      status: "CHUNKING",
      createdAt: now.toISOString(),
      updatedAt: now.toISOString(),
      expiresAt: this.retentionDays ? Math.floor(now.getTime() / 1000) + this.retentionDays * 86400 : undefined,
    };
    this.records.set(job.jobId, record);
    return { created: true, job: this.copy(record)! };
  }

  async markChunked(jobId: string, fields: { segmentCount: number; duration: number }, now: Date): Promise<JobRecord | undefined> {
    const record = this.records.get(jobId);
    const applies =
      record !== undefined &&
      (record.status === "CHUNKING" || (record.status === "RUNNING" && record.segmentCount === fields.segmentCount));
    if (!applies) return this.peek(jobId);
    Object.assign(record, {
      status: "RUNNING",
      segmentCount: fields.segmentCount,
      duration: fields.duration,
      chunkedAt: now.toISOString(),
      updatedAt: now.toISOString(),
    });
    return this.copy(record);
  }

  async addDoneSegment(jobId: string, index: number, now: Date): Promise<JobRecord | undefined> {
    const record = this.records.get(jobId);
    if (!record) return undefined;
    record.doneSegments = new Set([...(record.doneSegments ?? []), index]);
    record.updatedAt = now.toISOString();
    return this.copy(record);
  }

  async claimStitch(jobId: string, nowMs: number, leaseSeconds: number): Promise<number | undefined> {
    const record = this.records.get(jobId);
    if (!record || record.status !== "RUNNING" || !leaseFree(record.stitchLeaseUntil, nowMs)) return undefined;
    record.stitchLeaseUntil = nowMs + leaseSeconds * 1000;
    return record.stitchLeaseUntil;
  }

  async releaseStitch(jobId: string, until: number): Promise<boolean> {
    const record = this.records.get(jobId);
    if (!record || record.stitchLeaseUntil !== until) return false;
    delete record.stitchLeaseUntil;
    return true;
  }

  async claimSpeakers(jobId: string, settled: number, nowMs: number, leaseSeconds: number): Promise<number | undefined> {
    const record = this.records.get(jobId);
    const open = record?.status === "RUNNING" || record?.status === "CHUNKING";
    if (!record || !open || !leaseFree(record.speakerLeaseUntil, nowMs) || !settledIs(record, settled)) return undefined;
    record.speakerLeaseUntil = nowMs + leaseSeconds * 1000;
    return record.speakerLeaseUntil;
  }

  async recordSpeakersSettled(jobId: string, from: number, to: number, lease: number): Promise<JobRecord | undefined> {
    const record = this.records.get(jobId);
    if (!record || record.speakerLeaseUntil !== lease || !settledIs(record, from)) return undefined;
    record.speakersSettled = to;
    // As job-store.ts: the wall clock, not the step's.
    record.updatedAt = new Date().toISOString();
    delete record.speakerLeaseUntil;
    return this.copy(record);
  }

  async releaseSpeakers(jobId: string, lease: number): Promise<void> {
    const record = this.records.get(jobId);
    if (record?.speakerLeaseUntil === lease) delete record.speakerLeaseUntil;
  }

  async complete(
    jobId: string,
    fields: Required<Pick<JobRecord, "language" | "speakers" | "wordCount" | "outputs" | "duration" | "audioSecondsBilled" | "billing">>,
    now: Date,
  ): Promise<boolean> {
    const record = this.records.get(jobId);
    if (!record || record.status !== "RUNNING") return false;
    Object.assign(record, structuredClone(fields), { status: "COMPLETED", completedAt: now.toISOString(), updatedAt: now.toISOString() });
    delete record.stitchLeaseUntil;
    return true;
  }

  async linkRealtimeSession(sessionId: string, link: { jobId: string; audioSecondsBilled: number }): Promise<boolean> {
    const session = this.sessions.get(sessionId);
    if (!session) return false;
    Object.assign(session, { batchJobId: link.jobId, batchAudioSecondsBilled: link.audioSecondsBilled });
    return true;
  }

  async fail(jobId: string, reason: string, code: string, now: Date): Promise<boolean> {
    const record = this.records.get(jobId);
    if (!record || record.status === "FAILED" || record.status === "COMPLETED") return false;
    Object.assign(record, { status: "FAILED", error: reason, errorCode: code, updatedAt: now.toISOString(), completedAt: now.toISOString() });
    return true;
  }

  async noteError(jobId: string, reason: string): Promise<void> {
    const record = this.records.get(jobId);
    // As DynamoDB answers the condition attribute_exists(pk) on a missing item.
    if (!record) throw Object.assign(new Error("The conditional request failed"), { name: "ConditionalCheckFailedException" });
    record.lastError = reason;
  }

  async markNotified(jobId: string, now: Date): Promise<void> {
    const record = this.records.get(jobId);
    if (record) record.notifiedAt = now.toISOString();
  }

  async putUtterances(jobId: string, utterances: TranscriptSegment[], expiresAt?: number): Promise<void> {
    let items = this.utteranceItems.get(jobId);
    if (!items) this.utteranceItems.set(jobId, (items = new Map()));
    for (const u of utterances) items.set(utteranceSortKey(u.start, u.id), { jobId, ...structuredClone(u), ...(expiresAt ? { expiresAt } : {}) });
  }

  async utterances(jobId: string, range?: { from: number; to: number }): Promise<UtteranceItem[]> {
    const items = [...(this.utteranceItems.get(jobId) ?? new Map<string, UtteranceItem>()).entries()].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    const low = range ? utteranceSortKey(range.from, 0) : "";
    const high = range ? utteranceSortKey(range.to, 999999) : "\uffff";
    return items
      .filter(([sk]) => sk >= low && sk <= high)
      .map(([, item]) => ({ jobId, id: item.id, start: item.start, end: item.end, text: item.text, speaker_id: item.speaker_id ?? null }));
  }

  async jobsForSource(bucket: string, key: string, _indexName: string): Promise<JobRecord[]> {
    return [...this.records.values()]
      .filter((r) => r.source.bucket === bucket && r.source.key === key)
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
      .map((r) => this.copy(r)!);
  }

  private copy(record: JobRecord | undefined): JobRecord | undefined {
    return record && structuredClone(record);
  }
}

/** A lease nobody holds, or whose holder's time ran out. */
const leaseFree = (until: number | undefined, nowMs: number) => until === undefined || until < nowMs;

/** speakersSettled is absent until the first step: absent counts as 0 (job-store.ts's settledIs). */
const settledIs = (record: JobRecord, settled: number) =>
  settled === 0 ? record.speakersSettled === undefined || record.speakersSettled === 0 : record.speakersSettled === settled;
