/**
 * Where a streaming session lands: its audio in the work bucket while it streams (FLAC parts, durable as
 * they are written), its item in the jobs table (with a heartbeat while it streams), and at the end the
 * whole session as one FLAC in the input bucket, which the batch pipeline turns into a job exactly as it
 * does a dropped file. A gateway that dies mid-session leaves its parts and a stale heartbeat behind: the
 * orphan sweep (session-orphans.ts) ends such a session with the same code (session-submit.ts).
 */
import { setTimeout as sleep } from "node:timers/promises";
import { randomBytes } from "node:crypto";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { encodeFlacPcm } from "../shared/audio/flac-encoder.js";
import { reasonOf } from "../shared/errors.js";
import { SAMPLE_RATE } from "./protocol.js";
import { endSession, round, sessionKeys, type SessionStoreOptions } from "./session-submit.js";
import { HEARTBEAT_MS, SessionTable, type CloseReason, type SessionItem, type SessionOutcome } from "./session-table.js";
import type { LiveUsage } from "./upstream/types.js";

export type { CloseReason, SessionItem, SessionOutcome, SessionStatus } from "./session-table.js";
export { sessionKey } from "./session-table.js";
export { sessionKeys } from "./session-submit.js";

export interface SessionStart {
  sessionId: string;
  model: string;
  language?: string;
  prompt?: string;
  upstream: "realtime" | "http";
  /** A short, non-secret id of the gateway key used (a hash prefix), for usage per key. */
  keyId: string;
  startedAt: Date;
}

export interface SessionEnd {
  reason: CloseReason;
  endedAt: Date;
  utteranceCount: number;
  /** Latest settings: the batch job is asked for the language and prompt the client ended with. */
  language?: string;
  prompt?: string;
  /** The live side's provider cost (all upstreams of the session together). */
  live?: LiveUsage;
}

/** One session's audio and record. `append` never blocks the socket; `finish` settles everything. */
export interface SessionRecording {
  append(samples: Int16Array): void;
  /** Samples appended so far: the session's audio clock. */
  readonly samples: number;
  /**
   * Resolves once every sample before `sample` (a position on the session's audio clock, clamped to what
   * was appended) is stored in the work bucket: audio still pending goes into a part now, however short.
   * A part that fails to store is tried again a few times; rejects only when it still fails (the part stays
   * queued, and later flushes and `finish` try it again).
   */
  durableThrough(sample: number): Promise<void>;
  finish(end: SessionEnd): Promise<SessionOutcome>;
}

export interface SessionRecorder {
  start(session: SessionStart): Promise<SessionRecording>;
}

export interface S3RecorderOptions extends SessionStoreOptions {
  /** Audio per part when nothing asks for durability sooner (default 5 s). */
  partSeconds?: number;
  retentionDays?: number;
  /** End sessions in a batch job (default); false: the parts stay in the work bucket, the session ends CLOSED. */
  batchJob?: boolean;
  /** The heartbeat's period while no part is written (default 20 s). */
  heartbeatMs?: number;
}

/** Tries of one durableThrough before it gives up (the part stays queued for later flushes). */
const DURABLE_ATTEMPTS = 4;
const DURABLE_BACKOFF_MS = [200, 500, 1000];

export class S3SessionRecorder implements SessionRecorder {
  constructor(private readonly options: S3RecorderOptions) {}

  async start(session: SessionStart): Promise<S3SessionRecording> {
    const o = this.options;
    const now = (o.now ?? Date.now)();
    const holder = `gateway:${randomBytes(8).toString("hex")}`;
    const batchJob = o.batchJob ?? true;
    await new SessionTable(o.dynamo, o.table).create({
      sessionId: session.sessionId,
      status: "STREAMING",
      model: session.model,
      language: session.language,
      upstream: session.upstream,
      keyId: session.keyId,
      startedAt: session.startedAt.toISOString(),
      audioSeconds: 0,
      partCount: 0,
      batchJob,
      holder,
      heartbeatAt: now,
      expiresAt: o.retentionDays ? Math.floor(session.startedAt.getTime() / 1000) + o.retentionDays * 86400 : undefined,
    });
    return new S3SessionRecording(o, session, holder, batchJob, now);
  }
}

/**
 * The parts of a session by index: where each ends on the session's audio clock and whether it is
 * stored, so the recording knows how far its audio is durable (the stored prefix, gaps not bridged).
 */
export class PartLedger {
  private readonly ends: number[] = [];
  private readonly stored: boolean[] = [];
  private prefix = 0;

  /** A new part ending at `end` (samples); its index. */
  add(end: number): number {
    if (end <= this.flushedThrough) throw new Error(`part end ${end} is not after ${this.flushedThrough}`);
    this.ends.push(end);
    this.stored.push(false);
    return this.ends.length - 1;
  }

  markStored(index: number): void {
    this.stored[index] = true;
    while (this.prefix < this.stored.length && this.stored[this.prefix]) this.prefix++;
  }

  get count(): number {
    return this.ends.length;
  }

  /** Samples handed to parts. */
  get flushedThrough(): number {
    return this.ends.at(-1) ?? 0;
  }

  /** Samples stored with no part missing before them. */
  get storedThrough(): number {
    return this.prefix ? this.ends[this.prefix - 1] : 0;
  }
}

export class S3SessionRecording implements SessionRecording {
  private pending: Int16Array[] = [];
  private pendingSamples = 0;
  private total = 0;
  private readonly ledger = new PartLedger();
  private chain: Promise<void> = Promise.resolve();
  /** Parts whose upload failed: kept in memory and tried again with the next flush. */
  private unsaved: Array<{ index: number; pcm: Buffer }> = [];
  private lastError = "";
  private readonly partSamples: number;
  private readonly table: SessionTable;
  private readonly heartbeatMs: number;
  private heartbeat?: NodeJS.Timeout;
  private lastBeat: number;
  /** False once a sweep has taken the session over: this recording then writes parts only. */
  private held = true;
  private finished = false;
  private halted = false;

  constructor(
    private readonly o: S3RecorderOptions,
    private readonly session: SessionStart,
    private readonly holder: string,
    private readonly batchJob: boolean,
    startedAt: number,
  ) {
    this.partSamples = Math.round((o.partSeconds ?? 5) * SAMPLE_RATE);
    this.table = new SessionTable(o.dynamo, o.table);
    this.heartbeatMs = o.heartbeatMs ?? HEARTBEAT_MS;
    this.lastBeat = startedAt;
    // Part writes refresh the heartbeat too; the timer covers silence (no audio arriving at all).
    this.heartbeat = setInterval(() => {
      if (this.now() - this.lastBeat >= this.heartbeatMs / 2) void this.beat();
    }, this.heartbeatMs);
    this.heartbeat.unref();
  }

  get samples(): number {
    return this.total;
  }

  append(samples: Int16Array): void {
    if (samples.length === 0) return;
    this.pending.push(samples);
    this.pendingSamples += samples.length;
    this.total += samples.length;
    if (this.pendingSamples >= this.partSamples) this.flush();
  }

  async durableThrough(sample: number): Promise<void> {
    const target = Math.min(Math.max(0, sample), this.total);
    if (this.ledger.storedThrough >= target) return;
    if (this.ledger.flushedThrough < target) this.flush();
    for (let attempt = 1; ; attempt++) {
      await this.chain;
      if (this.ledger.storedThrough >= target) return;
      if (attempt >= DURABLE_ATTEMPTS) {
        throw new Error(`session audio up to ${round(target / SAMPLE_RATE)} s is not stored after ${attempt} tries: ${this.lastError}`);
      }
      await sleep(DURABLE_BACKOFF_MS[attempt - 1] ?? 1000);
      this.enqueue();
    }
  }

  /**
   * Stops as a killed process would: no more heartbeats, nothing flushed; what is pending in memory is lost
   * and the item stays STREAMING until a sweep finds it. For tests of the orphan sweep.
   */
  halt(): void {
    clearInterval(this.heartbeat);
    this.pending = [];
    this.pendingSamples = 0;
    this.halted = this.finished = true;
  }

  private flush(): void {
    if (this.pendingSamples === 0) return;
    const pcm = Buffer.concat(this.pending.map((s) => Buffer.from(s.buffer, s.byteOffset, s.byteLength)));
    this.pending = [];
    this.pendingSamples = 0;
    const index = this.ledger.add(this.total);
    this.enqueue({ index, pcm });
  }

  /** Parts are written one after another (the failed ones first), so the item's counters only move forward. */
  private enqueue(part?: { index: number; pcm: Buffer }): void {
    this.chain = this.chain.then(async () => {
      const todo = [...this.unsaved, ...(part ? [part] : [])];
      if (todo.length === 0 || this.halted) return;
      this.unsaved = [];
      for (const p of todo) {
        try {
          await this.savePart(p.index, p.pcm);
          this.ledger.markStored(p.index);
        } catch (error) {
          this.lastError = reasonOf(error);
          this.o.log.warn("session part not saved yet; will retry", { sessionId: this.session.sessionId, part: p.index, error: this.lastError });
          this.unsaved.push(p);
        }
      }
      await this.beat();
    });
  }

  private async savePart(index: number, pcm: Buffer): Promise<void> {
    const flac = encodeFlacPcm(pcm);
    await this.o.s3.send(
      new PutObjectCommand({ Bucket: this.o.workBucket, Key: sessionKeys.part(this.session.sessionId, index), Body: flac, ContentType: "audio/flac" }),
    );
  }

  /** The heartbeat, with the progress so far: audio durable in parts, parts written. */
  private async beat(): Promise<void> {
    if (!this.held || this.finished) return;
    const now = this.now();
    try {
      const held = await this.table.beat(this.session.sessionId, this.holder, now, {
        audioSeconds: round(this.ledger.storedThrough / SAMPLE_RATE),
        partCount: this.ledger.count,
      });
      this.lastBeat = now;
      if (!held && !this.finished) {
        this.held = false;
        clearInterval(this.heartbeat);
        this.o.log.warn("session taken over by an orphan sweep (no heartbeat for a minute); parts are still stored, the end is not this gateway's", {
          sessionId: this.session.sessionId,
        });
      }
    } catch (error) {
      this.o.log.warn("session heartbeat not recorded", { sessionId: this.session.sessionId, error: reasonOf(error) });
    }
  }

  async finish(end: SessionEnd): Promise<SessionOutcome> {
    const { sessionId } = this.session;
    try {
      this.flush();
      await this.chain;
      // A last try for parts that failed before; what still fails makes the session FAILED, loudly.
      for (const part of this.unsaved.splice(0)) {
        await this.savePart(part.index, part.pcm).then(
          () => this.ledger.markStored(part.index),
          () => this.unsaved.push(part),
        );
      }
      return await endSession(this.o, {
        sessionId,
        holder: this.holder,
        model: this.session.model,
        language: end.language ?? this.session.language,
        prompt: end.prompt ?? this.session.prompt,
        batchJob: this.batchJob,
        parts: Array.from({ length: this.ledger.count }, (_, i) => sessionKeys.part(sessionId, i)),
        unsavedParts: this.unsaved.length,
        audioSeconds: this.total / SAMPLE_RATE,
        endedAt: end.endedAt,
        closeReason: end.reason,
        utteranceCount: end.utteranceCount,
        partCount: this.ledger.count,
        live: end.live,
      });
    } finally {
      this.finished = true;
      clearInterval(this.heartbeat);
    }
  }

  private now(): number {
    return (this.o.now ?? Date.now)();
  }
}

export async function getSessionItem(dynamo: DynamoDBDocumentClient, table: string, sessionId: string): Promise<SessionItem | undefined> {
  return new SessionTable(dynamo, table).get(sessionId);
}

export interface MemorySession {
  start: SessionStart;
  audio: Int16Array[];
  /** The furthest sample a durableThrough asked for (all of it is "stored": it is in memory). */
  durableThrough: number;
  end?: SessionEnd;
}

/** Keeps everything in memory: for unit tests of the gateway, which need no AWS. */
export class MemoryRecorder implements SessionRecorder {
  readonly sessions = new Map<string, MemorySession>();

  constructor(private readonly options: { batchJob?: boolean } = {}) {}

  async start(session: SessionStart): Promise<SessionRecording> {
    const entry: MemorySession = { start: session, audio: [], durableThrough: 0 };
    this.sessions.set(session.sessionId, entry);
    const batchJob = this.options.batchJob ?? true;
    let total = 0;
    return {
      append: (samples) => {
        entry.audio.push(samples.slice());
        total += samples.length;
      },
      get samples() {
        return total;
      },
      durableThrough: async (sample) => {
        entry.durableThrough = Math.max(entry.durableThrough, Math.min(Math.max(0, sample), total));
      },
      finish: async (end) => {
        entry.end = end;
        return { status: total ? (batchJob ? "SUBMITTED" : "CLOSED") : "EMPTY", audioSeconds: total / SAMPLE_RATE };
      },
    };
  }
}
