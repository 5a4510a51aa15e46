/**
 * Load: 50 files submitted at once all complete, the provider never sees more requests in flight than the
 * configured cap, and jobs that fail do not hold up the others.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation } from "../audio/conversation.js";
import { wavBytes } from "../audio/write-audio.js";
import { Rig, sumLoss, wordLoss } from "./support.js";

const GROUP = "Load";
/** The provider cap: segment requests and speaker probes together hold at most this many slots. */
const CAP = 4;
const FILES = 50;

let rig: Rig;

beforeAll(async () => {
  rig = await Rig.start("load", {
    // No overlap: every segment after the first has voices to settle by probe, so probes really compete.
    chunkSeconds: 20,
    overlapSeconds: 0,
    transcriberConcurrency: CAP,
    providerMaxInFlight: CAP,
    visibilityTimeoutSeconds: 30,
  });
});

afterAll(async () => {
  await rig?.close();
});

describe("load", () => {
  it(`${FILES} files at once all complete, in-flight provider requests stay within the cap of ${CAP}, failures hold nobody up`, async () => {
    // Prepare: 10 distinct conversations, each uploaded 5 times under different keys; plus jobs that fail
    const recordings = Array.from({ length: 10 }, (_, i) =>
      buildConversation({ seed: 100 + i, voices: 2 + (i % 3), durationSeconds: 40 + (i % 4) * 10 }),
    );
    for (const r of recordings) rig.provider.addRecording(r);
    // Each request takes a moment, so the cap is really reached.
    rig.provider.configure({ latency: { baseSeconds: 0.3, perAudioSecond: 0 } });
    rig.provider.resetStats();
    const files = Array.from({ length: FILES }, (_, i) => ({ key: `load/batch/${String(i).padStart(2, "0")}.wav`, recording: recordings[i % 10] }));
    const failing: Array<{ key: string; metadata: Record<string, string> }> = [
      { key: "load/failing/bad-language.wav", metadata: { language: "elvish" } },
      { key: "load/failing/unknown-model.wav", metadata: { model: "acme/none" } },
      { key: "load/failing/not-audio.wav", metadata: {} },
    ];

    // Act: the failing ones in the middle of the batch
    const uploads = files.map((f) => () => rig.upload(f.key, wavBytes(f.recording.samples)));
    uploads.splice(10, 0, ...failing.map((f) => () => rig.upload(f.key, f.key.endsWith("not-audio.wav") ? Buffer.from("not audio ".repeat(500)) : wavBytes(recordings[0].samples), f.metadata)));
    await Promise.all(uploads.map((u) => u()));
    const [jobs, failed] = await Promise.all([
      Promise.all(files.map((f) => rig.settle(f.key, 300_000))),
      Promise.all(failing.map((f) => rig.settle(f.key, 300_000))),
    ]);

    // Assess
    const losses = [];
    for (const [i, job] of jobs.entries()) {
      expect(job.status, `${files[i].key}: ${job.error}`).toBe("COMPLETED");
      const loss = wordLoss(files[i].recording.words, await rig.transcript(job));
      expect(loss.lost + loss.extra, files[i].key).toBe(0);
      losses.push(loss);
    }
    for (const job of failed) expect(job.status).toBe("FAILED");
    const stats = rig.provider.stats();
    const runnerMax = rig.stack.runner.stats.maxInFlight;
    expect(runnerMax.transcriber).toBeLessThanOrEqual(CAP);
    expect(stats.maxInFlight, "in-flight provider requests (segments + speaker probes)").toBeLessThanOrEqual(CAP);
    // The probes did compete for the provider: more requests than segments.
    const segmentCount = jobs.reduce((n, j) => n + (j.segmentCount ?? 0), 0);
    expect(stats.requests).toBeGreaterThan(segmentCount);
    const depths = await rig.drained(30_000);
    expect(Object.values(depths).every((d) => d === 0), JSON.stringify(depths)).toBe(true);
    const segments = jobs.reduce((n, j) => n + (j.segmentCount ?? 0), 0);
    rig.record({
      group: GROUP,
      case: `${FILES} WAV files (40-70 s, 2-4 voices, 20 s segments) at once, with 3 failing jobs among them; cap ${CAP} provider slots shared by segments and probes, 0.3 s per request`,
      jobs: FILES + failing.length,
      expected: `all ${FILES} COMPLETED, every word once; in-flight provider requests <= ${CAP}; the 3 failing jobs FAILED`,
      outcome: `${FILES}/${FILES} COMPLETED (${segments} segments, ${stats.requests} provider requests); max in flight at the provider ${stats.maxInFlight}, transcriber invocations ${runnerMax.transcriber}; failing: ${failed.map((j) => j.errorCode).join(", ")}`,
      retries: jobs.reduce((n, j) => n + rig.callsOf(j.jobId).reduce((m, c) => m + c.retries, 0), 0),
      ...sumLoss(losses),
    });
    rig.provider.configure({ latency: { baseSeconds: 0, perAudioSecond: 0 } });
  });
});
