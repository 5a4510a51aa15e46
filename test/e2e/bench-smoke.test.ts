import { describe, expect, it } from "vitest";
import { runEndToEnd } from "../../bench/e2e.js";
import { ChunkerBench } from "../../bench/chunker.js";
import { benchStitch } from "../../bench/stitch.js";
import { formatReport } from "../../bench/report.js";
import { conversationMp3, loopedMp3 } from "../../bench/lib/inputs.js";
import { DEFAULT_OPTIONS as REALTIME_DEFAULTS, runRealtimeBench } from "../../bench/realtime.js";
import { formatRealtimeReport } from "../../bench/realtime-report.js";
import { formatNamesSection, runNamesBench } from "../../bench/speaker-names.js";
import { formatFairShare, runFairShare } from "../../bench/fair-share.js";
import { formatNoisySpeakers, runNoisySpeakers } from "../../bench/noisy-speakers.js";

/**
 * Every benchmark once, at toy sizes, so none of them rots between the runs
 * that produce BENCHMARKS.md. Nothing here asserts speed or memory: only that
 * each benchmark runs and its figures are the right kind of number.
 */
const TINY = { seed: 21, voices: 3, durationSeconds: 90 } as const;

describe("benchmarks, at toy sizes", () => {
  it("end to end: a job through the local stack, then one whole-file request", async () => {
    // Act
    const result = await runEndToEnd({
      conversation: TINY,
      chunkSeconds: [30],
      overlapSeconds: 4,
      concurrency: 4,
      latency: { baseSeconds: 0.05, perAudioSecond: 0.001 },
      wholeFile: true,
    });

    // Assess
    const [run] = result.runs;
    expect(run.status).toBe("COMPLETED");
    expect(run.wordCount).toBe(run.expectedWords);
    expect(run.segments).toBeGreaterThanOrEqual(3);
    expect(run.requests.count).toBeGreaterThanOrEqual(run.segments);
    expect(run.requests.maxInFlight).toBeLessThanOrEqual(4);
    const stages = Object.values(run.stages);
    for (const seconds of stages) expect(seconds).toBeGreaterThanOrEqual(0);
    expect(stages.reduce((a, b) => a + b, 0)).toBeCloseTo(run.wallSeconds, 3);
    expect(run.firstRequestSeconds).toBeLessThan(run.pipelineSeconds);
    expect(run.limitSeconds).toBeGreaterThan(result.decodeSeconds);
    expect(result.wholeFile.measuredSeconds).toBeGreaterThan(0);
    expect(run.speedupMeasured).toBeGreaterThan(0);
    expect(formatReport({ command: "test", startedAt: "", machine: { cpus: 1, cpuModel: "", memoryGb: 1, node: "" }, e2e: result })).toContain("| 30 |");
  });

  it("chunker: throughput against plain decoding, and peak RSS in its own process", async () => {
    // Prepare
    const input = await conversationMp3(TINY);
    const bench = await ChunkerBench.start({ chunkSeconds: 30, overlapSeconds: 4 });
    try {
      // Act
      const throughput = await bench.throughput(input, 1);
      const memory = await bench.memory("2 x 90 s", await loopedMp3(input, 2));

      // Assess
      expect(throughput.plainSeconds).toBeGreaterThan(0);
      expect(throughput.chunkerSeconds).toBeGreaterThan(0);
      expect(throughput.ratio).toBeGreaterThan(0);
      expect(throughput.runs[0].chunker.segmentMessages).toBeGreaterThanOrEqual(3);
      const run = memory.run;
      expect(run.outcome).toMatchObject({ kind: "started", duration: expect.closeTo(180, 0) });
      expect(run.segmentMessages).toBe(run.outcome.kind === "started" ? run.outcome.segments : -1);
      expect(run.maxRssMb).toBeGreaterThanOrEqual(run.startRssMb);
      expect(run.firstSegmentSeconds).toBeLessThanOrEqual(run.seconds);
    } finally {
      await bench.stop();
    }
  });

  it("stitcher: time and peak memory of a generated transcript", async () => {
    // Act
    const run = await benchStitch({ hours: 0.05, chunkSeconds: 60, overlapSeconds: 4, seed: 1 });

    // Assess
    expect(run.segments).toBeGreaterThanOrEqual(3);
    expect(run.words).toBeGreaterThan(200);
    expect(run.totalSeconds).toBeGreaterThan(0);
    expect(run.outputBytes).toBeGreaterThan(run.words);
    expect(run.maxRssMb).toBeGreaterThan(0);
  });

  it("named speakers: enrolled voices named in a generated conversation, nobody else", async () => {
    // Act
    const options = { conversations: 1, durationSeconds: 90, chunkSeconds: 30, presets: ["clean" as const] };
    const [clean] = await runNamesBench(options);

    // Assess
    expect(clean).toMatchObject({ preset: "clean", jobs: 1, failedJobs: 0, wronglyNamed: 0, namedAsOther: 0 });
    expect(clean.enrolledPresent).toBeGreaterThan(0);
    expect(clean.notEnrolled).toBeGreaterThan(0);
    expect(clean.namedCorrectly).toBeLessThanOrEqual(clean.enrolledPresent);
    expect(clean.probeRequests).toBeGreaterThan(0);
    expect(formatNamesSection([clean], "test", "0", options)).toContain("| clean | 1/1 |");
  });

  it("realtime: concurrent sessions through the gateway, every word in a completed event", async () => {
    // Act
    const result = await runRealtimeBench(
      { ...REALTIME_DEFAULTS, sessions: 3, seconds: 15, speed: 4, latency: { baseSeconds: 0.05, perAudioSecond: 0.001 }, warmUp: false },
      () => undefined,
    );

    // Assess
    expect(result.upstreamSeen).toEqual(["http"]);
    expect(result.sessions).toMatchObject({ started: 3, timedOut: 0, errors: 0 });
    expect(result.words.truth).toBeGreaterThan(40);
    expect(result.words.lostList).toEqual([]);
    // Every live piece is the clients' audio unchanged, so each is found sample for sample.
    expect(result.locator.placed).toBe(result.locator.uploads);
    expect(result.locator.uploads).toBe(result.billed.provider.requests);
    expect(result.utterances.count).toBeGreaterThanOrEqual(3);
    expect(result.utterances.unanswered).toBe(0);
    expect(result.latency.count).toBe(result.utterances.count);
    expect(result.deltaGaps.count).toBeGreaterThan(result.utterances.count);
    expect(result.streamedSeconds).toBeCloseTo(45, 0);
    expect(result.billed.provider.ratio).toBeGreaterThan(0);
    expect(result.billed.gateway?.sessions).toBe(3);
    expect(result.gateway.cpuMsPerAudioSecond).toBeGreaterThan(0);
    expect(result.gateway.rssMb.peak).toBeGreaterThanOrEqual(result.gateway.rssMb.atMark);
    expect(formatRealtimeReport(result)).toContain("| words lost (true words in no completed event) | 0 of");
  });

  it("many jobs at once: a long job and short ones, alone and together, on emulators in a process of their own", async () => {
    // Act: a 3-minute "long" job and two 1-minute ones; the emulators' S3 events reach the stack across processes
    const result = await runFairShare(
      { hours: 0.05, shorts: 2, shortSeconds: 60, cap: 4, latency: { baseSeconds: 0.05, perAudioSecond: 0.001 }, cold: true },
      () => undefined,
    );

    // Assess
    expect(result.allCompleted).toBe(true);
    expect(result.everyWordOnce).toBe(true);
    for (const job of [result.long, ...result.shorts]) {
      expect(job.aloneSeconds).toBeGreaterThan(0);
      expect(job.ratio).toBeGreaterThan(0);
    }
    expect(result.long.segments).toBeGreaterThan(result.shorts[0].segments);
    expect(result.togetherCpu.stackLoopShare).toBeGreaterThan(0);
    // The emulators served the run from their own process.
    expect(result.togetherCpu.byProcess.emulators).toBeGreaterThan(0);
    expect(formatFairShare(result, "test")).toContain("| short 2 |");
  });

  it("speaker labels under a noisy diarizer: a sweep's figures", async () => {
    // Act: one short run
    const figures = await runNoisySpeakers({ providerSeeds: [3], conversationSeeds: [44], durationSeconds: 90 });

    // Assess
    expect(figures.runs).toHaveLength(1);
    expect(figures.runs[0].status).toBe("COMPLETED");
    expect(figures.runs[0].speakerAccuracy).toBeGreaterThan(0);
    expect(figures.runs[0].billed).toBeGreaterThan(1);
    expect(figures.meanAccuracy).toBe(figures.runs[0].speakerAccuracy);
    expect(formatNoisySpeakers(figures, "test", "0.1")).toContain("| 1 | 1 |");
  });
});
