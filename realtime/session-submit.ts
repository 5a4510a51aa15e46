/**
 * How a session ends, whoever ends it (its gateway at a normal close, or a sweep that found it orphaned):
 * the stored parts are joined with ffmpeg's concat into one FLAC in the input bucket, which the batch
 * pipeline turns into a job exactly as it does a dropped file; the session item gets its final status,
 * counters and cost, and the link to the job.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, type S3Client } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import type { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { JobStore } from "../shared/adapters/job-store.js";
import { presignGet } from "../shared/adapters/object-store.js";
import { SAMPLE_RATE } from "../shared/audio/ffmpeg.js";
import { encodeMetadataValue } from "../shared/domain/options/metadata-encoding.js";
import { explicitLanguage } from "../shared/domain/options/languages.js";
import { REALTIME_SESSION_KEY } from "../shared/domain/options/options.js";
import type { Log } from "../shared/pipeline/context.js";
import { reasonOf } from "../shared/errors.js";
import { SessionTable, type CloseReason, type SessionFields, type SessionOutcome } from "./session-table.js";
import type { LiveUsage } from "./upstream/types.js";

/** Where sessions are stored and submitted: what the gateway's recorder and the orphan sweep share. */
export interface SessionStoreOptions {
  s3: S3Client;
  dynamo: DynamoDBDocumentClient;
  table: string;
  workBucket: string;
  inputBucket: string;
  sourceIndexName: string;
  ffmpeg: string;
  log: Log;
  /** How long to look for the job the upload started before leaving the link to a reader (default 120 s). */
  jobLinkTimeoutMs?: number;
  /** The clock heartbeats are stamped with, epoch ms (tests: a recording whose clock is behind looks orphaned sooner). */
  now?: () => number;
}

export const sessionKeys = {
  partPrefix: (sessionId: string) => `sessions/${sessionId}/`,
  part: (sessionId: string, index: number) => `sessions/${sessionId}/part-${String(index).padStart(5, "0")}.flac`,
  source: (sessionId: string) => `realtime/${sessionId}.flac`,
};

/** What ending a session needs to know, from the recording that ran it or from the item a sweep claimed. */
export interface SessionEnding {
  sessionId: string;
  /** Who holds the session: every write of the end is conditional on it. */
  holder: string;
  model: string;
  language?: string;
  prompt?: string;
  /** False: the parts stay in the work bucket and no job is started (status CLOSED). */
  batchJob: boolean;
  /** Keys of the stored parts, in order, with no gap. */
  parts: readonly string[];
  /** Parts that could not be stored (a normal end only): the session is FAILED, loudly. */
  unsavedParts: number;
  audioSeconds: number;
  endedAt: Date;
  closeReason: CloseReason;
  utteranceCount?: number;
  /** Parts written (stored or not). */
  partCount: number;
  live?: LiveUsage;
}

/** The cost fields of the session item, from the live side's usage (absent when unknown, e.g. an orphan). */
export function liveCostFields(live: LiveUsage | undefined): Pick<SessionFields, "liveAudioSecondsBilled" | "liveRequests" | "livePartialRequests"> {
  if (!live) return {};
  return { liveAudioSecondsBilled: round(live.audioSecondsBilled), liveRequests: live.requests, livePartialRequests: live.partialRequests };
}

/**
 * Ends a session: EMPTY without audio, FAILED when parts are missing or the join fails, CLOSED when no
 * batch job is wanted, else SUBMITTED (then linked to its job). Only the holder ends it; a holder that lost
 * the session (a sweep took it over) submits nothing and reports what the item says.
 */
export async function endSession(o: SessionStoreOptions, e: SessionEnding): Promise<SessionOutcome> {
  const table = new SessionTable(o.dynamo, o.table);
  const audioSeconds = round(e.audioSeconds);
  const closing: SessionFields = {
    endedAt: e.endedAt.toISOString(),
    closeReason: e.closeReason,
    utteranceCount: e.utteranceCount,
    audioSeconds,
    partCount: e.partCount,
    ...liveCostFields(e.live),
  };
  const close = async (fields: SessionFields & { status: Exclude<SessionOutcome["status"], "STREAMING"> }, outcome: SessionOutcome) =>
    (await table.close(e.sessionId, e.holder, fields)) ? outcome : takenOver(o, table, e.sessionId);

  const fail = (error: unknown) => {
    const reason = `session audio could not be submitted: ${reasonOf(error)}`;
    o.log.error("session not submitted", { sessionId: e.sessionId, error: reason });
    return close({ ...closing, status: "FAILED", error: reason }, { status: "FAILED", audioSeconds, error: reason });
  };

  if (e.parts.length === 0 && e.unsavedParts === 0) return close({ ...closing, status: "EMPTY" }, { status: "EMPTY", audioSeconds });
  if (e.unsavedParts) return fail(`${e.unsavedParts} audio part(s) could not be stored`);
  if (!e.batchJob) return close({ ...closing, status: "CLOSED" }, { status: "CLOSED", audioSeconds });
  const source = { bucket: o.inputBucket, key: sessionKeys.source(e.sessionId) };
  // The last moment to find out that a sweep took the session over: once the object is written, a job starts.
  if (!(await table.beat(e.sessionId, e.holder, (o.now ?? Date.now)()))) return takenOver(o, table, e.sessionId);
  try {
    await joinParts(o, e, source.key);
  } catch (error) {
    return fail(error);
  }
  if (!(await table.close(e.sessionId, e.holder, { ...closing, status: "SUBMITTED", source }))) {
    o.log.error("session submitted, but its item was taken over meanwhile", { sessionId: e.sessionId });
  }
  const jobId = await linkJob(o, table, e.sessionId, source);
  return { status: "SUBMITTED", audioSeconds, source, jobId };
}

async function takenOver(o: SessionStoreOptions, table: SessionTable, sessionId: string): Promise<SessionOutcome> {
  const item = await table.get(sessionId);
  o.log.warn("session was taken over by an orphan sweep; this writer submits nothing", { sessionId, status: item?.status });
  return {
    status: item?.status ?? "FAILED",
    audioSeconds: item?.audioSeconds ?? 0,
    source: item?.source,
    jobId: item?.jobId,
    error: "the session was taken over by an orphan sweep (no heartbeat for a minute)",
  };
}

/** Concatenates the parts (read back by presigned URL, never all in memory) into one FLAC in the input bucket. */
async function joinParts(o: SessionStoreOptions, e: SessionEnding, key: string): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), "stt-session-"));
  try {
    const urls = await Promise.all(e.parts.map((part) => presignGet(o.s3, o.workBucket, part)));
    const list = join(dir, "parts.txt");
    await writeFile(list, urls.map((u) => `file '${u.replace(/'/g, "'\\''")}'`).join("\n"));
    const child = spawn(
      o.ffmpeg,
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
    const metadata: Record<string, string> = { [REALTIME_SESSION_KEY]: e.sessionId, model: e.model };
    const language = explicitLanguage(e.language);
    if (language) metadata.language = language;
    if (e.prompt) metadata.prompt = encodeMetadataValue(e.prompt);
    const upload = new Upload({
      client: o.s3,
      params: { Bucket: o.inputBucket, Key: key, Body: child.stdout, ContentType: "audio/flac", Metadata: metadata },
      partSize: 8 * 1024 * 1024,
      queueSize: 2,
    });
    await Promise.all([upload.done(), exited]);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The chunker names the job; find it through the source index and write the link on the session item. */
async function linkJob(o: SessionStoreOptions, table: SessionTable, sessionId: string, source: { bucket: string; key: string }): Promise<string | undefined> {
  const jobs = new JobStore(o.dynamo, o.table);
  const deadline = Date.now() + (o.jobLinkTimeoutMs ?? 120_000);
  while (Date.now() < deadline) {
    const [job] = await jobs.jobsForSource(source.bucket, source.key, o.sourceIndexName).catch(() => []);
    if (job) {
      await table.update(sessionId, { jobId: job.jobId });
      return job.jobId;
    }
    await sleep(250);
  }
  o.log.warn("no job seen for the session yet; readers find it through the bySource index", { sessionId });
  return undefined;
}

/** Stored part keys of a session, in index order (a listing of its prefix in the work bucket). */
export async function listParts(o: Pick<SessionStoreOptions, "s3" | "workBucket">, sessionId: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const out = await o.s3.send(
      new ListObjectsV2Command({ Bucket: o.workBucket, Prefix: sessionKeys.partPrefix(sessionId), ContinuationToken: token }),
    );
    for (const object of out.Contents ?? []) if (object.Key) keys.push(object.Key);
    token = out.IsTruncated ? out.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/** Samples in a stored part, from its FLAC header (the first 42 bytes, one ranged GET). */
export async function partSamples(o: Pick<SessionStoreOptions, "s3" | "workBucket">, key: string): Promise<number> {
  const out = await o.s3.send(new GetObjectCommand({ Bucket: o.workBucket, Key: key, Range: `bytes=0-${FLAC_HEADER_BYTES - 1}` }));
  if (!out.Body) throw new Error(`empty body for s3://${o.workBucket}/${key}`);
  return flacSampleCount(await out.Body.transformToByteArray());
}

/** "fLaC", a metadata block header, the 34-byte STREAMINFO. */
export const FLAC_HEADER_BYTES = 4 + 4 + 34;

/** The total sample count a FLAC stream's STREAMINFO declares (36 bits, from byte 21 of the stream). */
export function flacSampleCount(header: Uint8Array): number {
  if (header.length < FLAC_HEADER_BYTES || String.fromCharCode(...header.subarray(0, 4)) !== "fLaC" || (header[4] & 0x7f) !== 0) {
    throw new Error("not a FLAC stream starting with STREAMINFO");
  }
  const high = header[21] & 0x0f;
  const low = ((header[22] << 24) >>> 0) + (header[23] << 16) + (header[24] << 8) + header[25];
  return high * 2 ** 32 + low;
}

export const round = (x: number) => Math.round(x * 1000) / 1000;
