import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation, buildSilence, buildVoiceClip, encodeRecording, writeWav, type Recording } from "../audio/conversation.js";
import { startHarness, type Harness } from "../support/harness.js";
import { namingOutcome } from "../support/speaker-naming.js";
import { sessionOn } from "../../cli/stack-session.js";
import { registerVoice } from "../../cli/voices.js";

let harness: Harness;
let conversation: Recording;
const VOICE = { alice: "us-m3", bob: "gb-f2", carol: "us-f4", unenrolled: "en-m1-deep" } as const;

beforeAll(async () => {
  harness = await startHarness({ chunkSeconds: 30, overlapSeconds: 4, transcriberConcurrency: 6 });
  conversation = buildConversation({ seed: 31, voices: 3, durationSeconds: 120, style: "meeting", voiceIds: [VOICE.alice, VOICE.unenrolled, VOICE.bob] });
  harness.provider.addRecording(conversation);
});

afterAll(async () => {
  await harness?.close();
});

/** A voice clip written as WAV and known to the provider. */
async function clipFile(recording: Recording, name: string): Promise<string> {
  harness.provider.addRecording(recording);
  const file = join(harness.workDir, `${name}.wav`);
  writeWav(file, recording);
  return file;
}

describe("named speakers from enrollment clips", () => {
  it("refuses clips that are not one person speaking for 3-30 s, with the reason", async () => {
    // Prepare
    const session = sessionOn(harness.stack);
    const silent = await clipFile(buildSilence(6), "silent");
    const two = await clipFile(buildConversation({ seed: 5, voices: 2, durationSeconds: 10, style: "quick-turns", voiceIds: [VOICE.alice, VOICE.bob] }), "two");
    const short = await clipFile(buildVoiceClip(VOICE.alice, 2), "short");
    const garbage = join(harness.workDir, "garbage.wav");
    writeFileSync(garbage, Buffer.from("this is not audio at all, only some bytes".repeat(40)));

    // Act
    const refused = {
      silent: await registerVoice(session, "silent", silent),
      two: await registerVoice(session, "two", two),
      short: await registerVoice(session, "short", short),
      garbage: await registerVoice(session, "garbage", garbage),
    };

    // Assess
    for (const voice of Object.values(refused)) expect(voice.status).toBe("REFUSED");
    expect(refused.silent.reason).toContain("no speech heard");
    expect(refused.two.reason).toContain("two voices heard");
    expect(refused.short.reason).toContain("too short");
    expect(refused.garbage.reason).toContain("could not be read as audio");
  });

  it("names the enrolled voices present and leaves the others SPEAKER_NN", async () => {
    // Prepare
    const session = sessionOn(harness.stack);
    for (const [name, voiceId] of [["alice", VOICE.alice], ["bob", VOICE.bob], ["carol", VOICE.carol]] as const) {
      const voice = await registerVoice(session, name, await clipFile(buildVoiceClip(voiceId, 12, 3), `enroll-${name}`));
      expect(voice.status, voice.reason).toBe("READY");
    }
    const file = join(harness.workDir, "meeting.mp3");
    await encodeRecording(conversation, file, "mp3");

    // Act
    const run = await harness.transcribe(file, { speakers: "alice,bob,carol" }, "verbose_json");

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const job = run.job!;
    const outcome = await namingOutcome(session, job.jobId, job.segmentCount!, conversation);
    expect(outcome.byTrueSpeaker.get("S1")).toBe("alice");
    expect(outcome.byTrueSpeaker.get("S3")).toBe("bob");
    expect(outcome.byTrueSpeaker.get("S2")).toBeNull();
    expect(Object.values(outcome.book.names ?? {})).not.toContain("carol");
    expect(job.billing!.probeRequests).toBeGreaterThan(0);
    // ... and the outputs show them: the job record's label -> name map, the verbose transcript's speaker_name
    expect(Object.values(job.speakerNames ?? {}).sort()).toEqual(["alice", "bob"]);
    const verbose = JSON.parse(run.stdout) as { words: Array<{ start: number; speaker_id: string | null; speaker_name?: string }> };
    const shown = new Map<string, Map<string, number>>();
    for (const word of verbose.words) {
      const truth = conversation.words.find((w) => Math.abs(w.start - word.start) < 0.3);
      if (!truth) continue;
      const tally = shown.get(truth.speaker) ?? new Map<string, number>();
      tally.set(word.speaker_name ?? "-", (tally.get(word.speaker_name ?? "-") ?? 0) + 1);
      shown.set(truth.speaker, tally);
    }
    const mostShown = (speaker: string) => [...(shown.get(speaker) ?? [])].sort((a, b) => b[1] - a[1])[0]?.[0];
    expect(mostShown("S1")).toBe("alice");
    expect(mostShown("S3")).toBe("bob");
    expect(mostShown("S2")).toBe("-");
  });

  it("fails a job that names a voice nobody registered", async () => {
    // Prepare
    const file = join(harness.workDir, "short-meeting.mp3");
    await encodeRecording(conversation, file, "mp3");

    // Act
    const run = await harness.transcribe(file, { speakers: "alice,dave" }, "verbose_json");

    // Assess
    expect(run.code).toBe(1);
    expect(run.job?.error).toBe("speakers: no registered voice 'dave'");
  });
});
