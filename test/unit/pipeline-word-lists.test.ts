/**
 * Word lists (register-list.ts: vocabularies and filters) and redaction (redact-outputs.ts) through chunk,
 * transcribe and stitch on in-memory adapters, with the real ffmpeg for the redacted audio.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { keys } from "../../shared/adapters/object-store.js";
import { ffmpegPaths, SAMPLE_RATE } from "../../shared/audio/ffmpeg.js";
import { wavBytes } from "../../shared/audio/wav.js";
import type { Transcript, Word } from "../../shared/domain/types.js";
import { chunkRecording } from "../../shared/pipeline/chunk-recording.js";
import { stitchJob } from "../../shared/pipeline/stitch-job.js";
import { transcribeSegment } from "../../shared/pipeline/transcribe-segment.js";
import { REDACTED_AUDIO, REDACTED_FILES } from "../../shared/pipeline/redact-outputs.js";
import { listSnapshotKey } from "../../shared/domain/vocabulary/term-list.js";
import { answerOf } from "../support/fake-provider.js";
import { JOB_ID, jobRecord } from "../support/job-fixtures.js";
import { renameSpeaker } from "../../shared/pipeline/rename-speaker.js";
import { memoryPipeline, type MemoryPipeline } from "../support/memory-context.js";

let pipeline: MemoryPipeline | undefined;
afterEach(() => {
  pipeline?.dispose();
  pipeline = undefined;
});

const BUCKET = "stt-input";
const SECONDS = 30;
const WORD_EVERY = 1.1;
const WORD_LENGTH = 0.8;
/** What the fake provider hears, one word per tone burst. */
const HEARD = "we run kubernetis at acme corp damn it my card is 4111 1111 1111 1111 and my mail is ada@example.com thanks bye".split(" ");

function bursts(): Buffer {
  const pcm = Buffer.alloc(SECONDS * SAMPLE_RATE * 2);
  for (let i = 0; i < SECONDS * SAMPLE_RATE; i++) {
    const t = i / SAMPLE_RATE;
    if (t % WORD_EVERY < WORD_LENGTH) pcm.writeInt16LE(Math.round(6000 * Math.sin(2 * Math.PI * 180 * t)), i * 2);
  }
  return pcm;
}

function heardWords(): Word[] {
  return HEARD.map((word, k) => ({ word, start: k * WORD_EVERY, end: k * WORD_EVERY + WORD_LENGTH, speaker: "SPEAKER_00" }));
}

function setup(config: { redactionMandatory?: boolean } = {}): MemoryPipeline {
  return (pipeline = memoryPipeline({ config, answer: () => answerOf(heardWords()) }));
}

async function register(p: MemoryPipeline, key: string, text: string) {
  const etag = p.sources.put({ bucket: BUCKET, key, body: Buffer.from(text, "utf8") });
  return chunkRecording(p.ctx, { bucket: BUCKET, key, etag });
}

async function runJob(p: MemoryPipeline, metadata: Record<string, string>): Promise<string> {
  p.sources.put({ bucket: BUCKET, key: "calls/call.wav", body: wavBytes(bursts()), metadata: { "chunk-seconds": "60", diarize: "false", ...metadata } });
  const chunked = await chunkRecording(p.ctx, { bucket: BUCKET, key: "calls/call.wav" });
  if (!("jobId" in chunked)) throw new Error(`not a job: ${chunked.kind}`);
  for (const message of p.queues.segments) await transcribeSegment(p.ctx, message);
  for (const message of p.queues.stitches) await stitchJob(p.ctx, message.jobId);
  return chunked.jobId;
}

/** 16 kHz mono PCM of a FLAC file's bytes. */
function decodeFlac(bytes: Uint8Array): Int16Array {
  const dir = mkdtempSync(join(tmpdir(), "redacted-"));
  try {
    writeFileSync(join(dir, "a.flac"), bytes);
    const pcm = execFileSync(ffmpegPaths().ffmpeg, ["-v", "error", "-i", join(dir, "a.flac"), "-f", "s16le", "-ac", "1", "-ar", String(SAMPLE_RATE), "-"]);
    return new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function rms(samples: Int16Array, from: number, to: number): number {
  let sum = 0;
  const a = Math.round(from * SAMPLE_RATE);
  const b = Math.round(to * SAMPLE_RATE);
  for (let i = a; i < b; i++) sum += samples[i] * samples[i];
  return Math.sqrt(sum / Math.max(1, b - a));
}

describe("word lists: registration", () => {
  it("registers a vocabulary and a filter from files under their prefixes, and refuses a bad list with a reason", async () => {
    // Prepare
    const p = setup();

    // Act
    const vocabulary = await register(p, "vocabularies/acme.txt", "Kubernetes\nACME Corp\n");
    const filter = await register(p, "vocabulary-filters/profanity.txt", "damn\ncrap\n");
    const refused = await register(p, "vocabularies/bad.txt", "one two three four five\n");
    const again = await register(p, "vocabularies/acme.txt", "Kubernetes\nACME Corp\n");

    // Assess
    expect(vocabulary).toEqual({ kind: "list", list: "vocabulary", status: "READY", repeat: false });
    expect(filter).toEqual({ kind: "list", list: "filter", status: "READY", repeat: false });
    expect(refused).toMatchObject({ kind: "list", status: "REFUSED" });
    expect(again).toMatchObject({ repeat: true });
    expect(await p.jobs.getList("vocabulary", "acme")).toMatchObject({ terms: ["Kubernetes", "ACME Corp"], status: "READY" });
    expect((await p.jobs.getList("vocabulary", "bad"))?.reason).toMatch(/^line 1: 5 words/);
    expect(p.queues.segments).toHaveLength(0);
  });

  it("fails a job naming an unknown list, with the key named", async () => {
    // Prepare
    const p = setup();

    // Act
    const jobId = await runJob(p, { vocabulary: "acme" });

    // Assess
    expect(p.jobs.peek(jobId)).toMatchObject({ status: "FAILED", error: "vocabulary: no registered list 'acme'" });
    expect(p.provider.calls).toHaveLength(0);
  });
});

describe("word lists and redaction through the pipeline", () => {
  it("prompts with the terms, fixes spellings, masks filtered words, and writes redacted outputs and audio", async () => {
    // Prepare
    const p = setup();
    await register(p, "vocabularies/acme.txt", "Kubernetes\nACME Corp\n");
    await register(p, "vocabulary-filters/profanity.txt", "damn\n");

    // Act
    const jobId = await runJob(p, { vocabulary: "acme", filter: "profanity", redact: "pii", prompt: "A support call." });

    // Assess: the prompt, the snapshot, the record
    expect(p.provider.segmentCalls[0].prompt).toBe("A support call. Kubernetes, ACME Corp.");
    expect(p.work.json(listSnapshotKey(jobId))).toMatchObject({ promptTerms: 2, promptTermsLeftOut: 0 });
    const job = p.jobs.peek(jobId)!;
    expect(job.status).toBe("COMPLETED");
    expect(Object.keys(job.outputs!).sort()).toEqual(
      expect.arrayContaining(["json", "verbose_json", "text", "srt", "vtt", "redacted_json", "redacted_verbose_json", "redacted_text", "redacted_srt", "redacted_vtt", "redacted_audio"]),
    );
    // The originals: terms fixed, filter applied, personal data kept
    const original = p.output.json<Transcript>(keys.output(jobId, "transcript.verbose.json"));
    expect(original.text).toBe("we run Kubernetes at ACME Corp *** it my card is 4111 1111 1111 1111 and my mail is ada@example.com thanks bye");
    // The redacted set, in every format, and the utterance items
    const redacted = p.output.json<Transcript>(job.outputs!.redacted_verbose_json);
    expect(redacted.text).toBe("we run Kubernetes at ACME Corp *** it my card is [PII] and my mail is [PII] thanks bye");
    for (const { file } of Object.values(REDACTED_FILES)) {
      const text = p.output.text(keys.output(jobId, file))!;
      expect(text).toContain("[PII]");
      expect(text).not.toMatch(/4111|ada@example/);
    }
    const utterances = await p.jobs.utterances(jobId);
    expect(utterances.map((u) => u.text).join(" ")).toContain("[PII]");
    expect(utterances.map((u) => u.text).join(" ")).not.toContain("4111");
    // The audio: silent in the redacted spans, the same sample for sample elsewhere
    expect(job.outputs!.redacted_audio).toBe(keys.output(jobId, REDACTED_AUDIO.file));
    const audio = decodeFlac((await p.output.getBytes(job.outputs!.redacted_audio))!);
    const source = new Int16Array(bursts().buffer.slice(0));
    expect(audio.length).toBe(source.length);
    const spans = redacted.words.filter((w) => w.word.startsWith("[PII]"));
    expect(spans).toHaveLength(2);
    for (const span of spans) {
      expect(rms(audio, span.start, span.end)).toBe(0);
      expect(rms(source, span.start, span.end)).toBeGreaterThan(1000);
    }
    const inside = (i: number) => spans.some((s) => i >= Math.floor(s.start * SAMPLE_RATE) && i < Math.ceil(s.end * SAMPLE_RATE));
    let differing = 0;
    for (let i = 0; i < source.length; i++) if (!inside(i) && audio[i] !== source[i]) differing++;
    expect(differing).toBe(0);
  });

  it("tags filtered words in the JSON outputs and leaves the text formats' words as they are", async () => {
    // Prepare
    const p = setup();
    await register(p, "vocabulary-filters/profanity.txt", "damn\n");

    // Act
    const jobId = await runJob(p, { filter: "profanity", "filter-method": "tag" });

    // Assess
    const verbose = JSON.parse(p.output.text(keys.output(jobId, "transcript.verbose.json"))!) as { words: Array<{ word: string; vocabulary_filter_match?: boolean }> };
    expect(verbose.words.filter((w) => w.vocabulary_filter_match).map((w) => w.word)).toEqual(["damn"]);
    expect(p.output.text(keys.output(jobId, "transcript.txt"))).toContain("damn it");
  });

  it("keeps only redacted outputs and utterances when the deployment demands redaction", async () => {
    // Prepare
    const p = setup({ redactionMandatory: true });

    // Act
    const jobId = await runJob(p, {});

    // Assess
    const job = p.jobs.peek(jobId)!;
    expect(job.status).toBe("COMPLETED");
    expect(Object.keys(job.outputs!).every((name) => name.startsWith("redacted_"))).toBe(true);
    expect(p.output.text(keys.output(jobId, "transcript.verbose.json"))).toBeUndefined();
    expect(p.output.text(keys.output(jobId, "transcript.txt"))).toBeUndefined();
    const everything = [...p.output.objects.keys()].map((key) => p.output.text(key) ?? "").join("\n");
    expect(everything).not.toContain("4111");
    expect((await p.jobs.utterances(jobId)).map((u) => u.text).join(" ")).not.toContain("4111");
  });
});

describe("a rename of a redacted job", () => {
  /** A completed job with a redacted transcript stored; `originals` also stores the unredacted one. */
  async function completedRedacted(p: MemoryPipeline, originals: boolean): Promise<void> {
    const words = [
      { word: "call", start: 0, end: 0.4, speaker_id: "SPEAKER_00" },
      { word: "555-0123", start: 0.5, end: 1.2, speaker_id: "SPEAKER_00" },
    ];
    const original: Transcript = { text: "call 555-0123", language: "en", duration: 2, words, segments: [{ id: 0, start: 0, end: 1.2, text: "call 555-0123", speaker_id: "SPEAKER_00" }], speakers: ["SPEAKER_00"] };
    const redacted: Transcript = { ...original, text: "call [PII]", words: [words[0], { ...words[1], word: "[PII]" }], segments: [{ ...original.segments[0], text: "call [PII]" }] };
    const outputs: Record<string, string> = {};
    if (originals) {
      outputs.verbose_json = keys.output(JOB_ID, "transcript.verbose.json");
      await p.output.put(outputs.verbose_json, JSON.stringify(original), "application/json");
    }
    outputs.redacted_verbose_json = keys.output(JOB_ID, REDACTED_FILES.verbose_json.file);
    await p.output.put(outputs.redacted_verbose_json, JSON.stringify(redacted), "application/json");
    p.jobs.put(jobRecord({ status: "COMPLETED", speakers: ["SPEAKER_00"], speakerNames: {}, outputs }));
  }

  it("renders the redacted outputs again with the name and keeps the utterance items redacted", async () => {
    // Prepare
    const p = setup();
    await completedRedacted(p, true);

    // Act
    await renameSpeaker(p.ctx, JOB_ID, "SPEAKER_00", "Ada");

    // Assess
    expect(p.output.text(keys.output(JOB_ID, REDACTED_FILES.text.file))).toBe("Ada: call [PII]\n");
    expect(p.output.text(keys.output(JOB_ID, "transcript.txt"))).toBe("Ada: call 555-0123\n");
    expect((await p.jobs.utterances(JOB_ID)).map((u) => u.text)).toEqual(["call [PII]"]);
  });

  it("writes no original for a job that kept only redacted outputs", async () => {
    // Prepare
    const p = setup({ redactionMandatory: true });
    await completedRedacted(p, false);

    // Act
    await renameSpeaker(p.ctx, JOB_ID, "SPEAKER_00", "Ada");

    // Assess
    expect(p.output.text(keys.output(JOB_ID, REDACTED_FILES.text.file))).toBe("Ada: call [PII]\n");
    expect(p.output.text(keys.output(JOB_ID, "transcript.txt"))).toBeUndefined();
    expect([...p.output.objects.keys()].map((k) => p.output.text(k) ?? "").join("\n")).not.toContain("555-0123");
  });
});
