/**
 * Fair share of the provider cap (shared/pipeline/release-segments.ts) and running slots
 * (shared/pipeline/schedule-jobs.ts) on the local stack, as a smoke run of `npm run bench:fair`.
 *
 * A 20-minute recording dropped first, then, once it is cut, three 1-minute ones, with a provider cap of 2:
 * with every segment queued at once the long job's 40 messages stood ahead of the short ones; with shares, the
 * short jobs' segments go out beside the long job's, so they finish first. Then maxRunningJobs = 1: of two jobs
 * dropped together, the one admitted second waits as QUEUED, sends nothing, and starts when the other ends (which
 * one is the chunkers' race). Only ordering facts and counts: no timing thresholds.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation, encodeRecording, type Recording } from "../audio/conversation.js";
import { startHarness, type Harness } from "../support/harness.js";
import { uploadRecording } from "../../cli/submit.js";
import { sessionOn } from "../../cli/stack-session.js";
import { isTerminal } from "../../shared/domain/jobs/job-event.js";
import type { JobRecord } from "../../shared/adapters/job-store.js";

let long: Recording;
let shorts: Recording[];

describe("one long recording among short ones", () => {
  let harness: Harness;
  beforeAll(async () => {
  harness = await startHarness({ chunkSeconds: 30, overlapSeconds: 4, transcriberConcurrency: 2, providerMaxInFlight: 2 });
  long = buildConversation({ seed: 31, voices: 2, durationSeconds: 1200 });
  shorts = [41, 42, 43].map((seed) => buildConversation({ seed, voices: 2, durationSeconds: 60 }));
  for (const recording of [long, ...shorts]) harness.provider.addRecording(recording);
  // Each request takes a while, as at a real provider: the long job needs 20 rounds of the cap of 2.
  harness.provider.configure({ latency: { baseSeconds: 0.4, perAudioSecond: 0 } });
}, 120_000);

  afterAll(async () => {
    await harness?.close();
  });

  it("does not hold them up: the short jobs complete before the long one, and nothing is lost", async () => {
    // Prepare
    const files = [long, ...shorts].map((_, i) => join(harness.workDir, `recording-${i}.mp3`));
    for (const [i, recording] of [long, ...shorts].entries()) await encodeRecording(recording, files[i], "mp3");
    const session = sessionOn(harness.stack);

    // Act: the long one first; once it is cut (every segment it has is stored), the short ones
    const ids: string[] = [(await uploadRecording(session, files[0], { diarize: "false" })).jobId];
    while ((await session.jobs.get(ids[0]))?.status === "CHUNKING") await new Promise((resolve) => setTimeout(resolve, 50));
    for (const file of files.slice(1)) ids.push((await uploadRecording(session, file, { diarize: "false" })).jobId);
    const ended = new Map<string, { job: JobRecord; order: number }>();
    const deadline = Date.now() + 150_000;
    while (ended.size < ids.length && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
      for (const id of ids) {
        const job = ended.has(id) ? undefined : await session.jobs.get(id);
        if (job && isTerminal(job.status)) ended.set(id, { job, order: ended.size });
      }
    }

    // Assess
    expect(ended.size).toBe(ids.length);
    const [longJob, ...shortJobs] = ids.map((id) => ended.get(id)!);
    for (const [i, { job }] of [longJob, ...shortJobs].entries()) {
      expect(job.status, job.error).toBe("COMPLETED");
      expect(job.wordCount).toBe([long, ...shorts][i].words.length);
      expect(job.billing?.segmentRequests).toBe(job.segmentCount);
    }
    expect(longJob.job.segmentCount).toBeGreaterThanOrEqual(35);
    for (const short of shortJobs) expect(short.order).toBeLessThan(longJob.order);
  }, 180_000);
});

describe("more jobs than maxRunningJobs", () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await startHarness({ chunkSeconds: 30, overlapSeconds: 4, transcriberConcurrency: 2, providerMaxInFlight: 2, maxRunningJobs: 1 });
    harness.provider.configure({ latency: { baseSeconds: 0.3, perAudioSecond: 0 } });
  }, 120_000);

  afterAll(async () => {
    await harness?.close();
  });

  it("queues one of two jobs dropped together (QUEUED, nothing sent) and starts it when the other ends; both complete", async () => {
    // Prepare
    const recordings = [51, 52].map((seed) => buildConversation({ seed, voices: 2, durationSeconds: 90 }));
    const files = recordings.map((_, i) => join(harness.workDir, `queued-${i}.mp3`));
    for (const [i, recording] of recordings.entries()) {
      harness.provider.addRecording(recording);
      await encodeRecording(recording, files[i], "mp3");
    }
    const session = sessionOn(harness.stack);

    // Act: both dropped together; watch both (whichever chunker admits its job first runs it: the uploads race)
    const ids: string[] = [];
    for (const file of files) ids.push((await uploadRecording(session, file, { diarize: "false" })).jobId);
    const requestsWhileQueued = [0, 0];
    const deadline = Date.now() + 120_000;
    let jobs: JobRecord[] = [];
    while (Date.now() < deadline) {
      jobs = (await Promise.all(ids.map((id) => session.jobs.get(id)))).filter((job): job is JobRecord => job !== undefined);
      for (const [i, job] of jobs.entries()) {
        if (job.status === "QUEUED") requestsWhileQueued[i] = Math.max(requestsWhileQueued[i], job.releasedSegments ?? 0);
      }
      if (jobs.length === 2 && jobs.every((job) => isTerminal(job.status))) break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    // Assess: one waited (its record says when), sent nothing meanwhile, and started once the other had ended
    expect(jobs).toHaveLength(2);
    for (const [i, job] of jobs.entries()) {
      expect(job.status, job.error).toBe("COMPLETED");
      expect(job.wordCount).toBe(recordings[i].words.length);
    }
    const waited = jobs.filter((job) => job.queuedAt !== undefined);
    expect(waited).toHaveLength(1);
    const [queued] = waited;
    const ran = jobs.find((job) => job !== queued)!;
    expect(requestsWhileQueued[jobs.indexOf(queued)]).toBe(0);
    expect(queued.startedAt! >= ran.completedAt!).toBe(true);
  }, 180_000);
});
