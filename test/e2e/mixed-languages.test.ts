/**
 * Mixed languages on the local stack (emulators, real handlers, ground-truth provider): a conversation whose
 * second half is German (a label of the truth data: test/provider/README.md, "Languages"), transcribed with
 * language=auto, and with language-options that leave German out (asked again, as documented).
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation, encodeRecording, type Recording } from "../audio/conversation.js";
import { startHarness, type Harness } from "../support/harness.js";
import { subscribeToJobEvents } from "../../cli/submit.js";
import { sessionOn } from "../../cli/stack-session.js";
import type { JobEvent } from "../../shared/adapters/notifier.js";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { languageShares } from "../../shared/domain/languages/language-shares.js";

const SWITCH_SECONDS = 60;

interface VerboseFile {
  language: string;
  words: Array<{ word: string; start: number; end: number; language_code?: string }>;
  segments: Array<{ start: number; language_code?: string }>;
  language_codes?: Array<{ language_code: string; duration_in_seconds: number; fraction: number }>;
}

let harness: Harness;
let conversation: Recording;
let file: string;

beforeAll(async () => {
  harness = await startHarness({ chunkSeconds: 30, overlapSeconds: 4, transcriberConcurrency: 4 });
  conversation = buildConversation({
    seed: 23,
    voices: 2,
    durationSeconds: 120,
    style: "quick-turns",
    languages: [{ fromSeconds: SWITCH_SECONDS, language: "de" }],
  });
  harness.provider.addRecording(conversation);
  file = join(harness.workDir, "bilingual.flac");
  await encodeRecording(conversation, file, "flac");
});

afterAll(async () => {
  await harness?.close();
});

/** The true language of the word spoken at `start` (the nearest true word). */
function trueLanguageAt(start: number): string {
  let best = conversation.words[0];
  for (const word of conversation.words) if (Math.abs(word.start - start) < Math.abs(best.start - start)) best = word;
  return best.language ?? "en";
}

async function readOutput(key: string): Promise<string> {
  const out = await harness.stack.clients.s3.send(new GetObjectCommand({ Bucket: harness.stack.resources.buckets.output, Key: key }));
  return out.Body!.transformToString();
}

describe("a recording that switches language half-way", () => {
  it("comes back with each part in its own language, and the shares close to the truth", async () => {
    // Prepare
    const events = await subscribeToJobEvents(sessionOn(harness.stack));
    const truth = languageShares(conversation.words.map((w) => ({ ...w, language: w.language ?? "en" })));

    // Act
    const run = await harness.transcribe(file, { language: "auto", "chunk-seconds": "20" }, "verbose_json");

    // Assess: words and utterances carry both languages, mostly the true one
    expect(run.code, run.stderr).toBe(0);
    const job = run.job!;
    const transcript = JSON.parse(run.stdout) as VerboseFile;
    // The known limit: the segment spanning the switch gets one language, so up to half a segment is off.
    const halfASegment = 1 / (2 * job.segmentCount!);
    const right = transcript.words.filter((w) => w.language_code === trueLanguageAt(w.start)).length;
    expect(right / transcript.words.length).toBeGreaterThanOrEqual(1 - halfASegment - 0.02);
    expect(new Set(transcript.segments.map((s) => s.language_code))).toEqual(new Set(["en", "de"]));
    expect(transcript.language).toBe(job.language);
    // Assess: the job record's shares, close to the truth's
    expect(job.languages?.map((l) => l.languageCode).sort()).toEqual(["de", "en"]);
    for (const share of truth) {
      const found = job.languages!.find((l) => l.languageCode === share.languageCode)!;
      expect(Math.abs(found.fraction - share.fraction), share.languageCode).toBeLessThanOrEqual(halfASegment + 0.02);
    }
    expect(job.billing?.languageRetryRequests).toBeUndefined();
    // Assess: utterance items, VTT language spans, the notification
    const utterances = await harness.stack.ctx.jobs.utterances(job.jobId);
    expect(new Set(utterances.map((u) => u.language))).toEqual(new Set(["en", "de"]));
    const vtt = await readOutput(job.outputs!.vtt);
    expect(vtt).toMatch(/<lang de>/);
    expect(vtt).toMatch(/<lang en>/);
    expect(await readOutput(job.outputs!.srt)).not.toContain("<lang");
    const heard: JobEvent[] = [];
    for (let i = 0; i < 5 && !heard.some((e) => e.jobId === job.jobId); i++) heard.push(...(await events.next(1)));
    await events.close();
    expect(heard.find((e) => e.jobId === job.jobId)?.languages).toEqual(job.languages);
  });

  it("with language-options that leave the German part out, asks those segments again in the first option", async () => {
    // Prepare
    harness.provider.resetStats();

    // Act
    const run = await harness.transcribe(file, { "language-options": "en,fr" }, "verbose_json");

    // Assess: every segment ends in an allowed language; German ones were asked again with "en", and billed
    expect(run.code, run.stderr).toBe(0);
    const job = run.job!;
    expect(job.options.languageOptions).toEqual(["en", "fr"]);
    expect(job.languages?.map((l) => l.languageCode)).toEqual(["en"]);
    const retries = job.billing?.languageRetryRequests ?? 0;
    expect(retries).toBeGreaterThanOrEqual(1);
    expect(job.billing!.segmentRequests).toBe(job.segmentCount! + retries);
    const stats = harness.provider.stats();
    expect(stats.languagesRequested.en).toBe(retries);
    // The forced language loses: the German words came back reported as English.
    expect(stats.wrongLanguageWords).toBeGreaterThan(0);
  });

  it("with language-options that allow both, sends each segment once", async () => {
    // Act
    const run = await harness.transcribe(file, { "language-options": "de,en" }, "verbose_json");

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.job!.billing?.languageRetryRequests).toBeUndefined();
    expect(run.job!.languages?.map((l) => l.languageCode).sort()).toEqual(["de", "en"]);
  });

  it("refuses bad language-options before anything is uploaded, naming the key", async () => {
    // Act
    const run = await harness.transcribe(file, { language: "de", "language-options": "en,de" }, "verbose_json");

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain("language-options needs language=auto");
  });
});
