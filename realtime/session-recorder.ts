/**
 * Where a streaming session lands: its audio in the work bucket while it streams (FLAC parts, so an
 * abrupt disconnect loses at most what was never received), its item in the jobs table, and at the end
 * the whole session as one FLAC in the input bucket, which the batch pipeline turns into a job exactly as
 * it does a dropped file (diarized, word-timed transcript, DynamoDB records, notification).
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { GetCommand, PutCommand, UpdateCommand, type DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { JobStore } from "../shared/adapters/job-store.js";
import { presignGet } from "../shared/adapters/object-store.js";
import { encodeFlacPcm } from "../shared/audio/flac-encoder.js";
import { encodeMetadataValue } from "../shared/domain/metadata-encoding.js";
import type { Log } from "../shared/pipeline/context.js";
import { reasonOf } from "../shared/errors.js";
import { SAMPLE_RATE } from "./protocol.js";
import type { LiveUsage } from "./upstream/types.js";

export type CloseReason = "client_closed" | "disconnected" | "idle_timeout" | "session_limit" | "server_shutdown" | "upstream_failed";
export type SessionStatus = "STREAMING" | "SUBMITTED" | "EMPTY" | "FAILED";

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

export interface SessionOutcome {
  status: SessionStatus;
  audioSeconds: number;
  source?: { bucket: string; key: string };
  jobId?: string;
  error?: string;
}

/** One session's audio and record. `append` never blocks the socket; `finish` settles everything. */
export interface SessionRecording {
  append(samples: Int16Array): void;
  readonly samples: number;
  finish(end: SessionEnd): Promise<SessionOutcome>;
}

export interface SessionRecorder {
  start(session: SessionStart): Promise<SessionRecording>;
}

/** The session item: pk = SESSION#<id>, sk = SESSION, beside the job items in the same table. */
export interface SessionItem {
  sessionId: string;
  status: SessionStatus;
  model: string;
  language?: string;
  upstream: "realtime" | "http";
  keyId: string;
  startedAt: string;
  endedAt?: string;
  closeReason?: CloseReason;
  audioSeconds: number;
  partCount: number;
  utteranceCount?: number;
  source?: { bucket: string; key: string };
  jobId?: string;
  error?: string;
  expiresAt?: number;
}

export const sessionKey = (sessionId: string) => ({ pk: `SESSION#${sessionId}`, sk: "SESSION" });
export const sessionKeys = {
  part: (sessionId: string, index: number) => `sessions/${sessionId}/part-${String(index).padStart(5, "0")}.flac`,
  source: (sessionId: string) => `realtime/${sessionId}.flac`,
};

export interface S3RecorderOptions {
  s3: S3Client;
  dynamo: DynamoDBDocumentClient;
  table: string;
  workBucket: string;
  inputBucket: string;
  sourceIndexName: string;
  ffmpeg: string;
  log: Log;
  /** Audio per part; a dropped gateway loses at most this much of a session (default 5 s). */
  partSeconds?: number;
  retentionDays?: number;
  /** How long to look for the job the upload started before leaving the link to a reader (default 120 s). */
  jobLinkTimeoutMs?: number;
}

export class S3SessionRecorder implements SessionRecorder {
  constructor(private readonly options: S3RecorderOptions) {}

  async start(session: SessionStart): Promise<SessionRecording> {
    const o = this.options;
    const item: SessionItem = {
      sessionId: session.sessionId,
      status: "STREAMING",
      model: session.model,
      language: session.language,
      upstream: session.upstream,
      keyId: session.keyId,
      startedAt: session.startedAt.toISOString(),
      audioSeconds: 0,
      partCount: 0,
      expiresAt: o.retentionDays ? Math.floor(session.startedAt.getTime() / 1000) + o.retentionDays * 86400 : undefined,
    };
    await o.dynamo.send(
      new PutCommand({ TableName: o.table, Item: { ...sessionKey(session.sessionId), ...item }, ConditionExpression: "attribute_not_exists(pk)" }),
    );
    return new S3SessionRecording(o, session);
  }
}

class S3SessionRecording implements SessionRecording {
  private pending: Int16Array[] = [];
  private pendingSamples = 0;
  private total = 0;
  private parts = 0;
  private chain: Promise<void> = Promise.resolve();
  /** Parts whose upload failed: kept in memory and tried again with the next flush. */
  private unsaved: Array<{ index: number; pcm: Buffer }> = [];
  private readonly partSamples: number;

  constructor(
    private readonly o: S3RecorderOptions,
    private readonly session: SessionStart,
  ) {
    this.partSamples = Math.round((o.partSeconds ?? 5) * SAMPLE_RATE);
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

  private flush(): void {
    if (this.pendingSamples === 0) return;
    const pcm = Buffer.concat(this.pending.map((s) => Buffer.from(s.buffer, s.byteOffset, s.byteLength)));
    this.pending = [];
    this.pendingSamples = 0;
    const index = this.parts++;
    const audioSeconds = this.total / SAMPLE_RATE;
    // Parts are written one after another, so the item's counters only move forward.
    this.chain = this.chain.then(async () => {
      const todo = [...this.unsaved, { index, pcm }];
      this.unsaved = [];
      for (const part of todo) {
        try {
          await this.savePart(part.index, part.pcm);
        } catch (error) {
          this.o.log.warn("session part not saved yet; will retry", { sessionId: this.session.sessionId, part: part.index, error: reasonOf(error) });
          this.unsaved.push(part);
        }
      }
      await this.o.dynamo
        .send(
          new UpdateCommand({
            TableName: this.o.table,
            Key: sessionKey(this.session.sessionId),
            UpdateExpression: "SET audioSeconds = :a, partCount = :p",
            ExpressionAttributeValues: { ":a": round(audioSeconds), ":p": this.parts },
          }),
        )
        .catch((error: unknown) => this.o.log.warn("session progress not recorded", { sessionId: this.session.sessionId, error: reasonOf(error) }));
    });
  }

  private async savePart(index: number, pcm: Buffer): Promise<void> {
    const flac = encodeFlacPcm(pcm);
    await this.o.s3.send(
      new PutObjectCommand({ Bucket: this.o.workBucket, Key: sessionKeys.part(this.session.sessionId, index), Body: flac, ContentType: "audio/flac" }),
    );
  }

  async finish(end: SessionEnd): Promise<SessionOutcome> {
    const { sessionId } = this.session;
    this.flush();
    await this.chain;
    // A last try for parts that failed before; what still fails makes the session FAILED, loudly.
    for (const part of this.unsaved.splice(0)) await this.savePart(part.index, part.pcm).catch(() => this.unsaved.push(part));
    const audioSeconds = round(this.total / SAMPLE_RATE);
    const closing = {
      endedAt: end.endedAt.toISOString(),
      closeReason: end.reason,
      utteranceCount: end.utteranceCount,
      audioSeconds,
      partCount: this.parts,
    };
    if (this.total === 0) {
      await this.update({ ...closing, status: "EMPTY" });
      return { status: "EMPTY", audioSeconds };
    }
    const source = { bucket: this.o.inputBucket, key: sessionKeys.source(sessionId) };
    try {
      if (this.unsaved.length) throw new Error(`${this.unsaved.length} audio part(s) could not be stored`);
      await this.assembleAndSubmit(source.key, end);
    } catch (error) {
      const reason = `session audio could not be submitted: ${reasonOf(error)}`;
      this.o.log.error("session not submitted", { sessionId, error: reason });
      await this.update({ ...closing, status: "FAILED", error: reason });
      return { status: "FAILED", audioSeconds, error: reason };
    }
    await this.update({ ...closing, status: "SUBMITTED", source });
    const jobId = await this.linkJob(source);
    return { status: "SUBMITTED", audioSeconds, source, jobId };
  }

  /** Concatenates the parts (read back by presigned URL, never all in memory) into one FLAC in the input bucket. */
  private async assembleAndSubmit(key: string, end: SessionEnd): Promise<void> {
    const dir = await mkdtemp(join(tmpdir(), "stt-session-"));
    try {
      const urls = await Promise.all(
        Array.from({ length: this.parts }, (_, i) => presignGet(this.o.s3, this.o.workBucket, sessionKeys.part(this.session.sessionId, i))),
      );
      const list = join(dir, "parts.txt");
      await writeFile(list, urls.map((u) => `file '${u.replace(/'/g, "'\\''")}'`).join("\n"));
      const child = spawn(
        this.o.ffmpeg,
        [
          "-v", "error", "-nostdin", "-f", "concat", "-safe", "0", "-protocol_whitelist", "file,http,https,tcp,tls,crypto",
          "-i", list, "-ac", "1", "-ar", String(SAMPLE_RATE), "-c:a", "flac", "-f", "flac", "pipe:1",
        ],
        { stdio: ["ignore", "pipe", "pipe"] },
      );
      let stderr = "";
      child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d.toString()).slice(-2000)));
      const exited = new Promise<void>((resolve, reject) => {
        child.on("error", reject);
        child.on("close", (code) => (code === 0 ? resolve() : reject(new Error(`ffmpeg concat failed (${code}): ${stderr.trim().split("\n").pop() ?? ""}`))));
      });
      const metadata: Record<string, string> = { "realtime-session": this.session.sessionId, model: this.session.model };
      const language = end.language ?? this.session.language;
      const prompt = end.prompt ?? this.session.prompt;
      if (language && language !== "auto") metadata.language = language;
      if (prompt) metadata.prompt = encodeMetadataValue(prompt);
      const upload = new Upload({
        client: this.o.s3,
        params: { Bucket: this.o.inputBucket, Key: key, Body: child.stdout, ContentType: "audio/flac", Metadata: metadata },
        partSize: 8 * 1024 * 1024,
        queueSize: 2,
      });
      await Promise.all([upload.done(), exited]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }

  /** The chunker names the job; find it through the source index and write the link on the session item. */
  private async linkJob(source: { bucket: string; key: string }): Promise<string | undefined> {
    const jobs = new JobStore(this.o.dynamo, this.o.table);
    const deadline = Date.now() + (this.o.jobLinkTimeoutMs ?? 120_000);
    while (Date.now() < deadline) {
      const [job] = await jobs.jobsForSource(source.bucket, source.key, this.o.sourceIndexName).catch(() => []);
      if (job) {
        await this.update({ jobId: job.jobId });
        return job.jobId;
      }
      await new Promise((r) => setTimeout(r, 250));
    }
    this.o.log.warn("no job seen for the session yet; readers find it through the bySource index", { sessionId: this.session.sessionId });
    return undefined;
  }

  private async update(fields: Record<string, unknown>): Promise<void> {
    const names: Record<string, string> = {};
    const values: Record<string, unknown> = {};
    const sets = Object.entries(fields)
      .filter(([, v]) => v !== undefined)
      .map(([k, v], i) => {
        names[`#f${i}`] = k;
        values[`:v${i}`] = v;
        return `#f${i} = :v${i}`;
      });
    await this.o.dynamo.send(
      new UpdateCommand({
        TableName: this.o.table,
        Key: sessionKey(this.session.sessionId),
        UpdateExpression: `SET ${sets.join(", ")}`,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }
}

export async function getSessionItem(dynamo: DynamoDBDocumentClient, table: string, sessionId: string): Promise<SessionItem | undefined> {
  const out = await dynamo.send(new GetCommand({ TableName: table, Key: sessionKey(sessionId), ConsistentRead: true }));
  if (!out.Item) return undefined;
  const { pk: _pk, sk: _sk, ...rest } = out.Item;
  return rest as SessionItem;
}

/** Keeps everything in memory: for unit tests of the gateway, which need no AWS. */
export class MemoryRecorder implements SessionRecorder {
  readonly sessions = new Map<string, { start: SessionStart; audio: Int16Array[]; end?: SessionEnd }>();

  async start(session: SessionStart): Promise<SessionRecording> {
    const entry: { start: SessionStart; audio: Int16Array[]; end?: SessionEnd } = { start: session, audio: [] };
    this.sessions.set(session.sessionId, entry);
    let total = 0;
    return {
      append: (samples) => {
        entry.audio.push(samples.slice());
        total += samples.length;
      },
      get samples() {
        return total;
      },
      finish: async (end) => {
        entry.end = end;
        return { status: total ? "SUBMITTED" : "EMPTY", audioSeconds: total / SAMPLE_RATE };
      },
    };
  }
}

const round = (x: number) => Math.round(x * 1000) / 1000;
