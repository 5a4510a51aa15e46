/**
 * Sessions whose gateway died mid-stream (killed without SIGTERM, a lost task): their item is still
 * STREAMING and its heartbeat stopped. Whoever finds one a minute after its last heartbeat (a gateway as
 * it starts, the scheduled sweeper Lambda in AWS) claims it with a conditional update, so two sweeps, or a
 * sweep and a gateway that comes back late, never both end it; then it ends exactly as a normal close does
 * (session-submit.ts) with the parts found in the work bucket, up to the first one missing.
 *
 * The claim is a lease that expires: the sweep heartbeats while it works, and a sweep that dies stops
 * heartbeating, so the next one claims the session again a minute later.
 */
import { randomBytes } from "node:crypto";
import { z } from "zod";
import { SAMPLE_RATE } from "../shared/audio/ffmpeg.js";
import type { PipelineContext } from "../shared/pipeline/context.js";
import { reasonOf } from "../shared/errors.js";
import { wiring } from "../shared/wiring.js";
import { endSession, listParts, partSamples, sessionKeys, type SessionStoreOptions } from "./session-submit.js";
import { HEARTBEAT_MS, ORPHAN_AFTER_MS, SessionTable, type SessionOutcome } from "./session-table.js";

export interface SweepOptions extends SessionStoreOptions {
  /** The sparse index of live sessions by heartbeat (wiring.table.liveSessionIndex). */
  liveSessionIndexName: string;
  /** No heartbeat for this long makes a session orphaned (default 60 s). */
  orphanAfterMs?: number;
  heartbeatMs?: number;
  /** Part headers read at once. */
  readConcurrency?: number;
}

export interface SweepRun {
  /** Epoch ms after which no further session is claimed (a Lambda's end, less the time one session needs). */
  claimUntil?: number;
}

export interface SweepReport {
  /** Live sessions whose heartbeat looked stale in the index. */
  found: number;
  /** Sessions this sweep claimed and ended, with how each ended. */
  ended: Record<string, SessionOutcome>;
  /** Found but not claimed: someone else holds them now, or they came back to life. */
  skipped: string[];
  /** Claimed, but ending them failed (they become claimable again a minute later). */
  failed: Record<string, string>;
  /** Found but left for the next sweep (claimUntil passed). */
  deferred: string[];
}

/** What a sweep reads of a claimed item: parsed, since it comes back from the table. */
const claimedSchema = z.object({
  sessionId: z.string().min(1),
  model: z.string().min(1),
  language: z.string().optional(),
  heartbeatAt: z.number(),
  batchJob: z.boolean().optional(),
  utteranceCount: z.number().optional(),
});

/** The latest heartbeat that makes a live session orphaned at `now`. */
export function orphanedBefore(now: number, orphanAfterMs = ORPHAN_AFTER_MS): number {
  return now - orphanAfterMs;
}

/**
 * A session's stored part keys in order, up to the first index missing: the audio after a gap cannot be
 * placed in time (parts vary in length), and durability was only ever promised up to the first gap.
 */
export function contiguousParts(sessionId: string, keys: readonly string[]): { parts: string[]; beyondGap: string[] } {
  const byIndex = new Map<number, string>();
  for (const key of keys) {
    const match = /\/part-(\d+)\.flac$/.exec(key);
    if (match && key === sessionKeys.part(sessionId, Number(match[1]))) byIndex.set(Number(match[1]), key);
  }
  const parts: string[] = [];
  while (byIndex.has(parts.length)) parts.push(byIndex.get(parts.length)!);
  const beyondGap = [...byIndex.entries()].filter(([i]) => i >= parts.length).sort(([a], [b]) => a - b).map(([, k]) => k);
  return { parts, beyondGap };
}

export async function sweepOrphanedSessions(o: SweepOptions, run: SweepRun = {}): Promise<SweepReport> {
  const now = o.now ?? Date.now;
  const table = new SessionTable(o.dynamo, o.table);
  const holder = `sweep:${randomBytes(8).toString("hex")}`;
  const report: SweepReport = { found: 0, ended: {}, skipped: [], failed: {}, deferred: [] };
  let stale: string[];
  try {
    stale = await table.staleSessions(o.liveSessionIndexName, orphanedBefore(now(), o.orphanAfterMs));
  } catch (error) {
    // dynalite cannot add an index to a table it keeps on disk from before the index existed.
    if ((error as Error).name === "ValidationException" || (error as Error).name === "ResourceNotFoundException") {
      o.log.warn("no live-session index on the jobs table: orphaned sessions cannot be found (a local table from an older version?)", {
        index: o.liveSessionIndexName,
        error: reasonOf(error),
      });
      return report;
    }
    throw error;
  }
  report.found = stale.length;
  for (const sessionId of stale) {
    if (run.claimUntil !== undefined && Date.now() > run.claimUntil) {
      report.deferred.push(sessionId);
      continue;
    }
    const claimed = await table.claimOrphan(sessionId, holder, now(), orphanedBefore(now(), o.orphanAfterMs));
    if (!claimed) {
      report.skipped.push(sessionId);
      continue;
    }
    // The claim is only as good as the heartbeat behind it: keep it fresh while the session is joined.
    const beat = setInterval(() => void table.beat(sessionId, holder, now()).catch(() => undefined), o.heartbeatMs ?? HEARTBEAT_MS);
    beat.unref();
    try {
      const item = claimedSchema.parse(claimed);
      const { parts, beyondGap } = contiguousParts(sessionId, await listParts(o, sessionId));
      if (beyondGap.length) {
        o.log.warn("orphaned session has parts after a missing one; they stay in the work bucket", { sessionId, joined: parts.length, left: beyondGap.length });
      }
      const samples = await sumParallel(parts, o.readConcurrency ?? 8, (key) => partSamples(o, key));
      o.log.info("orphaned session claimed", { sessionId, parts: parts.length, lastHeartbeat: new Date(item.heartbeatAt).toISOString() });
      report.ended[sessionId] = await endSession(o, {
        sessionId,
        holder,
        model: item.model,
        language: item.language,
        batchJob: item.batchJob ?? true,
        parts,
        unsavedParts: 0,
        audioSeconds: samples / SAMPLE_RATE,
        // The gateway's last sign of life is as close as anyone can tell to when the session ended.
        endedAt: new Date(item.heartbeatAt),
        closeReason: "orphaned",
        utteranceCount: item.utteranceCount,
        partCount: parts.length + beyondGap.length,
      });
    } catch (error) {
      report.failed[sessionId] = reasonOf(error);
      o.log.error("orphaned session not ended; the next sweep claims it again", { sessionId, error: reasonOf(error) });
    } finally {
      clearInterval(beat);
    }
  }
  return report;
}

async function sumParallel<T>(items: readonly T[], concurrency: number, f: (item: T) => Promise<number>): Promise<number> {
  let total = 0;
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const count = await f(items[next++]);
      total += count;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
  return total;
}

/** Time a sweep keeps free at the end of its run to end the last session it claimed. */
export const SWEEP_RESERVE_MS = 5 * 60_000;

/**
 * The sweep as the scheduled Lambda runs it, from the pipeline's composition root: every run claims what
 * it can end before its own timeout, and fails loudly (the function's Errors alarm) when a session it
 * claimed could not be ended.
 */
export function orphanSweeper(ctx: PipelineContext): (run: { remainingMs: number }) => Promise<SweepReport> {
  const options: SweepOptions = {
    s3: ctx.clients.s3,
    dynamo: ctx.clients.dynamo,
    table: ctx.config.table,
    workBucket: ctx.config.workBucket,
    inputBucket: ctx.config.inputBucket,
    sourceIndexName: wiring.table.sourceIndex.name,
    liveSessionIndexName: wiring.table.liveSessionIndex.name,
    ffmpeg: ctx.ffmpeg.ffmpeg,
    log: ctx.log,
    // The job usually appears within seconds; a reader finds it through bySource when it takes longer.
    jobLinkTimeoutMs: 30_000,
  };
  return async ({ remainingMs }) => {
    const report = await sweepOrphanedSessions(options, { claimUntil: Date.now() + remainingMs - SWEEP_RESERVE_MS });
    ctx.log.info("orphan sweep done", {
      found: report.found,
      ended: Object.keys(report.ended).length,
      skipped: report.skipped.length,
      deferred: report.deferred.length,
      failed: Object.keys(report.failed).length,
    });
    const failed = Object.entries(report.failed);
    if (failed.length) throw new Error(`${failed.length} orphaned session(s) not ended: ${failed.map(([id, why]) => `${id}: ${why}`).join("; ")}`);
    return report;
  };
}
