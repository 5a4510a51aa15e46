/**
 * Cost you can see and cap, end to end on the local stack against the ground-truth provider: a completed job's
 * record and notification carry its cost (provider audio by part, Lambda GB-seconds per stage, dollars); a job
 * over its max-cost fails before the provider hears a byte of it; a day's limit refuses the next job while an
 * earlier one completes, and the day's counter ends with what that one cost.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation, encodeRecording, type Recording } from "../audio/conversation.js";
import { startHarness, type Harness } from "../support/harness.js";
import { subscribeToJobEvents, uploadRecording, waitForJob } from "../../cli/submit.js";
import { sessionOn } from "../../cli/stack-session.js";
import { flagsToMetadata } from "../../cli/transcribe-options.js";
import type { JobEvent } from "../../shared/adapters/notifier.js";
import { costDay, estimateJobCost, type Prices } from "../../shared/domain/jobs/cost-estimate.js";
import { wiring } from "../../shared/wiring.js";

/** A dollar per audio minute, so the figures are easy to read; Lambda at list price. */
const PRICES: Prices = { providerPerAudioMinute: 1, lambdaPerGbSecond: 0.0000166667, lambdaPerRequest: 0.0000002 };

let harness: Harness;
let conversation: Recording;
let file: string;

beforeAll(async () => {
  harness = await startHarness({ chunkSeconds: 30, overlapSeconds: 4, transcriberConcurrency: 4, cost: { prices: PRICES } });
  conversation = buildConversation({ seed: 31, voices: 2, durationSeconds: 70, style: "quick-turns" });
  harness.provider.addRecording(conversation);
  file = join(harness.workDir, "call.wav");
  await encodeRecording(conversation, file, "wav");
});

afterAll(async () => {
  await harness?.close();
});

describe("the cost of a job, on the local stack", () => {
  it("is on a completed job's record and in its notification: provider audio by part, Lambda per stage, dollars", async () => {
    // Prepare
    const events = await subscribeToJobEvents(sessionOn(harness.stack));
    harness.provider.resetStats();

    // Act
    const run = await harness.transcribe(file, {}, "text");
    const heard = harness.provider.stats();

    // Assess: the provider figures, split, and what the provider itself heard
    expect(run.code, run.stderr).toBe(0);
    const job = (await harness.stack.ctx.jobs.get(run.job!.jobId))!;
    const billing = job.billing!;
    expect(billing.overlapSeconds).toBeCloseTo((job.segmentCount! - 1) * 4, 1);
    expect(billing.retrySeconds).toBe(0);
    expect(Math.abs(job.audioSecondsBilled! - heard.audioSecondsBilled)).toBeLessThan(0.01);
    // ... every stage's Lambda use: each invocation measured, the transcriber's at least once per segment
    expect(job.lambda?.chunker).toMatchObject({ invocations: 1 });
    expect(job.lambda?.chunker?.gbSeconds).toBeGreaterThan(0);
    expect(job.lambda?.transcriber?.invocations).toBeGreaterThanOrEqual(job.segmentCount!);
    expect(job.lambda?.transcriber?.gbSeconds).toBeGreaterThan(0);
    expect(job.lambda?.stitcher?.invocations).toBeGreaterThanOrEqual(1);
    // ... and the provider audio the invocations counted, attempt by attempt, is what the provider heard (the
    // invocation that asked for the stitch adds its last figures as it ends: a moment after the notification)
    let sent = job.providerSecondsSent ?? 0;
    for (let i = 0; i < 50 && Math.abs(sent - heard.audioSecondsBilled) > 0.01; i++) {
      await new Promise((r) => setTimeout(r, 100));
      sent = (await harness.stack.ctx.jobs.get(job.jobId))?.providerSecondsSent ?? 0;
    }
    expect(sent).toBeCloseTo(heard.audioSecondsBilled, 1);
    // ... the dollars at the stack's prices: a dollar per audio minute
    const cost = job.costUsd!;
    expect(cost.provider).toBeCloseTo(job.audioSecondsBilled! / 60, 5);
    expect(cost.lambda).toBeGreaterThan(0);
    expect(cost.total).toBeCloseTo(cost.provider + cost.lambda, 8);
    // ... the estimate it was admitted with: the recording, its overlap and the probe allowance
    const estimate = estimateJobCost({ durationSeconds: job.duration!, chunkSeconds: 30, overlapSeconds: 4, diarized: true }, PRICES);
    expect(job.costEstimate?.usd).toBeCloseTo(estimate.usd.total, 2);

    // Assess: the notification says the same
    const received: JobEvent[] = [];
    for (let i = 0; i < 5 && !received.some((e) => e.jobId === job.jobId); i++) received.push(...(await events.next(1)));
    await events.close();
    const event = received.find((e) => e.jobId === job.jobId);
    expect(event).toMatchObject({ status: "COMPLETED", costUsd: cost, billing, estimatedUsd: job.costEstimate!.usd });
    expect(event?.lambda?.chunker?.gbSeconds).toBe(job.lambda!.chunker!.gbSeconds);
  });

  it("fails a job estimated over its max-cost before the provider hears a byte of it", async () => {
    // Prepare
    harness.provider.resetStats();

    // Act
    const run = await harness.transcribe(file, { "max-cost": "0.50" }, "text");

    // Assess
    expect(run.code).toBe(1);
    expect(run.job).toMatchObject({ status: "FAILED", errorCode: "max_cost" });
    expect(run.job!.error).toMatch(/^max-cost: this recording is estimated at \$\d+\.\d\d, over the job's limit of \$0\.50$/);
    expect(run.stderr).toContain("max-cost: this recording is estimated at");
    expect(harness.provider.stats().requests).toBe(0);
    const segments = await harness.stack.ctx.work.exists(`jobs/${run.job!.jobId}/segments/00000.flac`);
    expect(segments).toBe(false);
  });

  it("refuses the next job once the day's limit is reserved, while the earlier one completes; the day ends at what it cost", async () => {
    // Prepare: a limit with room for one more of these recordings, not two
    const session = sessionOn(harness.stack);
    const day = costDay(new Date());
    const spent = (await harness.stack.ctx.jobs.dailyCost(day))?.totalUsd ?? 0;
    const estimate = estimateJobCost({ durationSeconds: 70, chunkSeconds: 30, overlapSeconds: 4, diarized: true }, PRICES).usd.total;
    harness.stack.config.cost = { prices: PRICES, maxDailyCost: spent + estimate * 1.5 };
    const events = await subscribeToJobEvents(session);
    try {
      // Act: the first job starts and reserves its estimate
      const first = await uploadRecording(session, file, flagsToMetadata({ language: "en" }));
      const deadline = Date.now() + 60_000;
      while (!(await harness.stack.ctx.jobs.get(first.jobId))?.costEstimate && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      // ... the second, meanwhile, finds no room
      const second = await harness.transcribe(file, { language: "en", temperature: "0" }, "text");
      const { job: done } = await waitForJob(session, events, first.jobId, { timeoutMs: 120_000 });

      // Assess: refused with the day's figures, and the first completed
      expect(second.code).toBe(1);
      expect(second.job).toMatchObject({ status: "FAILED", errorCode: "daily_cost_limit" });
      expect(second.job!.error).toMatch(/^daily cost limit: \$\d+\.\d\d of \$\d+\.\d\d spent today \(UTC\), this recording needs \$\d+\.\d\d$/);
      expect(done.status).toBe("COMPLETED");
      // ... the day's counter: the first job's share corrected to its cost, nothing for the second
      const counter = (await harness.stack.ctx.jobs.dailyCost(done.costEstimate!.day!))!;
      const settled = (await harness.stack.ctx.jobs.get(first.jobId))!;
      expect(counter.jobs[first.jobId]).toBe(settled.costUsd!.total);
      expect(counter.jobs[second.job!.jobId]).toBeUndefined();
      expect(counter.totalUsd).toBeCloseTo(spent + settled.costUsd!.total, 5);
    } finally {
      harness.stack.config.cost = { prices: PRICES };
      await events.close();
    }
  });
});

describe("the day's counter in DynamoDB (dynalite), one conditional update per change", () => {
  it("reserves once per job, refuses past the limit, settles once, and is one item of the jobs table", async () => {
    // Prepare: a day of its own
    const jobs = harness.stack.ctx.jobs;
    const day = "2001-02-03";

    // Act
    const first = await jobs.reserveDailyCost(day, "job-a", 0.3, 1);
    const repeat = await jobs.reserveDailyCost(day, "job-a", 0.3, 1);
    const refused = await jobs.reserveDailyCost(day, "job-b", 0.8, 1);
    const settled = await jobs.settleDailyCost(day, "job-a", 0.3, 0.125);
    const settledAgain = await jobs.settleDailyCost(day, "job-a", 0.3, 0.125);

    // Assess
    expect([first, repeat, refused]).toEqual([
      { reserved: true, already: false },
      { reserved: true, already: true },
      { reserved: false, spentUsd: 0.3 },
    ]);
    expect([settled, settledAgain]).toEqual([true, false]);
    // ... the item the README's GetItem reads: pk COST#<day>, sk COST, in the jobs table
    const { GetCommand } = await import("@aws-sdk/lib-dynamodb");
    const out = await harness.stack.clients.dynamo.send(new GetCommand({ TableName: harness.stack.resources.table, Key: { pk: `COST#${day}`, sk: "COST" } }));
    expect(out.Item).toMatchObject({ total: 0.125, day, "job_job-a": 0.125 });
    expect(harness.stack.resources.table).toBe(wiring.table.name);
  });
});
