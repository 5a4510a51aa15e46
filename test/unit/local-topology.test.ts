import { describe, expect, it } from "vitest";
import { HANDLER_FACTORIES } from "../../local/handlers.js";
import { LOCAL_CHUNKER_CONCURRENCY, LOCAL_DEAD_LETTER_CONCURRENCY, localTopology, type LocalSource } from "../../local/topology.js";
import {
  DEAD_LETTER_RETENTION_DAYS,
  VISIBILITY_FACTOR,
  deadLetterVisibilitySeconds,
  wiring,
  type FunctionId,
  type FunctionSpec,
  type QueueId,
} from "../../shared/wiring.js";

const SPECS = wiring.functions as Record<FunctionId, FunctionSpec>;
const FUNCTION_IDS = Object.keys(SPECS) as FunctionId[];
const QUEUE_IDS = Object.keys(wiring.queues) as QueueId[];

const sqsSource = (sources: LocalSource[], name: string) => {
  const found = sources.find((s) => s.kind === "sqs" && s.name === name);
  if (!found || found.kind !== "sqs") throw new Error(`no SQS source ${name}`);
  return found;
};

describe("local topology", () => {
  it("takes every queue's visibility timeout, redrive and retention from the wiring when nothing is overridden", () => {
    // Act
    const { queues } = localTopology();

    // Assess
    for (const id of QUEUE_IDS) {
      const spec = wiring.queues[id];
      expect(queues.find((q) => q.name === spec.name)).toEqual({
        name: spec.name,
        visibilityTimeoutSeconds: spec.visibilityTimeoutSeconds,
        redrive: { deadLetterQueueName: spec.deadLetterQueueName, maxReceiveCount: spec.maxReceiveCount },
      });
      expect(queues.find((q) => q.name === spec.deadLetterQueueName)).toEqual({
        name: spec.deadLetterQueueName,
        visibilityTimeoutSeconds: VISIBILITY_FACTOR * SPECS.deadLetter.timeoutSeconds,
        retentionSeconds: DEAD_LETTER_RETENTION_DAYS * 86_400,
      });
      // A redrive policy names its DLQ by ARN: the DLQ is created first.
      expect(queues.findIndex((q) => q.name === spec.deadLetterQueueName)).toBeLessThan(queues.findIndex((q) => q.name === spec.name));
    }
    const failures = wiring.functions.chunker.trigger.failureQueueName;
    expect(queues.find((q) => q.name === failures)?.visibilityTimeoutSeconds).toBe(deadLetterVisibilitySeconds());
  });

  it("delivers each trigger's events with the wiring's batch size, concurrency, timeout and retries", () => {
    // Act
    const { sources, providerMaxInFlight, notRun } = localTopology();

    // Assess
    expect(providerMaxInFlight).toBe(wiring.provider.maxInFlight);
    const transcriber = sqsSource(sources, "transcriber");
    expect(transcriber).toMatchObject({
      queueName: wiring.queues.segments.name,
      batchSize: wiring.functions.transcriber.trigger.batchSize,
      maxConcurrency: wiring.provider.maxInFlight,
      timeoutMs: SPECS.transcriber.timeoutSeconds * 1000,
    });
    expect(sqsSource(sources, "stitcher")).toMatchObject({
      queueName: wiring.queues.stitch.name,
      batchSize: wiring.functions.stitcher.trigger.batchSize,
      maxConcurrency: wiring.functions.stitcher.trigger.maxConcurrency,
      timeoutMs: SPECS.stitcher.timeoutSeconds * 1000,
    });
    for (const queue of wiring.functions.deadLetter.trigger.queues) {
      expect(sqsSource(sources, `deadLetter:${queue}`)).toMatchObject({
        queueName: wiring.queues[queue].deadLetterQueueName,
        batchSize: wiring.functions.deadLetter.trigger.batchSize,
        maxConcurrency: LOCAL_DEAD_LETTER_CONCURRENCY,
        timeoutMs: SPECS.deadLetter.timeoutSeconds * 1000,
      });
    }
    expect(sqsSource(sources, "deadLetter:chunker").queueName).toBe(wiring.functions.chunker.trigger.failureQueueName);
    expect(sources.find((s) => s.kind === "s3")).toEqual({
      kind: "s3",
      fn: "chunker",
      bucket: wiring.functions.chunker.trigger.bucket,
      maxConcurrency: LOCAL_CHUNKER_CONCURRENCY,
      retries: wiring.functions.chunker.trigger.asyncRetries,
      retryDelaysMs: expect.any(Array),
      timeoutMs: SPECS.chunker.timeoutSeconds * 1000,
      failureQueueName: wiring.functions.chunker.trigger.failureQueueName,
      // Deletions reach it only in a stack that deletes jobs with their source (off by default, as deployed).
      removals: false,
    });
    // Every function is either run or said not to be, with a reason.
    const covered = new Set([...sources.map((s) => s.fn), ...notRun.map((n) => n.fn)]);
    expect([...covered].sort()).toEqual([...FUNCTION_IDS].sort());
    expect(notRun.map((n) => n.fn)).toEqual(FUNCTION_IDS.filter((id) => SPECS[id].trigger.kind === "schedule"));
  });

  it("applies an override to what it names only, and caps invocations at a shortened visibility timeout", () => {
    // Act
    const { queues, sources, providerMaxInFlight } = localTopology({ visibilityTimeoutSeconds: 4, maxReceiveCount: 3, transcriberConcurrency: 6 });

    // Assess: every queue hides a message for 4 s, so an invocation may run 4 s at most
    expect(new Set(queues.map((q) => q.visibilityTimeoutSeconds))).toEqual(new Set([4]));
    for (const q of queues) if (q.redrive) expect(q.redrive.maxReceiveCount).toBe(3);
    for (const s of sources) if (s.kind === "sqs") expect(s.timeoutMs).toBe(4000);
    // The chunker is invoked asynchronously: no queue bounds it.
    expect(sources.find((s) => s.kind === "s3")?.timeoutMs).toBe(SPECS.chunker.timeoutSeconds * 1000);
    // The transcriber's concurrency is the provider cap, as in the CDK stack.
    expect(providerMaxInFlight).toBe(6);
    expect(sqsSource(sources, "transcriber").maxConcurrency).toBe(6);
    expect(sqsSource(sources, "stitcher").maxConcurrency).toBe(wiring.functions.stitcher.trigger.maxConcurrency);
  });

  it("delivers the input bucket's deletions to the chunker when jobs are deleted with their source", () => {
    // Act
    const { sources } = localTopology({ deleteJobsWithSource: true });

    // Assess
    expect(sources.find((s) => s.kind === "s3")).toMatchObject({ fn: "chunker", removals: true });
  });

  it("runs LOCAL_CHUNKER_CONCURRENCY chunkers at once unless told otherwise (a benchmark gives each upload one, as Lambda does)", () => {
    // Act
    const usual = localTopology({});
    const likeLambda = localTopology({ chunkerConcurrency: 21 });

    // Assess
    expect(usual.sources.find((s) => s.kind === "s3")?.maxConcurrency).toBe(LOCAL_CHUNKER_CONCURRENCY);
    expect(likeLambda.sources.find((s) => s.kind === "s3")?.maxConcurrency).toBe(21);
  });

  it("sets the cap and the transcriber's concurrency apart only when both are given", () => {
    // Act
    const capOnly = localTopology({ providerMaxInFlight: 5 });
    const both = localTopology({ providerMaxInFlight: 5, transcriberConcurrency: 2 });

    // Assess
    expect(sqsSource(capOnly.sources, "transcriber").maxConcurrency).toBe(5);
    expect(both.providerMaxInFlight).toBe(5);
    expect(sqsSource(both.sources, "transcriber").maxConcurrency).toBe(2);
  });

  it("has a handler factory for every function of the wiring", () => {
    // Assess
    expect(Object.keys(HANDLER_FACTORIES).sort()).toEqual([...FUNCTION_IDS].sort());
  });
});
