/**
 * Delivery faults: duplicate S3 events and SQS deliveries, a handler dying between any two of its steps,
 * poison messages. Each job still ends once, with outputs byte-identical to an undisturbed run of the
 * same audio, and nothing is left waiting on a queue.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SendMessageBatchCommand, SendMessageCommand } from "@aws-sdk/client-sqs";
import { buildConversation, type Recording } from "../audio/conversation.js";
import { encodeToBytes } from "../audio/write-audio.js";
import { s3Event } from "../../local/runner.js";
import { chunkerHandler } from "../../shared/pipeline/queue-handlers.js";
import type { JobRecord } from "../../shared/adapters/job-store.js";
import { jobIdOf } from "../../shared/pipeline/messages.js";
import { Rig, sleep, sumLoss, wordLoss } from "./support.js";

const GROUP = "Delivery faults";
const MAX_RECEIVES = 5;
const STEPS = [
  "chunker:after-create",
  "chunker:before-mark-chunked",
  "transcriber:after-provider",
  "transcriber:after-store",
  "transcriber:after-count",
  "stitcher:after-claim",
  "stitcher:after-outputs",
  "stitcher:after-utterances",
  "stitcher:after-complete",
  "before-notify",
] as const;
/** Extra copies of each segment and stitch message sent for the duplicate-delivery job. */
const EXTRA_COPIES = 2;

let rig: Rig;
let conversation: Recording;
let audio: Buffer;
/** Key -> step at which its job crashes once; "always" keys crash at every visit (poison). */
const crashOnce = new Map<string, string>();
const crashAlways = new Map<string, string>();
/** Bodies of the messages sent for the duplicate-delivery job, to deliver once more after it ends. */
const duplicated: Array<{ queueUrl: string; body: string }> = [];
const DUP_SQS_KEY = "delivery/duplicate-sqs.mp3";
let duplicating = true;

beforeAll(async () => {
  rig = await Rig.start("delivery-faults", {
    chunkSeconds: 20,
    overlapSeconds: 4,
    transcriberConcurrency: 4,
    // Short, so a crashed delivery comes back within seconds (Lambda would wait the visibility timeout too).
    visibilityTimeoutSeconds: 4,
    maxReceiveCount: MAX_RECEIVES,
  });
  rig.setCrashPlan((step, _jobId, key, reached) => {
    if (!key) return false;
    if (crashAlways.get(key) === step) return true;
    return crashOnce.get(key) === step && reached === 1;
  });
  duplicateSendsFor(DUP_SQS_KEY);
  conversation = buildConversation({ seed: 80, voices: 3, durationSeconds: 36, style: "quick-turns" });
  rig.provider.addRecording(conversation);
  audio = await encodeToBytes(conversation, "mp3");
});

afterAll(async () => {
  await rig?.close();
});

/** SQS delivers at least once: every segment and stitch message of one job is sent EXTRA_COPIES more times. */
function duplicateSendsFor(key: string): void {
  const sqs = rig.stack.clients.sqs;
  const send = sqs.send.bind(sqs) as (command: unknown) => Promise<unknown>;
  const ofKey = (body: string | undefined) => {
    const jobId = body ? jobIdOf(body) : undefined;
    return jobId !== undefined && rig.keyOfJob.get(jobId) === key;
  };
  (sqs as { send: (command: unknown) => Promise<unknown> }).send = async (command: unknown) => {
    const out = await send(command);
    if (!duplicating) return out;
    if (command instanceof SendMessageBatchCommand && command.input.Entries?.some((e) => ofKey(e.MessageBody))) {
      for (const entry of command.input.Entries) duplicated.push({ queueUrl: command.input.QueueUrl!, body: entry.MessageBody! });
      for (let copy = 0; copy < EXTRA_COPIES; copy++) await send(command);
    } else if (command instanceof SendMessageCommand && ofKey(command.input.MessageBody)) {
      duplicated.push({ queueUrl: command.input.QueueUrl!, body: command.input.MessageBody! });
      for (let copy = 0; copy < EXTRA_COPIES; copy++) await send(command);
    }
    return out;
  };
}

/**
 * The job's provider cost: the same segment requests as the undisturbed run (same audio, same cuts), each
 * counted once however often it was delivered or paid for, and the parts adding up.
 */
function expectCostOfOnce(job: JobRecord, baseline: JobRecord, label: string): void {
  const billing = job.billing!;
  expect(billing, `${label}: billing`).toBeDefined();
  expect(billing.segmentRequests, `${label}: segment requests`).toBe(job.segmentCount);
  expect(billing.segmentSeconds, `${label}: segment seconds`).toBe(baseline.billing!.segmentSeconds);
  expect(job.audioSecondsBilled, `${label}: audio seconds billed`).toBeCloseTo(billing.segmentSeconds + billing.probeSeconds, 3);
}

/** Seconds of audio the provider client was asked to send for a job, one per call (its retries not counted again). */
function secondsAsked(jobId: string): number {
  return rig.callsOf(jobId).reduce((sum, call) => sum + call.audioSeconds, 0);
}

async function expectSameOutputs(job: JobRecord, baseline: Record<string, Buffer>, label: string): Promise<void> {
  const outputs = await rig.outputs(job);
  for (const [file, bytes] of Object.entries(baseline)) {
    expect(outputs[file].equals(bytes), `${label}: ${file} differs from the undisturbed run`).toBe(true);
  }
  const transcript = await rig.transcript(job);
  const utterances = await rig.stack.ctx.jobs.utterances(job.jobId);
  expect(utterances.length, `${label}: utterance items`).toBe(transcript.segments.length);
}

describe("delivery faults", () => {
  it("duplicates, a crash between every two steps, and poison messages: one job each, identical outputs, nothing stuck", async () => {
    // Prepare: an undisturbed run, then the disturbed ones, all at once
    const baselineKey = "delivery/baseline.mp3";
    const dupS3Key = "delivery/duplicate-s3.mp3";
    const crashKeys = STEPS.map((step) => `delivery/crash/${step.replace(/:/g, "-")}.mp3`);
    STEPS.forEach((step, i) => crashOnce.set(crashKeys[i], step));
    const poisonKey = "delivery/poison.mp3";
    const short = buildConversation({ seed: 81, voices: 2, durationSeconds: 15 });
    rig.provider.addRecording(short);
    crashAlways.set(poisonKey, "transcriber:after-provider");
    const poisonUploadKey = "delivery/poison-upload.mp3";
    crashAlways.set(poisonUploadKey, "chunker:after-create");

    // Act
    await rig.upload(baselineKey, audio);

    const chunk = chunkerHandler(rig.stack.ctx);
    const dupS3 = (async () => {
      await rig.upload(dupS3Key, audio);
      // The runner delivers the event too: these two race it, while the job is still CHUNKING.
      const head = await rig.stack.clients.s3.send(
        new (await import("@aws-sdk/client-s3")).HeadObjectCommand({ Bucket: rig.inputBucket, Key: dupS3Key }),
      );
      const event = s3Event(rig.inputBucket, dupS3Key, head.ETag ?? "", head.ContentLength ?? 0);
      await Promise.all([chunk(event), chunk(event)]);
      const job = await rig.settle(dupS3Key, 180_000);
      // ... and once more after the job has ended.
      await chunk(event);
      return job;
    })();
    const poisonShape = sendPoisonMessages();
    await Promise.all([
      rig.upload(DUP_SQS_KEY, audio),
      ...crashKeys.map((key) => rig.upload(key, audio)),
      rig.upload(poisonKey, await encodeToBytes(short, "mp3")),
      rig.upload(poisonUploadKey, await encodeToBytes(short, "mp3")),
    ]);
    const [baseline, poisonUploadJob, dupS3Job, dupSqsJob, poisonJob, ...crashJobs] = await Promise.all([
      rig.settle(baselineKey, 180_000),
      rig.settle(poisonUploadKey, 180_000),
      dupS3,
      rig.settle(DUP_SQS_KEY, 180_000),
      rig.settle(poisonKey, 180_000),
      ...crashKeys.map((key) => rig.settle(key, 180_000)),
    ]);
    // The duplicate-delivery job's messages, all delivered once more after it ended.
    const callsBefore = rig.callsOf(dupSqsJob.jobId).length;
    duplicating = false;
    for (const { queueUrl, body } of [...duplicated]) {
      await rig.stack.clients.sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
    }
    const shapes = await poisonShape;
    expect(baseline.status, baseline.error).toBe("COMPLETED");
    const baselineOutputs = await rig.outputs(baseline);
    const depths = await rig.drained(60_000);
    // Read again now that the late copies have been consumed: they change nothing, the cost included.
    const dupSqsAfter = (await rig.stack.ctx.jobs.get(dupSqsJob.jobId))!;

    // Assess: the undisturbed job's cost is what its provider calls sent
    expect(baseline.audioSecondsBilled).toBeGreaterThanOrEqual(baseline.duration!);
    expect(baseline.audioSecondsBilled!).toBeCloseTo(secondsAsked(baseline.jobId), 2);
    expect(baseline.billing!.segmentRequests + baseline.billing!.probeRequests).toBe(rig.callsOf(baseline.jobId).length);

    // Assess: duplicates
    for (const [label, job, key] of [
      ["duplicate S3 events", dupS3Job, dupS3Key],
      ["duplicate SQS deliveries", dupSqsJob, DUP_SQS_KEY],
    ] as const) {
      expect(job.status, `${label}: ${job.error}`).toBe("COMPLETED");
      expect(await rig.jobsOf(key), `${label}: jobs for the key`).toHaveLength(1);
      expect(job.doneSegments?.size, label).toBe(job.segmentCount);
      expect(rig.reached("stitcher:after-claim", job.jobId), `${label}: stitches`).toBe(1);
      await expectSameOutputs(await rig.stack.ctx.jobs.get(job.jobId).then((j) => j!), baselineOutputs, label);
      expectCostOfOnce(job, baseline, label);
      // Copies of a segment's message are consumed while the first delivery asks (transcribe-segment.ts): one request each.
      expect(rig.reached("transcriber:after-provider", job.jobId), `${label}: provider answers`).toBe(job.segmentCount);
    }
    expect(rig.callsOf(dupSqsJob.jobId).length, "late duplicates pay the provider nothing").toBe(callsBefore);
    expect(dupSqsAfter.audioSecondsBilled, "late duplicates change the cost").toBe(dupSqsJob.audioSecondsBilled);
    expect(dupSqsAfter.billing).toEqual(dupSqsJob.billing);
    // A copy consumed while the first delivery asked paid nothing; the job counts each request once.
    expect(dupSqsJob.audioSecondsBilled!).toBeLessThanOrEqual(secondsAsked(dupSqsJob.jobId) + 0.01);
    const dupSqsPaid = rig.reached("transcriber:after-provider", dupSqsJob.jobId);

    // Assess: a crash at every step
    for (const [i, job] of crashJobs.entries()) {
      expect(job.status, `${STEPS[i]}: ${job.error}`).toBe("COMPLETED");
      expect(await rig.jobsOf(crashKeys[i])).toHaveLength(1);
      // The crash happened; a redelivery after the last steps short-circuits on the ended job instead of reaching the step again.
      expect(rig.reached(STEPS[i], job.jobId), `${STEPS[i]} was reached`).toBeGreaterThanOrEqual(1);
      expect(job.notifiedAt).toBeTruthy();
      await expectSameOutputs(job, baselineOutputs, `crash at ${STEPS[i]}`);
      expectCostOfOnce(job, baseline, `crash at ${STEPS[i]}`);
    }

    // Assess: poison
    expect(poisonJob.status).toBe("FAILED");
    expect(poisonJob.errorCode).toBe("dead_lettered");
    expect(poisonJob.error).toContain("injected crash at transcriber:after-provider");
    expect(rig.reached("transcriber:after-provider", poisonJob.jobId), "receives before the DLQ").toBe(MAX_RECEIVES);
    expect(rig.events.get(poisonJob.jobId)?.[0]).toMatchObject({ status: "FAILED", errorCode: "dead_lettered" });
    expect(poisonUploadJob.status).toBe("FAILED");
    expect(poisonUploadJob.errorCode).toBe("chunker_failed");
    expect(poisonUploadJob.error).toContain("injected crash at chunker:after-create");
    expect(rig.reached("chunker:after-create", poisonUploadJob.jobId), "chunker invocations (1 + 2 retries)").toBe(3);
    expect(shapes.wrongShape.status).toBe("FAILED");
    expect(shapes.wrongShape.errorCode).toBe("bad_message");
    expect(depths, "every queue and DLQ drained").toEqual({ segments: 0, "segments-dlq": 0, stitch: 0, "stitch-dlq": 0 });

    // Report
    const words = sumLoss(
      await Promise.all(
        [baseline, dupS3Job, dupSqsJob, ...crashJobs].map(async (job) => wordLoss(conversation.words, await rig.transcript(job))),
      ),
    );
    expect(words.lost).toBe(0);
    expect(words.extra).toBe(0);
    rig.record({
      group: GROUP,
      case: "undisturbed baseline (the outputs every other job is compared with)",
      jobs: 1,
      expected: "COMPLETED",
      outcome: `COMPLETED, ${baseline.segmentCount} segments, ${baseline.wordCount} words`,
      words: conversation.words.length,
      lost: 0,
      extra: 0,
    });
    rig.record({
      group: GROUP,
      case: "the same S3 event 3 times while chunking, once more after the end",
      jobs: 1,
      expected: "one job, one stitch, identical outputs",
      outcome: `1 job, ${dupS3Job.doneSegments?.size}/${dupS3Job.segmentCount} segments counted once, 1 stitch, 5/5 files byte-identical, ${rig.reached("transcriber:after-provider", dupS3Job.jobId)} provider answers stored for ${dupS3Job.segmentCount} segments`,
      faults: 3,
      words: conversation.words.length,
      lost: 0,
      extra: 0,
    });
    rig.record({
      group: GROUP,
      case: `every segment and stitch message sent ${1 + EXTRA_COPIES} times, all once more after the end`,
      jobs: 1,
      expected: "one job, one stitch, no double-counted segments, identical outputs",
      outcome: `1 job, ${dupSqsJob.doneSegments?.size}/${dupSqsJob.segmentCount} segments, 1 stitch, 5/5 files byte-identical; concurrent copies consumed: the provider asked ${dupSqsPaid} times for ${dupSqsJob.segmentCount} segments, late copies 0 times; cost counted once (${dupSqsJob.billing?.segmentRequests} segment requests, ${dupSqsJob.billing?.segmentSeconds} s, as undisturbed)`,
      faults: duplicated.length * (EXTRA_COPIES + 1),
      words: conversation.words.length,
      lost: 0,
      extra: 0,
    });
    for (const [i, step] of STEPS.entries()) {
      rig.record({
        group: GROUP,
        case: `crash (throw) at \`${step}\`, once`,
        jobs: 1,
        expected: "COMPLETED after redelivery, identical outputs",
        outcome: `COMPLETED, 5/5 files byte-identical (step reached ${rig.reached(step, crashJobs[i].jobId)} times)`,
        faults: 1,
        words: conversation.words.length,
        lost: 0,
        extra: 0,
      });
    }
    rig.record({
      group: GROUP,
      case: "poison: the transcriber dies on every receive of a segment",
      jobs: 1,
      expected: `DLQ after ${MAX_RECEIVES} receives, FAILED with the reason, notified`,
      outcome: `${rig.reached("transcriber:after-provider", poisonJob.jobId)} receives, then FAILED (${poisonJob.errorCode}): "${poisonJob.error}", notified`,
      faults: MAX_RECEIVES,
    });
    rig.record({
      group: GROUP,
      case: "poison upload: the chunker dies on every invocation",
      jobs: 1,
      expected: "FAILED after the async-invoke retries, with the reason, notified",
      outcome: `${rig.reached("chunker:after-create", poisonUploadJob.jobId)} invocations, then FAILED (${poisonUploadJob.errorCode}): "${poisonUploadJob.error}", notified`,
      faults: 3,
    });
    rig.record({
      group: GROUP,
      case: "poison: segment messages that are not JSON / have the wrong shape / name no known job",
      jobs: 1,
      expected: "dropped or dead-lettered with a log line; a job they name FAILED with the reason; nothing stuck",
      outcome: `wrong shape: job FAILED (${shapes.wrongShape.errorCode}): "${shapes.wrongShape.error}"; not JSON and unknown job: consumed, queues and DLQs empty at the end`,
      faults: 3,
    });
  });
});

/**
 * Messages no handler can use: one that is not JSON, one naming a job with the wrong shape (fails that job
 * at once), one for a job that does not exist (retried, dead-lettered, dropped by the DLQ handler).
 */
async function sendPoisonMessages(): Promise<{ wrongShape: JobRecord }> {
  const { sqs } = rig.stack.clients;
  const queueUrl = rig.stack.resources.queues.segments.url;
  const jobId = "poisonshape000000000000";
  await rig.stack.ctx.jobs.create(
    { jobId, source: { bucket: rig.inputBucket, key: "delivery/poison-shape.mp3" }, options: {} },
    new Date(),
  );
  const valid = { kind: "segment", jobId: "nosuchjob00000000000000", audioKey: "jobs/x/segments/00000.flac", segment: { index: 0, start: 0, end: 1, ownStart: 0, ownEnd: 1 } };
  for (const body of ["not json at all", JSON.stringify({ kind: "segment", jobId, index: "zero" }), JSON.stringify(valid)]) {
    await sqs.send(new SendMessageCommand({ QueueUrl: queueUrl, MessageBody: body }));
  }
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const job = await rig.stack.ctx.jobs.get(jobId);
    if (job?.status === "FAILED" && job.notifiedAt) return { wrongShape: job };
    await sleep(250);
  }
  throw new Error("the job named by a wrong-shaped message did not fail");
}
