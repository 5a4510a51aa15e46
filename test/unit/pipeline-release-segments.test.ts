/**
 * Fair share of the provider cap (release-segments.ts): a job's segments go to the queue in a window of W
 * (the provider cap); each finished segment sends the one W after it. On in-memory adapters: the window
 * holds, a redelivered message releases nothing twice, a crash between the done count and the release loses
 * nothing, and a segment cut after its predecessor finished is sent by the chunker.
 */
import { afterEach, describe, expect, it } from "vitest";
import { keys } from "../../shared/adapters/object-store.js";
import { SAMPLE_RATE } from "../../shared/audio/ffmpeg.js";
import { wavBytes } from "../../shared/audio/wav.js";
import type { Word } from "../../shared/domain/types.js";
import { chunkRecording } from "../../shared/pipeline/chunk-recording.js";
import type { SegmentMessage } from "../../shared/pipeline/messages.js";
import { releaseAfterDone, releasedByCut } from "../../shared/pipeline/release-segments.js";
import { stitchJob } from "../../shared/pipeline/stitch-job.js";
import { transcribeSegment } from "../../shared/pipeline/transcribe-segment.js";
import { answerOf } from "../support/fake-provider.js";
import { memoryPipeline, type MemoryPipeline, type MemoryPipelineOptions } from "../support/memory-context.js";

let pipeline: MemoryPipeline | undefined;
afterEach(() => pipeline?.dispose());

const SECONDS = 120;
const WORD_EVERY = 1.1;
const WORD_LENGTH = 0.8;
const WORDS = Math.floor((SECONDS - WORD_LENGTH) / WORD_EVERY) + 1;
const WINDOW = 2;

function spokenWords(): Buffer {
  const pcm = Buffer.alloc(SECONDS * SAMPLE_RATE * 2);
  for (let i = 0; i < SECONDS * SAMPLE_RATE; i++) {
    const t = i / SAMPLE_RATE;
    if (t % WORD_EVERY < WORD_LENGTH) pcm.writeInt16LE(Math.round(6000 * Math.sin(2 * Math.PI * 180 * t)), i * 2);
  }
  return pcm;
}

/** A pipeline whose provider cap (the window) is 2, and a provider that hears each segment's whole words. */
function windowedPipeline(options: MemoryPipelineOptions = {}): MemoryPipeline {
  const p = memoryPipeline({
    ...options,
    config: { providerMaxInFlight: WINDOW },
    answer: (request) => {
      const index = Number(/segment-(\d+)\.flac/.exec(request.filename)![1]);
      const { segment } = p.queues.segments.find((m) => m.segment.index === index)!;
      const words: Word[] = [];
      for (let k = 0; k < WORDS; k++) {
        const start = k * WORD_EVERY;
        if (start >= segment.start && start + WORD_LENGTH <= segment.end) {
          words.push({ word: `w${k}`, start: start - segment.start, end: start + WORD_LENGTH - segment.start });
        }
      }
      return answerOf(words);
    },
  });
  p.sources.put({
    bucket: "stt-input",
    key: "calls/long.wav",
    body: wavBytes(spokenWords()),
    metadata: { "chunk-seconds": "20", "overlap-seconds": "2", diarize: "false" },
  });
  return p;
}

async function chunk(p: MemoryPipeline): Promise<string> {
  const chunked = await chunkRecording(p.ctx, { bucket: "stt-input", key: "calls/long.wav" });
  expect(chunked).toEqual(expect.objectContaining({ kind: "started" }));
  return "jobId" in chunked ? chunked.jobId : "";
}

const indexes = (messages: SegmentMessage[]) => messages.map((m) => m.segment.index);

describe("segments released in a window per job", () => {
  it("queues only the first window, keeps at most W unfinished, and ends with every segment sent once", async () => {
    pipeline = windowedPipeline();
    const { ctx, queues, jobs } = pipeline;
    const jobId = await chunk(pipeline);
    const count = jobs.peek(jobId)!.segmentCount!;
    expect(count).toBeGreaterThanOrEqual(5);
    // Every segment is stored, cut and has its message; only the first window is queued.
    expect(jobs.peek(jobId)!.cutSegments).toBe(count);
    for (let i = 0; i < count; i++) expect(await ctx.work.exists(keys.segmentMessage(jobId, i))).toBe(true);
    expect(indexes(queues.segments)).toEqual([0, 1]);

    // Deliver the queue in order, as a consumer would.
    for (let next = 0; next < queues.segments.length; next++) {
      const done = jobs.peek(jobId)!.doneSegments?.size ?? 0;
      expect(queues.segments.length - done).toBeLessThanOrEqual(WINDOW);
      await transcribeSegment(ctx, queues.segments[next]);
    }
    expect(indexes(queues.segments)).toEqual([...Array(count).keys()]);
    expect(queues.stitches).toHaveLength(1);
    expect(await stitchJob(ctx, jobId)).toBe("completed");
    expect(jobs.peek(jobId)).toMatchObject({ status: "COMPLETED", wordCount: WORDS });
  });

  it("a redelivered message releases nothing twice", async () => {
    pipeline = windowedPipeline();
    const { ctx, queues } = pipeline;
    await chunk(pipeline);
    await transcribeSegment(ctx, queues.segments[0]);
    await transcribeSegment(ctx, queues.segments[0]);
    expect(indexes(queues.segments)).toEqual([0, 1, 2]);
    await transcribeSegment(ctx, queues.segments[2]);
    await transcribeSegment(ctx, queues.segments[0]);
    expect(indexes(queues.segments)).toEqual([0, 1, 2, 4]);
  });

  it("a crash between the done count and the release loses nothing: the message comes back and releases", async () => {
    let crash = true;
    pipeline = windowedPipeline({
      checkpoint: (step) => {
        if (step === "transcriber:after-count" && crash) {
          crash = false;
          throw new Error("the Lambda died");
        }
      },
    });
    const { ctx, queues, jobs } = pipeline;
    const jobId = await chunk(pipeline);
    await expect(transcribeSegment(ctx, queues.segments[0])).rejects.toThrow("the Lambda died");
    expect(jobs.peek(jobId)!.doneSegments?.has(0)).toBe(true);
    expect(indexes(queues.segments)).toEqual([0, 1]);
    // SQS delivers the message again after its visibility timeout.
    expect(await transcribeSegment(ctx, queues.segments[0])).toBe("already-done");
    expect(indexes(queues.segments)).toEqual([0, 1, 2]);
  });

  it("while the chunker still cuts, the later of 'cut' and 'done' sends the segment, whichever it is", async () => {
    pipeline = windowedPipeline();
    const { ctx, queues, jobs } = pipeline;
    const { job } = await jobs.create({ jobId: "j1", source: { bucket: "b", key: "k.wav" }, options: { diarize: false } }, ctx.now());
    const message = (index: number): SegmentMessage => ({
      kind: "segment",
      jobId: job.jobId,
      audioKey: keys.segmentAudio(job.jobId, index),
      segment: { index, start: index * 10, end: index * 10 + 12, ownStart: index * 10, ownEnd: index * 10 + 10 },
      release: WINDOW,
    });
    for (let i = 0; i < 4; i++) await ctx.work.putJson(keys.segmentMessage(job.jobId, i), message(i));

    // Segments 0 and 1 cut; segment 0 done before segment 2 is cut: the transcriber cannot send it yet.
    expect(releasedByCut((await jobs.markCut(job.jobId, 2, ctx.now()))!, 0, WINDOW)).toBe(true);
    const afterDone0 = (await jobs.addDoneSegment(job.jobId, 0, ctx.now()))!;
    expect(await releaseAfterDone(ctx, message(0), afterDone0)).toBeUndefined();
    // ...so the chunker, cutting segment 2 afterwards, sees segment 0 done and sends it itself.
    const afterCut2 = (await jobs.markCut(job.jobId, 3, ctx.now()))!;
    expect(releasedByCut(afterCut2, 2, WINDOW)).toBe(true);

    // The other order: segment 3 cut before segment 1 is done: the chunker holds it, the transcriber sends it.
    const afterCut3 = (await jobs.markCut(job.jobId, 4, ctx.now()))!;
    expect(releasedByCut(afterCut3, 3, WINDOW)).toBe(false);
    const afterDone1 = (await jobs.addDoneSegment(job.jobId, 1, ctx.now()))!;
    expect(await releaseAfterDone(ctx, message(1), afterDone1)).toBe(3);
    expect(indexes(queues.segments)).toEqual([3]);
    // cutSegments never moves down (a chunker run again after a crash).
    expect((await jobs.markCut(job.jobId, 1, ctx.now()))!.cutSegments).toBe(4);
  });
});

describe("the longest recording a deployment accepts (maxRecordingHours)", () => {
  it("fails a longer recording with the reason, before any segment is stored or sent", async () => {
    // Prepare: a deployment whose limit is 90 s; the recording is 120 s
    pipeline = memoryPipeline({ config: { maxRecordingSeconds: 90 } });
    pipeline.sources.put({ bucket: "stt-input", key: "calls/long.wav", body: wavBytes(spokenWords()), metadata: { diarize: "false" } });

    // Act
    const outcome = await chunkRecording(pipeline.ctx, { bucket: "stt-input", key: "calls/long.wav" });

    // Assess
    expect(outcome).toMatchObject({ kind: "failed", reason: "the recording is 0.0 h long; the limit is 0.03 h" });
    const jobId = "jobId" in outcome ? outcome.jobId : "";
    expect(pipeline.jobs.peek(jobId)).toMatchObject({ status: "FAILED", errorCode: "too_long" });
    expect(pipeline.queues.segments).toEqual([]);
    expect(await pipeline.ctx.work.exists(keys.segmentAudio(jobId, 0))).toBe(false);
  });
});
