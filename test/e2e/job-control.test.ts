/**
 * Job control end to end on the local stack, through the CLI's own code (cli/jobs.ts): cancelling a job with
 * many segments while it runs, running a job again with other options, deleting a job and (with the stack's
 * deleteJobsWithSource on) the jobs of a deleted recording, and listing jobs.
 */
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DeleteObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { QueryCommand } from "@aws-sdk/lib-dynamodb";
import { buildConversation, encodeRecording } from "../audio/conversation.js";
import { startHarness, type Harness } from "../support/harness.js";
import { subscribeToJobEvents, uploadRecording, waitForJob } from "../../cli/submit.js";
import { sessionOn, type StackSession } from "../../cli/stack-session.js";
import { cancelCommand, deleteCommand, listJobs, rerunCommand, type CommandIo } from "../../cli/jobs.js";
import type { JobEvent } from "../../shared/adapters/notifier.js";

let harness: Harness;
let session: StackSession;

beforeAll(async () => {
  // Short segments and two transcribers: a 5-minute recording is 15 segments that take a while to go through.
  harness = await startHarness({ chunkSeconds: 20, overlapSeconds: 2, transcriberConcurrency: 2, deleteJobsWithSource: true });
  session = sessionOn(harness.stack);
});

afterAll(async () => {
  await harness?.close();
});

function io(): CommandIo & { stdout: string; stderr: string } {
  const captured = { stdout: "", stderr: "" };
  return Object.assign(captured, { out: (t: string) => void (captured.stdout += t), err: (t: string) => void (captured.stderr += t) });
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = await probe();
    if (found !== undefined) return found;
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${what}`);
}

/** Every key under the job's prefix in a bucket. */
async function keysOf(bucket: string, jobId: string): Promise<string[]> {
  const out = await harness.stack.clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `jobs/${jobId}/` }));
  return (out.Contents ?? []).map((o) => o.Key!);
}

/** Every item of the job in the table (the job item and its utterances). */
async function itemsOf(jobId: string): Promise<number> {
  const out = await harness.stack.clients.dynamo.send(
    new QueryCommand({ TableName: harness.stack.resources.table, KeyConditionExpression: "pk = :pk", ExpressionAttributeValues: { ":pk": `JOB#${jobId}` } }),
  );
  return out.Items?.length ?? 0;
}

describe("job control on the local stack", () => {
  let cancelledId: string;
  let completedId: string;
  let rerunId: string;

  it("cancels a job mid-run: fewer provider requests than segments, CANCELLED, announced, no transcript", async () => {
    // Prepare: a 5-minute recording, each provider answer taking a second
    const recording = buildConversation({ seed: 31, voices: 2, durationSeconds: 300 });
    harness.provider.addRecording(recording);
    const file = join(harness.workDir, "long.flac");
    await encodeRecording(recording, file, "flac");
    harness.provider.configure({ latency: { baseSeconds: 1, perAudioSecond: 0 } });
    const events = await subscribeToJobEvents(session);
    harness.provider.resetStats();

    // Act: cancel as soon as the first segment is done
    const { jobId } = await uploadRecording(session, file, { diarize: "false" });
    cancelledId = jobId;
    await until("a segment done", async () => ((await session.jobs.get(jobId))?.doneSegments?.size ? true : undefined));
    const run = io();
    const code = await cancelCommand(session, jobId, run);
    const { event, job } = await waitForJob(session, events, jobId, { timeoutMs: 30_000 });
    await events.close();
    // What was already at the provider finishes; nothing more starts.
    await until("the provider idle", async () => (harness.provider.stats().inFlight === 0 ? true : undefined));
    await sleep(1500);
    harness.provider.configure({ latency: { baseSeconds: 0, perAudioSecond: 0 } });

    // Assess
    expect(code, run.stderr).toBe(0);
    expect(run.stdout).toBe(`job ${jobId} CANCELLED\n`);
    expect(job.status).toBe("CANCELLED");
    expect(job.outputs).toBeUndefined();
    expect((event as JobEvent).status).toBe("CANCELLED");
    const segments = job.segmentCount ?? Math.ceil(300 / 20);
    expect(segments).toBeGreaterThanOrEqual(14);
    expect(harness.provider.stats().requests).toBeLessThan(segments);
    expect(await keysOf(harness.stack.resources.buckets.output, jobId)).toEqual([]);
    expect(await harness.stack.ctx.jobs.utterances(jobId)).toEqual([]);
    // ... and a second cancel is fine
    const again = io();
    expect(await cancelCommand(session, jobId, again)).toBe(0);
    expect(again.stdout).toMatch(/already CANCELLED/);
  });

  it("reruns a job with --max-speakers: a new job from the same object, the same id when asked twice", async () => {
    // Prepare: a completed 3-voice job
    const recording = buildConversation({ seed: 32, voices: 3, durationSeconds: 60, style: "quick-turns" });
    harness.provider.addRecording(recording);
    const file = join(harness.workDir, "three.mp3");
    await encodeRecording(recording, file, "mp3");
    const first = await harness.transcribe(file, { language: "en" });
    expect(first.code, first.stderr).toBe(0);
    completedId = first.job!.jobId;
    expect(first.job!.speakers).toHaveLength(3);
    const events = await subscribeToJobEvents(session);

    // Act
    const run = io();
    const code = await rerunCommand(session, completedId, { "max-speakers": "2" }, run, { wait: false });
    rerunId = run.stdout.trim();
    const { job } = await waitForJob(session, events, rerunId, { timeoutMs: 120_000 });
    await events.close();
    const again = io();
    await rerunCommand(session, completedId, { "max-speakers": "2" }, again, { wait: false });

    // Assess
    expect(code, run.stderr).toBe(0);
    expect(rerunId).toMatch(/^[0-9a-f]{24}$/);
    expect(rerunId).not.toBe(completedId);
    expect(job.status, job.error).toBe("COMPLETED");
    expect(job.source).toEqual(first.job!.source);
    expect(job.options).toEqual({ ...first.job!.options, maxSpeakers: 2 });
    expect(job.speakers!.length).toBeLessThanOrEqual(2);
    expect(again.stdout.trim()).toBe(rerunId);
    expect(again.stderr).toMatch(/exists already \(COMPLETED\)/);
  });

  it("lists jobs newest first, by status, as a table or JSON", async () => {
    // Act
    const all = io();
    await listJobs(session, { limit: 10, json: true }, all);
    const cancelled = io();
    await listJobs(session, { limit: 10, status: "CANCELLED", json: false }, cancelled);

    // Assess
    const ids = (JSON.parse(all.stdout) as Array<{ jobId: string }>).map((j) => j.jobId);
    expect(ids.slice(0, 3)).toEqual([rerunId, completedId, cancelledId]);
    const lines = cancelled.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^ID\s+STATUS/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual([cancelledId]);
  });

  it("deletes a job: no items, no objects left; deleting again says there is nothing", async () => {
    // Act
    const run = io();
    const code = await deleteCommand(session, rerunId, run);
    const again = io();
    const againCode = await deleteCommand(session, rerunId, again);

    // Assess
    expect(code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/deleted: 6 output files, \d+ work objects, \d+ utterances, the record/);
    expect(await itemsOf(rerunId)).toBe(0);
    expect(await keysOf(harness.stack.resources.buckets.output, rerunId)).toEqual([]);
    expect(await keysOf(harness.stack.resources.buckets.work, rerunId)).toEqual([]);
    expect(againCode).toBe(1);
    expect(again.stderr).toBe(`no job ${rerunId}\n`);
  });

  it("deletes the jobs of a deleted recording (deleteJobsWithSource)", async () => {
    // Prepare
    const job = (await session.jobs.get(completedId))!;

    // Act
    await harness.stack.clients.s3.send(new DeleteObjectCommand({ Bucket: job.source.bucket, Key: job.source.key }));
    await until("the job gone", async () => ((await session.jobs.get(completedId)) ? undefined : true), 30_000);

    // Assess
    expect(await itemsOf(completedId)).toBe(0);
    expect(await keysOf(harness.stack.resources.buckets.output, completedId)).toEqual([]);
    expect(await keysOf(harness.stack.resources.buckets.work, completedId)).toEqual([]);
    expect(await session.jobs.get(cancelledId)).toBeDefined();
  });
});
