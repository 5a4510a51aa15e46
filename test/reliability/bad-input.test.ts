/**
 * Bad input: whatever a user drops in the bucket ends either with a correct transcript or a FAILED record
 * with a clear one-line reason and a notification, never a hang, and other jobs carry on meanwhile.
 */
import { randomBytes } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation, makeVideoWithoutAudio, type Recording } from "../audio/conversation.js";
import { sliceRecording } from "../audio/edit.js";
import { runFfmpeg, SAMPLE_RATE, samplesToBuffer } from "../audio/ffmpeg.js";
import { encodeToBytes } from "../audio/write-audio.js";
import type { JobRecord } from "../../shared/adapters/job-store.js";
import { Rig, wordLoss, type CaseRow } from "./support.js";

const GROUP = "Bad input";

let rig: Rig;

beforeAll(async () => {
  rig = await Rig.start("bad-input", {
    chunkSeconds: 20,
    overlapSeconds: 4,
    transcriberConcurrency: 4,
    visibilityTimeoutSeconds: 20,
    maxReceiveCount: 3,
  });
});

afterAll(async () => {
  await rig?.close();
});

interface InputCase {
  name: string;
  key: string;
  body: () => Promise<Buffer>;
  metadata?: Record<string, string>;
  /**
   * FAILED with this code and a reason matching; or COMPLETED with exactly these truth words; or COMPLETED
   * with whatever the provider heard (when the ground-truth provider cannot place the audio, see `note`).
   */
  expect: { failed: string; reason: RegExp } | { completed: Pick<Recording, "words"> } | { completes: string };
  timeoutMs?: number;
}

/** `seconds` of digital silence as 16 kbps mp3, built from 10-minute pieces joined without re-encoding. */
async function longSilenceMp3(dir: string, pieces: number, lead?: Buffer): Promise<Buffer> {
  // Cases are built concurrently: each build gets its own files.
  const piece = join(dir, `silence-600-${pieces}.mp3`);
  await runFfmpeg(["-y", "-f", "lavfi", "-i", `anullsrc=r=${SAMPLE_RATE}:cl=mono`, "-t", "600", "-c:a", "libmp3lame", "-b:a", "16k", piece]);
  const files: string[] = [];
  if (lead) {
    files.push(join(dir, "lead.mp3"));
    writeFileSync(files[0], lead);
  }
  for (let i = 0; i < pieces; i++) files.push(piece);
  const list = join(dir, `list-${pieces}-${lead ? "lead" : "plain"}.txt`);
  writeFileSync(list, files.map((f) => `file '${f}'`).join("\n"));
  const out = join(dir, `long-${pieces}-${lead ? "lead" : "plain"}.mp3`);
  await runFfmpeg(["-y", "-f", "concat", "-safe", "0", "-i", list, "-c", "copy", out]);
  return readFileSync(out);
}

/** The recording as 8 identical channels at 48 kHz, 16-bit WAV with no channel layout. */
async function eightChannelWav(recording: Recording): Promise<Buffer> {
  const pan = `pan=8c|${Array.from({ length: 8 }, (_, c) => `c${c}=c0`).join("|")}`;
  return runFfmpeg(
    ["-f", "s16le", "-ar", String(SAMPLE_RATE), "-ac", "1", "-i", "-", "-af", pan, "-ar", "48000", "-c:a", "pcm_s16le", "-f", "wav", "-"],
    samplesToBuffer(recording.samples),
  ).then(fixWavSizes);
}

/** ffmpeg writing WAV to a pipe cannot seek back to fill in the sizes; fill them in. */
function fixWavSizes(wav: Buffer): Buffer {
  wav.writeUInt32LE(wav.length - 8, 4);
  const data = wav.indexOf("data", 12, "ascii");
  if (data > 0) wav.writeUInt32LE(wav.length - data - 8, data + 4);
  return wav;
}

describe("bad input", () => {
  it("every kind of bad input ends COMPLETED with the right words or FAILED with a reason, while a good job carries on", async () => {
    // Prepare
    const dir = rig.harness.workDir;
    const speech = buildConversation({ seed: 90, voices: 2, durationSeconds: 24 });
    const good = buildConversation({ seed: 91, voices: 3, durationSeconds: 40 });
    const long = buildConversation({ seed: 92, voices: 2, durationSeconds: 60 });
    const word = speech.words.find((w) => w.end - w.start < 0.4)!;
    const tiny = sliceRecording(speech, word.start - 0.04, word.end + 0.04);
    const blip = sliceRecording(speech, word.start, word.start + 0.05);
    for (const r of [speech, good, long, tiny]) rig.provider.addRecording(r);
    const speechMp3 = await encodeToBytes(speech, "mp3");
    // Cut at 55% of the bytes: about the first 13 s of audio survive.
    const truncatedAt = Math.floor(speechMp3.length * 0.55);
    const videoPath = join(dir, "no-audio.mp4");
    await makeVideoWithoutAudio(videoPath, 3);
    const failed = (code: string, reason: RegExp) => ({ failed: code, reason });
    const completed = (r: Pick<Recording, "words">) => ({ completed: r });

    const cases: InputCase[] = [
      { name: "zero-byte file", key: "bad/empty.mp3", body: async () => Buffer.alloc(0), expect: failed("empty_file", /empty/) },
      {
        name: "text renamed .mp3",
        key: "bad/notes.mp3",
        body: async () => Buffer.from("These are meeting notes, not audio.\n".repeat(80)),
        expect: failed("not_media", /^not a readable audio or video file \(Invalid data found when processing input\)$/),
      },
      { name: "random bytes as .wav", key: "bad/noise.wav", body: async () => randomBytes(256 * 1024), expect: failed("not_media", /^not a readable audio or video file \(Invalid data found when processing input\)$/) },
      {
        name: "mp3 truncated to its first 300 bytes",
        key: "bad/truncated-300.mp3",
        body: async () => speechMp3.subarray(0, 300),
        expect: failed("not_media", /^not a readable audio or video file \(Invalid argument\)$/),
      },
      {
        name: "mp3 truncated at 55 % of its bytes",
        key: "bad/truncated-half.mp3",
        body: async () => speechMp3.subarray(0, truncatedAt),
        // Words wholly inside what survives; the exact cut is known only after decoding, so it is checked below.
        expect: completed(speech),
      },
      { name: "video without an audio track", key: "bad/no-audio.mp4", body: async () => readFileSync(videoPath), expect: failed("no_audio_stream", /video but no audio track/) },
            {
        name: `audio of ${tiny.duration.toFixed(2)} s (one word)`,
        key: "bad/one-word.wav",
        body: async () => encodeToBytes(tiny, "wav"),
        // The ground-truth provider answers "" for uploads this short, even of a known recording (it places audio by its sound events).
        expect: { completes: "the ground-truth provider hears nothing in uploads under ~0.5 s" },
      },
      {
        name: `audio of ${blip.duration.toFixed(2)} s (under the provider's 0.1 s minimum)`,
        key: "bad/blip.wav",
        body: async () => encodeToBytes(blip, "wav"),
        expect: failed("provider_400", /too short/),
      },
      {
        name: "30 minutes of silence (chunk-seconds 600)",
        key: "bad/silence-30min.mp3",
        body: () => longSilenceMp3(dir, 3),
        metadata: { "chunk-seconds": "600" },
        expect: completed({ words: [] }),
        timeoutMs: 240_000,
      },
      { name: "8 channels at 48 kHz (WAV, no layout)", key: "bad/eight-channels.wav", body: () => eightChannelWav(speech), expect: completed(speech) },
      {
        name: "3 hours: 1 min of speech, then silence (16 kbps mp3, chunk-seconds 600)",
        key: "bad/three-hours.mp3",
        body: async () => longSilenceMp3(dir, 18, await encodeToBytes(long, "mp3", { bitrateKbps: 32 })),
        metadata: { "chunk-seconds": "600" },
        expect: completed(long),
        timeoutMs: 420_000,
      },
      { name: "unsupported extension (.txt)", key: "bad/meeting.txt", body: async () => speechMp3, expect: failed("unsupported_type", /unsupported file type '\.txt'/) },
      { name: "no extension", key: "bad/meeting", body: async () => speechMp3, expect: failed("unsupported_type", /no extension/) },
      { name: "key with spaces", key: "odd keys/team meeting 2024 (final).mp3", body: async () => speechMp3, expect: completed(speech) },
      { name: "key with '+' and '='", key: "odd+keys/a+b=c.mp3", body: async () => speechMp3, expect: completed(speech) },
      { name: "key with '%' and '#'", key: "odd keys/100% sure #2.mp3", body: async () => speechMp3, expect: completed(speech) },
      { name: "unicode key", key: "réunions/équipe/会议录音 🎙️.mp3", body: async () => speechMp3, expect: completed(speech) },
      {
        name: "deep prefix (20 levels)",
        key: `${Array.from({ length: 20 }, (_, i) => `level${i}`).join("/")}/call.mp3`,
        body: async () => speechMp3,
        expect: completed(speech),
      },
      {
        name: "unknown language (language=klingon)",
        key: "options/klingon.mp3",
        body: async () => speechMp3,
        metadata: { language: "klingon" },
        expect: failed("invalid_options", /language 'klingon' is not an ISO 639-1 code/),
      },
      {
        name: "max-speakers below min-speakers (4 > 2)",
        key: "options/speakers.mp3",
        body: async () => speechMp3,
        metadata: { "min-speakers": "4", "max-speakers": "2" },
        expect: failed("invalid_options", /max-speakers \(2\) must be at least min-speakers \(4\)/),
      },
      {
        name: "several invalid options at once",
        key: "options/many.mp3",
        body: async () => speechMp3,
        metadata: { temperature: "3", diarize: "maybe", "chunk-seconds": "5" },
        expect: failed("invalid_options", /^(?=.*temperature '3')(?=.*diarize 'maybe')(?=.*chunk-seconds '5')/),
      },
      {
        name: "model the provider does not know",
        key: "options/model.mp3",
        body: async () => speechMp3,
        metadata: { model: "acme/no-such-model" },
        expect: failed("provider_400", /rejected the request \(400\)/),
      },
    ];

    // Act: the good job first, then every bad input at once
    await rig.upload("good/meeting.mp3", await encodeToBytes(good, "mp3"));
    await Promise.all(cases.map(async (c) => rig.upload(c.key, await c.body(), c.metadata)));
    const [goodJob, ...jobs] = await Promise.all([
      rig.settle("good/meeting.mp3", 240_000),
      ...cases.map((c) => rig.settle(c.key, c.timeoutMs ?? 180_000)),
    ]);

    // Assess: the good job
    expect(goodJob.status, goodJob.error).toBe("COMPLETED");
    expect(wordLoss(good.words, await rig.transcript(goodJob))).toEqual({ words: good.words.length, lost: 0, extra: 0 });
    const rows: CaseRow[] = [
      {
        group: GROUP,
        case: "a good 40 s meeting submitted alongside all the bad input",
        jobs: 1,
        expected: "COMPLETED, every word once",
        outcome: `COMPLETED, ${goodJob.wordCount} words`,
        words: good.words.length,
        lost: 0,
        extra: 0,
      },
    ];
    // Assess: each case
    const problems: string[] = [];
    for (const [i, c] of cases.entries()) {
      const job = jobs[i];
      const row = await assess(c, job, problems);
      rows.push(row);
    }
    for (const row of rows) rig.record(row);
    expect(problems).toEqual([]);
    const depths = await rig.drained(30_000);
    expect(Object.values(depths).every((d) => d === 0), JSON.stringify(depths)).toBe(true);
  });
});

async function assess(c: InputCase, job: JobRecord, problems: string[]): Promise<CaseRow> {
  const row: CaseRow = { group: GROUP, case: c.name, jobs: 1, expected: "", outcome: "" };
  expect(job.notifiedAt, c.name).toBeTruthy();
  expect(job.source.key, c.name).toBe(c.key);
  if ("failed" in c.expect) {
    row.expected = `FAILED (${c.expect.failed})`;
    row.outcome = job.status === "FAILED" ? `FAILED (${job.errorCode}): "${job.error}"` : `${job.status}`;
    if (job.status !== "FAILED") problems.push(`${c.name}: ${job.status}, expected FAILED`);
    else {
      if (job.errorCode !== c.expect.failed) problems.push(`${c.name}: code ${job.errorCode}, expected ${c.expect.failed} (${job.error})`);
      if (!c.expect.reason.test(job.error ?? "")) problems.push(`${c.name}: reason "${job.error}" does not match ${c.expect.reason}`);
      if ((job.error ?? "").includes("\n")) problems.push(`${c.name}: reason spans lines`);
    }
    return row;
  }
  if ("completes" in c.expect) {
    row.expected = "COMPLETED";
    row.note = c.expect.completes;
    if (job.status !== "COMPLETED") problems.push(`${c.name}: ${job.status} (${job.error}), expected COMPLETED`);
    const heard = job.status === "COMPLETED" ? (await rig.transcript(job)).words.length : 0;
    row.outcome = job.status === "COMPLETED" ? `COMPLETED, ${job.duration?.toFixed(2)} s, ${heard} word(s) heard` : `${job.status}: "${job.error}"`;
    return row;
  }
  let truth = c.expect.completed.words;
  row.expected = truth.length ? "COMPLETED, the right words" : "COMPLETED, empty transcript";
  if (job.status !== "COMPLETED") {
    problems.push(`${c.name}: ${job.status} (${job.error}), expected COMPLETED`);
    row.outcome = `${job.status} (${job.errorCode}): "${job.error}"`;
    return row;
  }
  const transcript = await rig.transcript(job);
  // A truncated file: the truth is the words wholly inside the audio that survived.
  if (c.key.includes("truncated")) truth = truth.filter((w) => w.end <= (job.duration ?? 0) - 0.05);
  const loss = wordLoss(truth, transcript);
  const cutWord = c.key.includes("truncated") ? 1 : 0;
  if (loss.lost !== 0 || loss.extra > cutWord) problems.push(`${c.name}: ${loss.lost} words lost, ${loss.extra} extra of ${loss.words}`);
  row.outcome = `COMPLETED, ${job.duration?.toFixed(1)} s, ${job.segmentCount} segment(s), ${transcript.words.length} words (${loss.lost} lost, ${loss.extra} extra)`;
  Object.assign(row, loss);
  return row;
}
