/**
 * One upload through every step on in-memory adapters (the queues delivered by the test, out of order and
 * twice): the hand-offs between the steps, in a fraction of a second. The same flow on the emulators, through
 * the real handlers and wiring, is test/e2e/pipeline.test.ts.
 */
import { afterEach, describe, expect, it } from "vitest";
import { keys } from "../../shared/adapters/object-store.js";
import { SAMPLE_RATE } from "../../shared/audio/ffmpeg.js";
import { wavBytes } from "../../shared/audio/wav.js";
import type { Transcript, Word } from "../../shared/domain/types.js";
import { chunkRecording } from "../../shared/pipeline/chunk-recording.js";
import { stitchJob } from "../../shared/pipeline/stitch-job.js";
import { transcribeSegment } from "../../shared/pipeline/transcribe-segment.js";
import { answerOf } from "../support/fake-provider.js";
import { memoryPipeline, type MemoryPipeline } from "../support/memory-context.js";

let pipeline: MemoryPipeline | undefined;
afterEach(() => pipeline?.dispose());

const SECONDS = 50;
/** A "word" every 1.1 s: 0.8 s of tone, then 0.3 s of silence. */
const WORD_EVERY = 1.1;
const WORD_LENGTH = 0.8;
const WORDS = Math.floor((SECONDS - WORD_LENGTH) / WORD_EVERY) + 1;

function spokenWords(): Buffer {
  const pcm = Buffer.alloc(SECONDS * SAMPLE_RATE * 2);
  for (let i = 0; i < SECONDS * SAMPLE_RATE; i++) {
    const t = i / SAMPLE_RATE;
    if (t % WORD_EVERY < WORD_LENGTH) pcm.writeInt16LE(Math.round(6000 * Math.sin(2 * Math.PI * 180 * t)), i * 2);
  }
  return pcm;
}

describe("an upload through chunk, transcribe and stitch, in memory", () => {
  it("ends COMPLETED with every word once, at its time, however the messages were delivered", async () => {
    // Prepare: a provider that hears the words wholly inside each segment's audio, at their local times
    pipeline = memoryPipeline({
      answer: (request) => {
        const index = Number(/segment-(\d+)\.flac/.exec(request.filename)![1]);
        const { segment } = pipeline!.queues.segments.find((m) => m.segment.index === index)!;
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
    const { ctx, sources, queues, jobs, output, notifier, provider } = pipeline;
    sources.put({
      bucket: "stt-input",
      key: "calls/words.wav",
      body: wavBytes(spokenWords()),
      metadata: { "chunk-seconds": "20", "overlap-seconds": "4", diarize: "false" },
    });

    // Act: chunk; deliver every segment message twice, last first; then every stitch message twice
    const chunked = await chunkRecording(ctx, { bucket: "stt-input", key: "calls/words.wav" });
    for (const message of [...queues.segments].reverse()) {
      await transcribeSegment(ctx, message);
      await transcribeSegment(ctx, message);
    }
    const stitched = [];
    for (const message of [...queues.stitches]) {
      stitched.push(await stitchJob(ctx, message.jobId));
      stitched.push(await stitchJob(ctx, message.jobId));
    }

    // Assess
    expect(chunked.kind).toBe("started");
    const jobId = "jobId" in chunked ? chunked.jobId : "";
    const segments = queues.segments.length;
    expect(segments).toBeGreaterThanOrEqual(3);
    expect(provider.calls).toHaveLength(segments);
    expect(stitched.filter((s) => s === "completed")).toHaveLength(1);
    expect(jobs.peek(jobId)).toMatchObject({ status: "COMPLETED", segmentCount: segments, wordCount: WORDS, billing: { segmentRequests: segments } });
    const transcript = output.json<Transcript>(keys.output(jobId, "transcript.verbose.json"));
    expect(transcript.words.map((w) => w.word)).toEqual(Array.from({ length: WORDS }, (_, k) => `w${k}`));
    transcript.words.forEach((w, k) => expect(w.start).toBeCloseTo(k * WORD_EVERY, 1));
    expect(notifier.events).toMatchObject([{ jobId, status: "COMPLETED", wordCount: WORDS }]);
  });
});
