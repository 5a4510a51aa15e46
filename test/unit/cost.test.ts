/**
 * Cost you can see and cap: the estimate's rules and the dollars (domain/jobs/cost-estimate.ts), the daily
 * reservation on the in-memory job table (its conditions are job-store.ts's), the per-invocation meter
 * (pipeline/invocation-meter.ts), the caps checked before anything is sent (pipeline/cost-cap.ts, through the
 * real chunk step), and the job's spend settled on the day's total when it ends.
 */
import { afterEach, describe, expect, it } from "vitest";
import {
  DEFAULT_PRICES,
  PROBE_ALLOWANCE_SECONDS_PER_SEGMENT,
  costUsd,
  estimateJobCost,
  formatUsd,
  gbSecondsOf,
  overDailyLimitReason,
  overJobLimitReason,
} from "../../shared/domain/jobs/cost-estimate.js";
import { jobCost } from "../../shared/domain/jobs/job-billing.js";
import { InvocationMeter, currentMeter, providerAttemptMetered, withMeter } from "../../shared/pipeline/invocation-meter.js";
import { chunkRecording } from "../../shared/pipeline/chunk-recording.js";
import { settleJobCost } from "../../shared/pipeline/cost-cap.js";
import { ensureNotified } from "../../shared/pipeline/finish-job.js";
import { SAMPLE_RATE } from "../../shared/audio/ffmpeg.js";
import { wavBytes } from "../../shared/audio/wav.js";
import { MemoryJobRecords } from "../support/memory-job-records.js";
import { memoryPipeline, type MemoryPipeline } from "../support/memory-context.js";
import { cutSegments, jobRecord, JOB_ID, segmentMessage } from "../support/job-fixtures.js";
import { answerOf, wordsEverySecond } from "../support/fake-provider.js";
import { sqsRecord } from "../support/sqs-record.js";
import { keys } from "../../shared/adapters/object-store.js";
import { transcriberHandler } from "../../shared/pipeline/queue-handlers.js";
import { costBlock, dailyCostText } from "../../cli/cost.js";

const PRICES = { providerPerAudioMinute: 0.006, lambdaPerGbSecond: 0.00001, lambdaPerRequest: 0.0000002 };

describe("estimateJobCost", () => {
  it("counts the recording once, the overlap of every cut, a probe allowance per segment and the Lambda allowance", () => {
    // Act: 10 minutes at 120 s segments with 4 s of overlap, diarized
    const estimate = estimateJobCost({ durationSeconds: 600, chunkSeconds: 120, overlapSeconds: 4, diarized: true }, PRICES);

    // Assess
    expect(estimate).toMatchObject({ segments: 5, segmentSeconds: 600, overlapSeconds: 16, probeSeconds: 5 * PROBE_ALLOWANCE_SECONDS_PER_SEGMENT });
    const providerUsd = ((600 + 16 + 250) / 60) * 0.006;
    expect(estimate.usd.provider).toBeCloseTo(providerUsd, 6);
    expect(estimate.usd.lambda).toBeGreaterThan(0);
    expect(estimate.usd.total).toBeCloseTo(estimate.usd.provider + estimate.usd.lambda, 6);
  });

  it("has no probe allowance for a job that settles no speakers, and one segment at least", () => {
    // Act
    const plain = estimateJobCost({ durationSeconds: 30, chunkSeconds: 120, overlapSeconds: 4, diarized: false }, PRICES);

    // Assess
    expect(plain).toMatchObject({ segments: 1, overlapSeconds: 0, probeSeconds: 0 });
    expect(plain.usd.provider).toBeCloseTo(0.5 * 0.006, 6);
  });
});

describe("dollars", () => {
  it("prices provider audio per minute and Lambda per GB-second and request, over every stage", () => {
    // Act
    const usd = costUsd(
      120,
      { chunker: { gbSeconds: 30, invocations: 1 }, transcriber: { gbSeconds: 70, invocations: 4 }, stitcher: { gbSeconds: 0, invocations: 0 } },
      PRICES,
    );

    // Assess
    expect(usd).toEqual({ provider: 0.012, lambda: 0.001001, total: 0.013001 });
  });

  it("measures an invocation as its duration (whole ms) times its memory", () => {
    expect(gbSecondsOf(1500, 1024)).toBe(1.5);
    expect(gbSecondsOf(999.2, 2048)).toBe(2);
  });

  it("says the limits' reasons in the words of the job record", () => {
    expect(overJobLimitReason(0.42, 0.25)).toBe("max-cost: this recording is estimated at $0.42, over the job's limit of $0.25");
    expect(overDailyLimitReason(9.8, 10, 0.42)).toBe("daily cost limit: $9.80 of $10.00 spent today (UTC), this recording needs $0.42");
    expect(formatUsd(0.0012345)).toBe("$0.0012");
  });

  it("splits a job's segment audio into own stretch and overlap, and keeps the retries beside the billed seconds", () => {
    // Act: two segments of 30 s own stretch, 2 s of overlap on the inner sides
    const cost = jobCost(
      [
        { segment: { index: 0, start: 0, end: 32, ownStart: 0, ownEnd: 30 }, audioSeconds: 32 },
        { segment: { index: 1, start: 28, end: 60, ownStart: 30, ownEnd: 60 }, audioSeconds: 32 },
      ],
      undefined,
      32,
    );

    // Assess: audioSecondsBilled keeps its meaning (each logical request once)
    expect(cost.audioSecondsBilled).toBe(64);
    expect(cost.billing).toMatchObject({ segmentSeconds: 64, overlapSeconds: 4, retrySeconds: 32 });
  });
});

describe("the daily reservation (in-memory job table, job-store.ts's conditions)", () => {
  it("reserves while the total leaves room, finds a repeat reserved, and refuses past the limit with what is spent", async () => {
    // Prepare
    const jobs = new MemoryJobRecords();

    // Act
    const first = await jobs.reserveDailyCost("2026-01-01", "a", 6, 10);
    const again = await jobs.reserveDailyCost("2026-01-01", "a", 6, 10);
    const second = await jobs.reserveDailyCost("2026-01-01", "b", 5, 10);
    const third = await jobs.reserveDailyCost("2026-01-01", "c", 4, 10);
    const nextDay = await jobs.reserveDailyCost("2026-01-02", "b", 5, 10);

    // Assess
    expect(first).toEqual({ reserved: true, already: false });
    expect(again).toEqual({ reserved: true, already: true });
    expect(second).toEqual({ reserved: false, spentUsd: 6 });
    expect(third).toEqual({ reserved: true, already: false });
    expect(nextDay).toEqual({ reserved: true, already: false });
    expect(await jobs.dailyCost("2026-01-01")).toEqual({ day: "2026-01-01", totalUsd: 10, jobs: { a: 6, c: 4 } });
  });

  it("corrects a job's share to its cost once: a repeat changes nothing", async () => {
    // Prepare
    const jobs = new MemoryJobRecords();
    await jobs.reserveDailyCost("2026-01-01", "a", 6, 10);

    // Act
    const settled = await jobs.settleDailyCost("2026-01-01", "a", 6, 2.5);
    const repeat = await jobs.settleDailyCost("2026-01-01", "a", 6, 2.5);

    // Assess
    expect([settled, repeat]).toEqual([true, false]);
    expect(await jobs.dailyCost("2026-01-01")).toMatchObject({ totalUsd: 2.5, jobs: { a: 2.5 } });
  });
});

describe("InvocationMeter", () => {
  it("adds each flush's GB-seconds to the job's stage, the invocation once, in one ADD each", async () => {
    // Prepare: a 1024 MB function, a clock the test moves
    const jobs = new MemoryJobRecords();
    jobs.put(jobRecord());
    let ms = 0;
    const meter = new InvocationMeter(jobs, "transcriber", () => ms, 1024).forJob(JOB_ID);
    const adds: unknown[] = [];
    const addUsage = jobs.addUsage.bind(jobs);
    jobs.addUsage = async (jobId, usage) => {
      adds.push(usage);
      return addUsage(jobId, usage);
    };

    // Act: 2 s, flushed mid-way; then 0.5 s; then a redelivered invocation of 1 s
    ms = 2000;
    await meter.flush();
    ms = 2500;
    await meter.flush();
    const redelivery = new InvocationMeter(jobs, "transcriber", () => ms, 1024).forJob(JOB_ID);
    ms = 3500;
    await redelivery.flush();

    // Assess: every invocation really costs, the redelivered one too
    expect(adds).toHaveLength(3);
    expect(jobs.peek(JOB_ID)!.lambda).toEqual({ transcriber: { gbSeconds: 3.5, invocations: 2 } });
  });

  it("counts provider audio per attempt for the invocation that sent it: answered, and sent again after a timeout", async () => {
    // Prepare
    const jobs = new MemoryJobRecords();
    jobs.put(jobRecord());
    const meter = new InvocationMeter(jobs, "transcriber", () => 0, 1024).forJob(JOB_ID);
    const other = new InvocationMeter(jobs, "stitcher", () => 0, 1769);

    // Act: the client's hook, called inside each invocation's own async context
    await Promise.all([
      withMeter(meter, async () => {
        providerAttemptMetered({ audioSeconds: 30, code: "provider_network" });
        providerAttemptMetered({ audioSeconds: 30, code: "provider_429" });
        providerAttemptMetered({ audioSeconds: 30 });
        currentMeter()?.segmentAnswered(3);
      }),
      withMeter(other, async () => providerAttemptMetered({ audioSeconds: 99 })),
    ]);
    await meter.flush();

    // Assess: the 429 was refused at the door; the timeout's audio went out and counts as sent again
    expect(jobs.peek(JOB_ID)).toMatchObject({ providerSecondsSent: 60, retrySeconds: 30, answeredSegments: new Set([3]) });
  });
});

/** A 45 s WAV of tone bursts (the chunk step's own test recording). */
function bursts(seconds: number): Uint8Array {
  const pcm = Buffer.alloc(seconds * SAMPLE_RATE * 2);
  for (let i = 0; i < seconds * SAMPLE_RATE; i++) {
    const t = i / SAMPLE_RATE;
    pcm.writeInt16LE(t % 1.1 < 0.8 ? Math.round(6000 * Math.sin(2 * Math.PI * 180 * t)) : 0, i * 2);
  }
  return wavBytes(pcm);
}

describe("the cost caps, checked by the chunk step before anything is sent", () => {
  let pipeline: MemoryPipeline | undefined;
  afterEach(() => {
    pipeline?.dispose();
    pipeline = undefined;
  });
  const recording = bursts(45);

  it("fails a job over its own max-cost before any segment is stored or queued", async () => {
    // Prepare: 45 s diarized costs ≈ (45 + 2 + 150 s of probe allowance) at $0.006/min ≈ $0.02
    pipeline = memoryPipeline({ config: { cost: { prices: PRICES } } });
    pipeline.sources.put({ bucket: "stt-input", key: "a.wav", body: recording, metadata: { "chunk-seconds": "20", "max-cost": "0.01" } });

    // Act
    const outcome = await chunkRecording(pipeline.ctx, { bucket: "stt-input", key: "a.wav" });

    // Assess
    expect(outcome).toMatchObject({ kind: "failed" });
    if (outcome.kind !== "failed") return;
    expect(outcome.reason).toMatch(/^max-cost: this recording is estimated at \$0\.0\d+, over the job's limit of \$0\.01$/);
    expect(pipeline.jobs.peek(outcome.jobId)).toMatchObject({ status: "FAILED", errorCode: "max_cost" });
    expect(pipeline.queues.segments).toEqual([]);
    expect(pipeline.provider.calls).toEqual([]);
    expect(pipeline.notifier.events).toMatchObject([{ status: "FAILED", error: outcome.reason }]);
  });

  it("reserves the estimate under the daily limit, refuses the job that would pass it, and a repeat of the first is let through", async () => {
    // Prepare: a daily limit that fits one of these recordings, not two
    // (each: 45 s + 8 s of overlap at $0.006/min, and its Lambda allowance: ≈ $0.0054)
    pipeline = memoryPipeline({ config: { cost: { prices: PRICES, maxDailyCost: 0.008 } } });
    const metadata = { "chunk-seconds": "20", diarize: "false" };
    pipeline.sources.put({ bucket: "stt-input", key: "a.wav", body: recording, metadata });
    pipeline.sources.put({ bucket: "stt-input", key: "b.wav", body: recording, metadata: { ...metadata, language: "en" } });

    // Act
    const first = await chunkRecording(pipeline.ctx, { bucket: "stt-input", key: "a.wav" });
    const second = await chunkRecording(pipeline.ctx, { bucket: "stt-input", key: "b.wav" });

    // Assess: the first is reserved on today's counter (the steps' clock: 2026-01-01)
    expect(first.kind).toBe("started");
    const firstJob = pipeline.jobs.peek((first as { jobId: string }).jobId)!;
    expect(firstJob.costEstimate).toMatchObject({ day: "2026-01-01" });
    const counter = await pipeline.jobs.dailyCost("2026-01-01");
    expect(counter?.jobs[firstJob.jobId]).toBe(firstJob.costEstimate!.usd);
    // ... the second is refused with what is spent
    expect(second).toMatchObject({ kind: "failed" });
    expect((second as { reason: string }).reason).toMatch(/^daily cost limit: \$0\.0\d+ of \$0\.0080 spent today \(UTC\), this recording needs \$0\.0\d+$/);
    expect(pipeline.jobs.peek((second as { jobId: string }).jobId)!.errorCode).toBe("daily_cost_limit");

    // Act: the first job's event again, as if its chunker had died after reserving
    pipeline.jobs.put({ ...firstJob, status: "CHUNKING" });
    const repeat = await chunkRecording(pipeline.ctx, { bucket: "stt-input", key: "a.wav" });

    // Assess: reserved already, not twice
    expect(repeat.kind).toBe("started");
    expect((await pipeline.jobs.dailyCost("2026-01-01"))?.totalUsd).toBe(counter!.totalUsd);
  });

  it("settles an ended job's share to what it cost, once, and announces the cost", async () => {
    // Prepare: a failed job that reserved $0.40 and sent 60 s of audio, with some Lambda use
    pipeline = memoryPipeline({ config: { cost: { prices: PRICES } } });
    const { ctx, jobs, notifier } = pipeline;
    await jobs.reserveDailyCost("2026-01-01", JOB_ID, 0.4, 10);
    jobs.put(
      jobRecord({
        status: "FAILED",
        error: "x",
        errorCode: "y",
        costEstimate: { usd: 0.4, day: "2026-01-01", reservedUsd: 0.4 },
        providerSecondsSent: 60,
        lambda: { chunker: { gbSeconds: 10, invocations: 1 } },
      }),
    );

    // Act
    await ensureNotified(ctx, jobs.peek(JOB_ID)!);
    await settleJobCost(ctx, jobs.peek(JOB_ID)!);

    // Assess: $0.006 for the minute of audio, $0.0001002 of Lambda
    const cost = { provider: 0.006, lambda: 0.0001002, total: 0.0061002 };
    expect(jobs.peek(JOB_ID)!.costUsd).toEqual(cost);
    expect(await jobs.dailyCost("2026-01-01")).toMatchObject({ totalUsd: 0.0061, jobs: { [JOB_ID]: cost.total } });
    expect(notifier.events).toMatchObject([{ status: "FAILED", costUsd: cost, estimatedUsd: 0.4, lambda: { chunker: { gbSeconds: 10 } } }]);
  });
});

describe("the cost on the command line", () => {
  it("shows a completed job's cost block: provider parts, Lambda per stage, dollars, estimate", () => {
    // Act
    const block = costBlock(
      jobRecord({
        status: "COMPLETED",
        audioSecondsBilled: 284.3,
        billing: { segmentSeconds: 214, segmentRequests: 7, probeSeconds: 70.3, probeRequests: 2, overlapSeconds: 24, retrySeconds: 30 },
        lambda: { chunker: { gbSeconds: 12.34, invocations: 1 }, transcriber: { gbSeconds: 45, invocations: 8 }, stitcher: { gbSeconds: 3, invocations: 1 } },
        costUsd: { provider: 0.0079, lambda: 0.001, total: 0.0089 },
        costEstimate: { usd: 0.0095, day: "2026-01-01", reservedUsd: 0.0095 },
      }),
      DEFAULT_PRICES,
    );

    // Assess
    expect(block).toContain("provider audio  314.3 s: segments 190.0 s + overlap 24.0 s (7 requests) + speaker probes 70.3 s (2 requests) + sent again 30.0 s");
    expect(block).toContain("chunker 12.34 GB-s (1 invocations), transcriber 45.00 GB-s (8 invocations), stitcher 3.00 GB-s (1 invocations)");
    expect(block).toContain("dollars         $0.0089: provider $0.0079 + lambda $0.0010");
    expect(block).toContain("estimate        $0.0095 before it ran, reserved on 2026-01-01's total");
  });

  it("shows a day's total against its limit, jobs largest first", () => {
    expect(dailyCostText("2026-01-01", { day: "2026-01-01", totalUsd: 9.8, jobs: { a: 0.3, b: 9.5 } }, 10)).toBe(
      "2026-01-01 (UTC): $9.80 spent of $10.00 (daily limit), 2 jobs\n  b  $9.50\n  a  $0.30\n",
    );
  });
});

describe("audio sent again, counted through the transcriber's queue handler", () => {
  let pipeline: MemoryPipeline | undefined;
  afterEach(() => {
    pipeline?.dispose();
    pipeline = undefined;
  });

  it("counts a segment request repeated because the step died after the provider answered, and the stage's invocations", async () => {
    // Prepare: a RUNNING job of two segments; the first delivery dies right after the provider's answer
    let crash = true;
    pipeline = memoryPipeline({
      answer: (req) => answerOf(wordsEverySecond(5, { prefix: req.filename.replace(/\W/g, "") })),
      checkpoint: (step) => {
        if (step === "transcriber:after-provider" && crash) {
          crash = false;
          throw new Error("killed after the provider answered");
        }
      },
    });
    const [first] = cutSegments(2);
    pipeline.jobs.put(jobRecord());
    pipeline.work.objects.set(keys.segmentAudio(JOB_ID, 0), { body: new Uint8Array([0]) });
    const handler = transcriberHandler(pipeline.ctx);
    const message = sqsRecord("m-1", JSON.stringify(segmentMessage(first)), { queue: "elsewhere" });

    // Act: the delivery that dies, then its redelivery
    const died = await handler({ Records: [message] });
    const redelivered = await handler({ Records: [message] });

    // Assess: two requests for one segment; the second is the one paid again
    expect(died.batchItemFailures).toEqual([{ itemIdentifier: "m-1" }]);
    expect(redelivered.batchItemFailures).toEqual([]);
    expect(pipeline.provider.calls).toHaveLength(2);
    const job = pipeline.jobs.peek(JOB_ID)!;
    expect(job.retrySeconds).toBeCloseTo(first.end - first.start, 3);
    expect(job.lambda?.transcriber?.invocations).toBe(2);
    expect(job.lambda?.transcriber?.gbSeconds).toBeGreaterThan(0);
  });
});
