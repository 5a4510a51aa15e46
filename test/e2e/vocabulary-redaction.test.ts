/**
 * Word lists and redaction on the local stack (emulators, real handlers, ground-truth provider): a call with
 * known personal data, vocabulary near misses and a filter word, through `stt transcribe --vocabulary
 * --filter --redact pii`.
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeWav } from "../audio/conversation.js";
import { buildPiiCall, scoreRedaction, type PiiCall } from "../audio/pii-conversation.js";
import { startHarness, type Harness } from "../support/harness.js";
import { sessionOn } from "../../cli/stack-session.js";
import { registerWordList } from "../../cli/vocabulary.js";
import { ffmpegPaths, SAMPLE_RATE } from "../../shared/audio/ffmpeg.js";
import type { Transcript } from "../../shared/domain/types.js";

let harness: Harness;
let call: PiiCall;
let file: string;

beforeAll(async () => {
  harness = await startHarness({ chunkSeconds: 40, overlapSeconds: 4, transcriberConcurrency: 4 });
  call = buildPiiCall({ seed: 11, voices: 2, extras: [["kubernetis"], ["damn"], ["acme", "corp"]] });
  harness.provider.addRecording(call.recording);
  file = join(harness.workDir, "call.wav");
  writeWav(file, call.recording);
});

afterAll(async () => {
  await harness?.close();
});

async function read(key: string): Promise<Buffer> {
  const out = await harness.stack.clients.s3.send(new GetObjectCommand({ Bucket: harness.stack.resources.buckets.output, Key: key }));
  return Buffer.from(await out.Body!.transformToByteArray());
}

function decodeFlac(bytes: Buffer): Int16Array {
  const path = join(harness.workDir, "redacted.flac");
  writeFileSync(path, bytes);
  const pcm = execFileSync(ffmpegPaths().ffmpeg, ["-v", "error", "-i", path, "-f", "s16le", "-ac", "1", "-ar", String(SAMPLE_RATE), "-"], { maxBuffer: 1 << 28 });
  return new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
}

function rms(samples: Int16Array, from: number, to: number): number {
  let sum = 0;
  const a = Math.floor(from * SAMPLE_RATE);
  const b = Math.ceil(to * SAMPLE_RATE);
  for (let i = a; i < b; i++) sum += samples[i] * samples[i];
  return Math.sqrt(sum / Math.max(1, b - a));
}

describe("vocabulary, filter and redaction on the local stack", () => {
  it("registers the lists, then writes fixed, filtered and redacted outputs and a silenced audio copy", async () => {
    // Prepare
    const session = sessionOn(harness.stack);
    const terms = join(harness.workDir, "terms.txt");
    writeFileSync(terms, "Kubernetes\nACME Corp\n");
    const words = join(harness.workDir, "words.txt");
    writeFileSync(words, "damn\n");
    expect((await registerWordList(session, "vocabulary", "acme", terms)).status).toBe("READY");
    expect((await registerWordList(session, "filter", "profanity", words)).status).toBe("READY");

    // Act
    const run = await harness.transcribe(file, { vocabulary: "acme", filter: "profanity", redact: "pii" }, "verbose_json");

    // Assess: the originals have the terms fixed and the filter applied
    expect(run.code, run.stderr).toBe(0);
    const job = run.job!;
    const original = JSON.parse(run.stdout) as Transcript;
    expect(original.text).toContain("Kubernetes");
    expect(original.text).toContain("ACME Corp");
    expect(original.text).not.toMatch(/\bdamn\b/);
    expect(original.text).toContain("***");
    // ... the redacted set is listed and holds no personal data
    for (const format of ["json", "verbose_json", "text", "srt", "vtt"]) {
      const key = job.outputs![`redacted_${format}`];
      expect(key, format).toMatch(/transcript\.redacted\./);
      const text = (await read(key)).toString("utf8");
      expect(text).toContain("[PII]");
      expect(text).not.toMatch(/4111|ada\.lovelace|GB82|7946/);
    }
    const redacted = JSON.parse((await read(job.outputs!.redacted_verbose_json)).toString("utf8")) as Transcript;
    const score = scoreRedaction(call, redacted.words);
    expect(score.piiCaught).toBe(score.piiItems);
    expect(score.otherWordsTouched / score.otherWords).toBeLessThan(0.02);
    // ... the utterance items are the redacted ones
    const utterances = await session.jobs.utterances(job.jobId);
    expect(utterances.some((u) => u.text.includes("[PII]"))).toBe(true);
    expect(utterances.some((u) => /4111|ada\.lovelace/.test(u.text))).toBe(false);
    // ... and the audio is silent in the redacted spans, unchanged elsewhere
    const audio = decodeFlac(await read(job.outputs!.redacted_audio));
    expect(Math.abs(audio.length - call.recording.samples.length)).toBeLessThan(SAMPLE_RATE / 100);
    const spans = redacted.words.filter((w) => w.word.startsWith("[PII]"));
    for (const span of spans) {
      expect(rms(audio, span.start, span.end)).toBeLessThan(1);
      expect(rms(call.recording.samples, span.start, span.end)).toBeGreaterThan(100);
    }
    const outside = (i: number) => !spans.some((s) => i >= Math.floor(s.start * SAMPLE_RATE) - 1 && i <= Math.ceil(s.end * SAMPLE_RATE) + 1);
    let differing = 0;
    let compared = 0;
    for (let i = 0; i < Math.min(audio.length, call.recording.samples.length); i += 7) {
      if (!outside(i)) continue;
      compared++;
      if (audio[i] !== call.recording.samples[i]) differing++;
    }
    expect(compared).toBeGreaterThan(1000);
    expect(differing).toBe(0);
  });

  it("fails a job whose option is bad, or whose list is not registered, with the key named", async () => {
    // Act
    const badMethod = await harness.transcribe(file, { filter: "profanity", "filter-method": "blur" });
    const unknown = await harness.transcribe(file, { vocabulary: "nosuch" });

    // Assess
    expect(badMethod.code).toBe(1);
    expect(badMethod.job?.error).toBe("filter-method 'blur' must be one of mask, remove, tag");
    expect(unknown.code).toBe(1);
    expect(unknown.job?.error).toBe("vocabulary: no registered list 'nosuch'");
  });
});
