/**
 * Provider faults: transient ones (429 with Retry-After, 500, timeouts) are retried with backoff inside a
 * budget until every word is in; permanent ones (401, 400, 413) fail the job at once with the provider's
 * message and a notification, without a retry storm.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation, type Recording } from "../audio/conversation.js";
import { encodeToBytes } from "../audio/write-audio.js";
import { Rig, sumLoss, wordLoss } from "./support.js";

const MAX_ATTEMPTS = 4;
const MAX_RECEIVES = 4;
const BACKOFF_BASE_MS = 100;
const BACKOFF_MAX_MS = 800;
const RETRY_AFTER_SECONDS = 1;
const GROUP = "Provider faults";

let rig: Rig;

beforeAll(async () => {
  rig = await Rig.start("provider-faults", {
    chunkSeconds: 20,
    overlapSeconds: 4,
    transcriberConcurrency: 4,
    // Long enough for a whole in-process retry budget (4 x 2 s timeouts + backoff), so a slow call is not redelivered.
    visibilityTimeoutSeconds: 15,
    maxReceiveCount: MAX_RECEIVES,
    providerClient: { timeoutMs: 2000, maxAttempts: MAX_ATTEMPTS, backoffBaseMs: BACKOFF_BASE_MS, backoffMaxMs: BACKOFF_MAX_MS },
  });
});

afterAll(async () => {
  await rig?.close();
});

async function submit(recording: Recording, key: string, metadata: Record<string, string> = {}): Promise<void> {
  rig.provider.addRecording(recording);
  await rig.upload(key, await encodeToBytes(recording, "mp3"), metadata);
}

describe("transient provider faults", () => {
  it("a third of calls failing (429 with Retry-After, 500, timeout): every job completes with every word once, within the retry budget", async () => {
    // Prepare
    rig.provider.configure({
      failureRate: 1 / 3,
      failureKinds: ["429", "500", "timeout"],
      retryAfterSeconds: RETRY_AFTER_SECONDS,
      // The "timeout" fault hangs past the client's 2 s timeout, then drops the connection.
      hangSeconds: 4,
    });
    rig.provider.resetStats();
    const recordings = [11, 12, 13, 14, 15, 16].map((seed) =>
      buildConversation({ seed, voices: 2 + (seed % 2), durationSeconds: 40 + (seed % 3) * 10, style: "meeting" }),
    );
    const keys = recordings.map((_, i) => `faults/transient-${i}.mp3`);

    // Act
    await Promise.all(recordings.map((r, i) => submit(r, keys[i])));
    const jobs = await Promise.all(keys.map((key) => rig.settle(key, 240_000)));

    // Assess: every job complete, every word once
    const losses = [];
    for (const [i, job] of jobs.entries()) {
      expect(job.status, job.error).toBe("COMPLETED");
      const loss = wordLoss(recordings[i].words, await rig.transcript(job));
      expect(loss, keys[i]).toEqual({ words: recordings[i].words.length, lost: 0, extra: 0 });
      expect(job.doneSegments?.size).toBe(job.segmentCount);
      losses.push(loss);
    }
    // Assess: faults really happened, of every kind
    const stats = rig.provider.stats();
    expect(stats.faultsByKind["429"]).toBeGreaterThan(0);
    expect(stats.faultsByKind["500"]).toBeGreaterThan(0);
    expect(stats.faultsByKind.timeout).toBeGreaterThan(0);
    // Assess: the budget. No call retries more than maxAttempts - 1 times, no segment is delivered more than
    // maxReceiveCount times, and the provider saw exactly the attempts the client accounted for.
    const jobIds = new Set(jobs.map((j) => j.jobId));
    const calls = rig.calls.filter((c) => c.jobId && jobIds.has(c.jobId));
    expect(Math.max(...calls.map((c) => c.retries))).toBeLessThanOrEqual(MAX_ATTEMPTS - 1);
    const deliveries = new Map<string, number>();
    for (const call of calls.filter((c) => c.filename.startsWith("segment-"))) deliveries.set(`${call.jobId}/${call.filename}`, (deliveries.get(`${call.jobId}/${call.filename}`) ?? 0) + 1);
    expect(Math.max(...deliveries.values())).toBeLessThanOrEqual(MAX_RECEIVES);
    const retries = calls.reduce((n, c) => n + c.retries, 0);
    expect(stats.requests).toBe(calls.length + retries);
    // Assess: backoff. Each wait is at least half the exponential step (full jitter on the upper half),
    // at most the cap, and never shorter than the Retry-After a 429 asked for.
    for (const info of calls.flatMap((c) => c.retryInfos)) {
      const step = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** (info.attempt - 1));
      expect(info.waitMs).toBeGreaterThanOrEqual(step / 2);
      if (info.code === "provider_429") expect(info.waitMs).toBeGreaterThanOrEqual(RETRY_AFTER_SECONDS * 1000);
      else expect(info.waitMs).toBeLessThanOrEqual(step);
    }
    const waitsByAttempt = [1, 2, 3].map((attempt) => {
      const waits = calls.flatMap((c) => c.retryInfos).filter((i) => i.attempt === attempt && i.code !== "provider_429");
      return waits.length ? Math.min(...waits.map((w) => w.waitMs)) : undefined;
    });
    const total = sumLoss(losses);
    rig.record({
      group: GROUP,
      case: "1/3 of calls fail: 429 (Retry-After 1 s), 500, timeout (client timeout 2 s)",
      jobs: jobs.length,
      expected: "all COMPLETED, every word once, retries within budget",
      outcome: `${jobs.length}/${jobs.length} COMPLETED; max ${Math.max(...calls.map((c) => c.retries))} retries per call (budget ${MAX_ATTEMPTS - 1}), max ${Math.max(...deliveries.values())} deliveries per segment (cap ${MAX_RECEIVES}); provider requests ${stats.requests} = calls ${calls.length} + retries ${retries}; min backoff by attempt ${waitsByAttempt.map((w) => (w === undefined ? "-" : `${Math.round(w)} ms`)).join(" / ")}`,
      faults: stats.faultsInjected,
      retries,
      ...total,
      note: `faults by kind ${JSON.stringify(stats.faultsByKind)}`,
    });
    rig.provider.configure({ failureRate: 0 });
  });
});

describe("permanent provider errors", () => {
  const cases = [
    { status: 401 as const, message: "Invalid API key provided" },
    { status: 400 as const, message: "Invalid request." },
    { status: 413 as const, message: "maximum upload size" },
  ];
  for (const { status, message } of cases) {
    it(`${status}: the job fails fast with the provider's message and a notification, no retry storm`, async () => {
      // Prepare
      rig.provider.configure({ permanentError: status, failureRate: 0 });
      rig.provider.resetStats();
      const retriesBefore = rig.retries.length;
      const recording = buildConversation({ seed: 40 + status, voices: 2, durationSeconds: 50 });
      const key = `faults/permanent-${status}.mp3`;

      // Act
      await submit(recording, key);
      const job = await rig.settle(key, 60_000);

      // Assess
      expect(job.status).toBe("FAILED");
      expect(job.errorCode).toBe(`provider_${status}`);
      expect(job.error).toContain(message);
      expect(job.error).not.toContain("\n");
      const event = rig.events.get(job.jobId)?.find((e) => e.status === "FAILED");
      expect(event?.error).toBe(job.error);
      await rig.drained(30_000);
      const calls = rig.callsOf(job.jobId);
      const retries = rig.retries.length - retriesBefore;
      expect(retries).toBe(0);
      // At most one request per segment: the first answer fails the job, later segments see it ended. A job
      // that fails while it is still being cut has no segmentCount, and the segments already at the provider
      // (queued before the chunker saw the failure) answer too: so each segment at most once, none retried.
      const segmentFiles = calls.map((c) => c.filename);
      expect(new Set(segmentFiles).size).toBe(segmentFiles.length);
      if (job.segmentCount !== undefined) expect(rig.provider.stats().requests).toBeLessThanOrEqual(job.segmentCount);
      expect(calls.length).toBe(rig.provider.stats().requests);
      rig.record({
        group: GROUP,
        case: `every call answers ${status}`,
        jobs: 1,
        expected: "FAILED at once with the provider's message, notified, no retries",
        outcome: `FAILED (${job.errorCode}): "${job.error}"; ${rig.provider.stats().requests} request(s) for ${job.segmentCount ?? "?"} segments, notified`,
        faults: rig.provider.stats().byStatus[String(status)] ?? 0,
        retries,
      });
      rig.provider.configure({ permanentError: null });
    });
  }
});
