/**
 * Job control on the local stack: `stt jobs`, `stt cancel`, `stt rerun`, `stt delete`. Each command is a
 * function of a session (tests pass their own stack's) and the streams it writes to; the run* functions open
 * the folder's stack as `stt status` does. The work is in shared/pipeline (cancel-job.ts, rerun-job.ts,
 * delete-job.ts): what the CLI adds is the table, the messages and the exit codes.
 */
import { PutObjectCommand } from "@aws-sdk/client-s3";
import type { JobRecord } from "../shared/adapters/job-store.js";
import { isPermanent } from "../shared/errors.js";
import { cancelJob } from "../shared/pipeline/cancel-job.js";
import { deleteJob } from "../shared/pipeline/delete-job.js";
import { rerunJob } from "../shared/pipeline/rerun-job.js";
import { contextOf } from "./inspect.js";
import type { JobsListing } from "./program.js";
import { MISSING_KEY_MESSAGE, providerFromEnv } from "./provider-env.js";
import { withStackSession, type StackSession } from "./stack-session.js";
import { subscribeToJobEvents, waitForJob } from "./submit.js";

export interface CommandIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

const STDIO: CommandIo = { out: (text) => process.stdout.write(text), err: (text) => process.stderr.write(text) };


export const runJobs = (opts: JobsListing) => withStackSession((session) => listJobs(session, opts, STDIO));
export const runCancel = (jobId: string) => withStackSession((session) => cancelCommand(session, jobId, STDIO));
export const runDelete = (jobId: string) => withStackSession((session) => deleteCommand(session, jobId, STDIO));
export const runRerun = (jobId: string, overrides: Record<string, string>) =>
  withStackSession(async (session) => {
    // No stack runs in this folder: the one this process started must run the job before it stops.
    const own = session.borrowed === undefined;
    if (own && !providerFromEnv()) {
      STDIO.err(`no local stack is running here (\`stt up\`), and this run has no provider key to run the job itself\n${MISSING_KEY_MESSAGE}\n`);
      return 2;
    }
    return rerunCommand(session, jobId, overrides, STDIO, { wait: own });
  });

/** `stt jobs`: a table (or JSON records), newest first; exit 0 (an empty list too). */
export async function listJobs(session: StackSession, opts: JobsListing, io: CommandIo): Promise<number> {
  const jobs = await session.jobs.recentJobs({ limit: opts.limit, status: opts.status });
  if (opts.json) {
    io.out(`${JSON.stringify(jobs.map(printable), null, 2)}\n`);
    return 0;
  }
  if (jobs.length === 0) {
    io.err(`no ${opts.status ? `${opts.status} ` : ""}jobs\n`);
    return 0;
  }
  io.out(jobTable(jobs));
  return 0;
}

/** A record as JSON shows it: the done-set as a count (as `stt status` prints it). */
function printable(job: JobRecord): Record<string, unknown> {
  const { doneSegments, answeredSegments, ...rest } = job;
  return { ...rest, doneSegments: doneSegments?.size ?? 0, ...(answeredSegments ? { answeredSegments: answeredSegments.size } : {}) };
}

const COLUMNS = ["ID", "STATUS", "CREATED", "DURATION", "SPEAKERS", "SOURCE", "REASON"] as const;

/** One line per job, columns padded to their widest cell; the reason (failures only) last, unpadded. */
export function jobTable(jobs: readonly JobRecord[]): string {
  const rows = jobs.map((job) => [
    job.jobId,
    job.status,
    job.createdAt.replace("T", " ").replace(/\.\d+Z$/, "Z"),
    job.duration === undefined ? "-" : clock(job.duration),
    job.speakers === undefined ? "-" : String(job.speakers.length),
    job.source.key,
    job.status === "FAILED" ? oneLine(job.error ?? job.lastError ?? "no reason recorded") : "",
  ]);
  const all = [[...COLUMNS], ...rows];
  const widths = COLUMNS.map((_, i) => Math.max(...all.map((row) => row[i].length)));
  const right = new Set([3, 4]);
  return (
    all
      .map((row) =>
        row
          .map((cell, i) => (i === row.length - 1 ? cell : right.has(i) ? cell.padStart(widths[i]) : cell.padEnd(widths[i])))
          .join("  ")
          .trimEnd(),
      )
      .join("\n") + "\n"
  );
}

/** 190.2 -> 3:10, 4000 -> 1:06:40. */
function clock(seconds: number): string {
  const total = Math.round(seconds);
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = String(total % 60).padStart(2, "0");
  return h > 0 ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

const oneLine = (text: string) => text.replace(/\s+/g, " ").slice(0, 160);

/** `stt cancel`: exit 0 when the job is cancelled (now or before), 1 when it is unknown or ended otherwise. */
export async function cancelCommand(session: StackSession, jobId: string, io: CommandIo): Promise<number> {
  const outcome = await cancelJob(contextOf(session), jobId);
  switch (outcome.kind) {
    case "cancelled":
      io.out(`job ${jobId} CANCELLED\n`);
      return 0;
    case "already-cancelled":
      io.out(`job ${jobId} was already CANCELLED (at ${outcome.job.completedAt ?? "an earlier time"})\n`);
      return 0;
    case "refused":
      io.err(`${outcome.reason}\n`);
      return 1;
    case "unknown":
      io.err(`no job ${jobId}\n`);
      return 1;
  }
}

/**
 * `stt rerun`: prints the new job's id on stdout (the same id for the same rerun), and with `wait` (the stack
 * is this process's own) waits for it to end. Exit 1 when the rerun cannot be made (the reason on stderr).
 */
export async function rerunCommand(
  session: StackSession,
  jobId: string,
  overrides: Record<string, string>,
  io: CommandIo,
  opts: { wait: boolean },
): Promise<number> {
  const events = opts.wait ? await subscribeToJobEvents(session) : undefined;
  try {
    const outcome = await rerunJob(contextOf(session), jobId, overrides, async (key, metadata) => {
      await session.clients.s3.send(new PutObjectCommand({ Bucket: session.resources.buckets.input, Key: key, Body: "", Metadata: metadata }));
    });
    io.out(`${outcome.jobId}\n`);
    if (outcome.kind === "exists") {
      io.err(
        outcome.jobId === jobId
          ? `nothing changed: job ${jobId} already has these options (${outcome.job.status})\n`
          : `job ${outcome.jobId} with these options exists already (${outcome.job.status})\n`,
      );
      return 0;
    }
    io.err(`job ${outcome.jobId} started: job ${jobId} again${describeOverrides(overrides)}\n`);
    if (!events) return 0;
    io.err("running it on this process's local stack (no `stt up` runs here)...\n");
    const { job } = await waitForJob(session, events, outcome.jobId);
    io.err(`job ${job.jobId} ${job.status}${job.error ? `: ${job.error}` : ""}\n`);
    return job.status === "COMPLETED" ? 0 : 1;
  } catch (error) {
    if (!isPermanent(error)) throw error;
    io.err(`${error.message}\n`);
    return 1;
  } finally {
    await events?.close();
  }
}

const describeOverrides = (overrides: Record<string, string>) => {
  const entries = Object.entries(overrides);
  return entries.length ? ` with ${entries.map(([k, v]) => `${k}=${v}`).join(", ")}` : " with the same options";
};

/** `stt delete`: exit 0 when something was deleted, 1 when there was nothing (no record and no objects). */
export async function deleteCommand(session: StackSession, jobId: string, io: CommandIo): Promise<number> {
  const report = await deleteJob(contextOf(session), jobId);
  const removed = report.outputObjects + report.workObjects + report.utterances;
  if (!report.existed && removed === 0) {
    io.err(`no job ${jobId}\n`);
    return 1;
  }
  io.out(
    `job ${jobId} deleted${report.cancelled ? " (cancelled first)" : ""}: ${report.outputObjects} output files, ` +
      `${report.workObjects} work objects, ${report.utterances} utterances${report.existed ? ", the record" : " (the record was gone already)"}\n`,
  );
  return 0;
}
