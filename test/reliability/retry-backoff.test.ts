/**
 * Retried messages come back after the queue's retry backoff (shared/wiring.ts retryBackoff), not after the
 * visibility timeout, which is sized for a handler still running (30 minutes): here the local stack keeps
 * the wiring's own timeouts, and a provider that is down for the first try of every segment only delays
 * the job by the first backoff.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation } from "../audio/conversation.js";
import { encodeToBytes } from "../audio/write-audio.js";
import { wiring } from "../../shared/wiring.js";
import { Rig, wordLoss } from "./support.js";

const GROUP = "Retry backoff";
let rig: Rig;

beforeAll(async () => {
  // No visibility override: the wiring's 30-minute timeouts, as in AWS.
  rig = await Rig.start("retry-backoff", {
    chunkSeconds: 20,
    overlapSeconds: 4,
    transcriberConcurrency: 4,
    providerClient: { timeoutMs: 2000, maxAttempts: 2, backoffBaseMs: 50, backoffMaxMs: 200 },
  });
});

afterAll(async () => {
  await rig?.close();
});

describe("retry backoff", () => {
  it("a provider down for the first minutes of a job: its segments come back after the backoff and the job completes", async () => {
    // Prepare: every call fails (500) until the first retry is scheduled.
    expect(wiring.queues.segments.visibilityTimeoutSeconds).toBeGreaterThanOrEqual(1800);
    const recording = buildConversation({ seed: 71, voices: 2, durationSeconds: 45, style: "meeting" });
    rig.provider.addRecording(recording);
    rig.provider.configure({ failureRate: 1, failureKinds: ["500"] });
    const started = Date.now();

    // Act
    await rig.upload("backoff/down-at-first.mp3", await encodeToBytes(recording, "mp3"));
    while (rig.retries.length === 0 || Date.now() - started < 3000) await new Promise((r) => setTimeout(r, 100));
    rig.provider.configure({ failureRate: 0 });
    const job = await rig.settle("backoff/down-at-first.mp3", 120_000);
    const seconds = (Date.now() - started) / 1000;

    // Assess: complete, every word once, well before a visibility timeout would have brought it back.
    expect(job.status, job.error).toBe("COMPLETED");
    const loss = wordLoss(recording.words, await rig.transcript(job));
    expect(loss).toEqual({ words: recording.words.length, lost: 0, extra: 0 });
    const firstBackoff = wiring.queues.segments.retryBackoff.firstSeconds;
    expect(seconds).toBeLessThan(6 * firstBackoff);
    rig.record({
      group: GROUP,
      case: "provider down (500) for every segment's first delivery, wiring's 30-min visibility timeout",
      jobs: 1,
      expected: `COMPLETED after ~${firstBackoff}-${firstBackoff * 1.2} s of backoff, not 30 min`,
      outcome: `COMPLETED in ${seconds.toFixed(0)} s`,
      faults: rig.provider.stats().faultsInjected,
      retries: rig.retries.length,
      ...loss,
    });
  });
});
