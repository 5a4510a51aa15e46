import type { JobRecords } from "../../shared/adapters/job-records.js";
import {
  recentIndexSortKey,
  utteranceSortKey,
  type CompletedFields,
  type DailyCost,
  type DailyReservation,
  type JobCostEstimate,
  type JobRecord,
  type JobStatus,
  type UsageDelta,
  type UtteranceItem,
} from "../../shared/adapters/job-store.js";
import type { CostUsd } from "../../shared/domain/jobs/cost-estimate.js";
import type { NamedSegment } from "../../shared/domain/types.js";
import { voiceSourceTag, type VoiceRecord } from "../../shared/domain/speakers/enrolled-voices.js";
import { listSourceTag, type ListKind, type ListRecord } from "../../shared/domain/vocabulary/term-list.js";

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
    if (!record) return undefined;
    const chunked = { segmentCount: fields.segmentCount, duration: fields.duration, chunkedAt: now.toISOString(), updatedAt: now.toISOString() };
    if (record.status === "CHUNKING" || (record.status === "RUNNING" && record.segmentCount === fields.segmentCount)) {
      Object.assign(record, { status: "RUNNING", ...chunked });
    } else if (record.status === "QUEUED" && (record.segmentCount === undefined || record.segmentCount === fields.segmentCount)) {
      Object.assign(record, chunked);
    }
    return this.copy(record);
  }

  async markCut(jobId: string, count: number, now: Date): Promise<JobRecord | undefined> {
    const record = this.records.get(jobId);
    if (!record) return undefined;
    if ((record.cutSegments ?? 0) < count) Object.assign(record, { cutSegments: count, updatedAt: now.toISOString() });
    return this.copy(record);
  }

  async claimRelease(jobId: string, claimant: string, range: [number, number]): Promise<JobRecord | undefined> {
    const record = this.records.get(jobId);
    if (!record || (record.status !== "CHUNKING" && record.status !== "RUNNING")) return undefined;
    if ((record.releasedSegments ?? 0) !== range[0] || record.releaseClaims?.[claimant]) return undefined;
    record.releasedSegments = range[1];
    record.releaseClaims = { ...record.releaseClaims, [claimant]: range };
    return this.copy(record);
  }

  async markQueued(jobId: string, now: Date): Promise<JobRecord | undefined> {
    const record = this.records.get(jobId);
    if (!record) return undefined;
    if (record.status === "CHUNKING" && !record.startedAt) {
      Object.assign(record, { status: "QUEUED", queuedAt: record.queuedAt ?? now.toISOString(), updatedAt: now.toISOString() });
    }
    return this.copy(record);
  }

  async startQueued(jobId: string, now: Date): Promise<JobRecord | undefined> {
    const record = this.records.get(jobId);
    if (!record) return undefined;
    if (record.status === "QUEUED") {
      Object.assign(record, {
        status: record.segmentCount === undefined ? "CHUNKING" : "RUNNING",
        startedAt: now.toISOString(),
        updatedAt: now.toISOString(),
      });
    }
    return this.copy(record);
  }

  async addDoneSegment(jobId: string, index: number, now: Date): Promise<JobRecord | undefined> {
    const record = this.records.get(jobId);
    if (!record) return undefined;
    record.doneSegments = new Set([...(record.doneSegments ?? []), index]);
    if (record.requestLeases) delete record.requestLeases[index];
    record.updatedAt = now.toISOString();
    return this.copy(record);
  }

  async claimSegmentRequest(jobId: string, index: number, holder: string, nowMs: number, leaseSeconds: number): Promise<boolean> {
    const record = this.records.get(jobId);
    if (!record) return false;
    const lease = record.requestLeases?.[index];
    if (lease && lease.holder !== holder && lease.until >= nowMs) return false;
    record.requestLeases = { ...record.requestLeases, [index]: { holder, until: nowMs + leaseSeconds * 1000 } };
    return true;
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

  async complete(jobId: string, fields: CompletedFields, now: Date): Promise<boolean> {
    const record = this.records.get(jobId);
    if (!record || record.status !== "RUNNING") return false;
    Object.assign(record, structuredClone({ ...fields, speakerNames: fields.speakerNames ?? {} }), {
      status: "COMPLETED",
      completedAt: now.toISOString(),
      updatedAt: now.toISOString(),
    });
    delete record.stitchLeaseUntil;
    return true;
  }

  /** Test seam: runs inside setSpeakerName before it writes (a rename racing another one). */
  beforeSetSpeakerName?: () => void | Promise<void>;

  async setSpeakerName(jobId: string, speakerId: string, name: string | null, now: Date): Promise<JobRecord | undefined> {
    await this.beforeSetSpeakerName?.();
    const record = this.records.get(jobId);
    if (!record || record.status !== "COMPLETED" || !(record.speakers ?? []).includes(speakerId)) return undefined;
    // As job-store.ts: a record from before names gets its map first.
    const names = { ...(record.speakerNames ?? {}) };
    if (name === null) delete names[speakerId];
    else names[speakerId] = name;
    Object.assign(record, { speakerNames: names, transcriptRevision: (record.transcriptRevision ?? 0) + 1, updatedAt: now.toISOString() });
    return this.copy(record);
  }

  async linkRealtimeSession(sessionId: string, link: { jobId: string; audioSecondsBilled: number }): Promise<boolean> {
    const session = this.sessions.get(sessionId);
    if (!session) return false;
    Object.assign(session, { batchJobId: link.jobId, batchAudioSecondsBilled: link.audioSecondsBilled });
    return true;
  }

  async addUsage(jobId: string, usage: UsageDelta): Promise<void> {
    const record = this.records.get(jobId);
    if (!record) return;
    const stage = (record.lambda ??= {})[usage.stage] ?? { gbSeconds: 0, invocations: 0 };
    record.lambda[usage.stage] = { gbSeconds: stage.gbSeconds + usage.gbSeconds, invocations: stage.invocations + usage.invocations };
    record.providerSecondsSent = (record.providerSecondsSent ?? 0) + usage.providerSecondsSent;
    record.retrySeconds = (record.retrySeconds ?? 0) + usage.retrySeconds;
    if (usage.answeredSegments.length) record.answeredSegments = new Set([...(record.answeredSegments ?? []), ...usage.answeredSegments]);
  }

  async setCostEstimate(jobId: string, estimate: JobCostEstimate): Promise<void> {
    const record = this.records.get(jobId);
    if (record) record.costEstimate = structuredClone(estimate);
  }

  async setCostUsd(jobId: string, costUsd: CostUsd): Promise<void> {
    const record = this.records.get(jobId);
    if (record) record.costUsd = { ...costUsd };
  }

  /** Daily cost counters by day (`COST#<day>` items): the total and each job's share. */
  readonly dailyCounters = new Map<string, { total: number; jobs: Map<string, number> }>();

  async reserveDailyCost(day: string, jobId: string, usd: number, limitUsd: number): Promise<DailyReservation> {
    const counter = this.dailyCounters.get(day);
    // As job-store.ts's condition: no share for the job yet, and the total leaves room for this one.
    if (counter?.jobs.has(jobId)) return { reserved: true, already: true };
    if (counter && counter.total > limitUsd - usd) return { reserved: false, spentUsd: counter.total };
    if (!counter && 0 > limitUsd - usd) return { reserved: false, spentUsd: 0 };
    const stored = counter ?? { total: 0, jobs: new Map<string, number>() };
    stored.jobs.set(jobId, usd);
    stored.total += usd;
    this.dailyCounters.set(day, stored);
    return { reserved: true, already: false };
  }

  async settleDailyCost(day: string, jobId: string, reservedUsd: number, actualUsd: number): Promise<boolean> {
    const counter = this.dailyCounters.get(day);
    if (!counter || counter.jobs.get(jobId) !== reservedUsd) return false;
    counter.jobs.set(jobId, actualUsd);
    counter.total += actualUsd - reservedUsd;
    return true;
  }

  async dailyCost(day: string): Promise<DailyCost | undefined> {
    const counter = this.dailyCounters.get(day);
    return counter && { day, totalUsd: Math.round(counter.total * 1e6) / 1e6, jobs: Object.fromEntries(counter.jobs) };
  }

  async fail(jobId: string, reason: string, code: string, now: Date): Promise<boolean> {
    const record = this.records.get(jobId);
    if (!record || record.status === "FAILED" || record.status === "COMPLETED" || record.status === "CANCELLED") return false;
    Object.assign(record, { status: "FAILED", error: reason, errorCode: code, updatedAt: now.toISOString(), completedAt: now.toISOString() });
    return true;
  }

  async cancel(jobId: string, now: Date): Promise<boolean> {
    const record = this.records.get(jobId);
    if (!record || (record.status !== "CHUNKING" && record.status !== "RUNNING" && record.status !== "QUEUED")) return false;
    Object.assign(record, { status: "CANCELLED", updatedAt: now.toISOString(), completedAt: now.toISOString() });
    delete record.outputs;
    return true;
  }

  async deleteJob(jobId: string, statuses: readonly JobStatus[]): Promise<boolean> {
    const record = this.records.get(jobId);
    if (record && !statuses.includes(record.status)) return false;
    this.records.delete(jobId);
    return true;
  }

  async deleteUtterances(jobId: string): Promise<number> {
    const count = this.utteranceItems.get(jobId)?.size ?? 0;
    this.utteranceItems.delete(jobId);
    return count;
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

  async putUtterances(jobId: string, utterances: NamedSegment[], expiresAt?: number): Promise<void> {
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
      .map(([, item]) => ({
        jobId,
        id: item.id,
        start: item.start,
        end: item.end,
        text: item.text,
        speaker_id: item.speaker_id ?? null,
        ...(item.speaker_name !== undefined ? { speaker_name: item.speaker_name } : {}),
        // As the table keeps it (utterance-items.ts): each utterance's language, when it has one.
        ...(item.language !== undefined ? { language: item.language } : {}),
      }));
  }

  async jobsForSource(bucket: string, key: string, _indexName: string): Promise<JobRecord[]> {
    return [...this.records.values()]
      .filter((r) => r.source.bucket === bucket && r.source.key === key)
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : 0))
      .map((r) => this.copy(r)!);
  }

  /** Enrolled voices by name (`VOICE#<name>` items). */
  readonly voices = new Map<string, VoiceRecord>();

  async putVoice(voice: VoiceRecord): Promise<VoiceRecord> {
    const existing = this.voices.get(voice.name);
    if (existing && voiceSourceTag(existing.source) === voiceSourceTag(voice.source)) return structuredClone(existing);
    this.voices.set(voice.name, structuredClone(voice));
    return structuredClone(voice);
  }

  /** Registered word lists (`LIST#<kind>#<name>` items), by `<kind>#<name>`. */
  readonly lists = new Map<string, ListRecord>();

  async putList(list: ListRecord): Promise<ListRecord> {
    const existing = this.lists.get(`${list.kind}#${list.name}`);
    if (existing && listSourceTag(existing.source) === listSourceTag(list.source)) return structuredClone(existing);
    this.lists.set(`${list.kind}#${list.name}`, structuredClone(list));
    return structuredClone(list);
  }

  async getList(kind: ListKind, name: string): Promise<ListRecord | undefined> {
    const found = this.lists.get(`${kind}#${name}`);
    return found && structuredClone(found);
  }

  async listLists(kind: ListKind): Promise<ListRecord[]> {
    return [...this.lists.values()].filter((l) => l.kind === kind).sort((a, b) => (a.name < b.name ? -1 : 1)).map((l) => structuredClone(l));
  }

  async deleteList(kind: ListKind, name: string): Promise<boolean> {
    return this.lists.delete(`${kind}#${name}`);
  }

  async getVoice(name: string): Promise<VoiceRecord | undefined> {
    const found = this.voices.get(name);
    return found && structuredClone(found);
  }

  async listVoices(): Promise<VoiceRecord[]> {
    return [...this.voices.values()].sort((a, b) => (a.name < b.name ? -1 : 1)).map((v) => structuredClone(v));
  }

  async deleteVoice(name: string, source?: VoiceRecord["source"]): Promise<boolean> {
    const found = this.voices.get(name);
    if (!found || (source && voiceSourceTag(found.source) !== voiceSourceTag(source))) return false;
    return this.voices.delete(name);
  }

  async recentJobs(opts: { limit: number; status?: JobStatus }): Promise<JobRecord[]> {
    const key = (r: JobRecord) => recentIndexSortKey(r.createdAt, r.jobId);
    return [...this.records.values()]
      .filter((r) => opts.status === undefined || r.status === opts.status)
      .sort((a, b) => (key(a) < key(b) ? 1 : key(a) > key(b) ? -1 : 0))
      .slice(0, Math.max(0, Math.floor(opts.limit)))
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
