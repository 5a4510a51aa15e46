import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation, encodeRecording, type Recording } from "../audio/conversation.js";
import { buildStereoCall, crossTalkWords, stereoWavBytes, type StereoCall } from "../audio/stereo-call.js";
import { startHarness, type Harness } from "../support/harness.js";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { subscribeToJobEvents, uploadRecording, waitForJob } from "../../cli/submit.js";
import { sessionOn } from "../../cli/stack-session.js";
import { scoreTranscript } from "../support/score.js";
import { NO_REALISM, REALISM } from "../support/fidelity.js";
import { runFfmpeg } from "../audio/ffmpeg.js";
import type { Transcript } from "../../shared/domain/types.js";

let harness: Harness;
let call: StereoCall;

beforeAll(async () => {
  harness = await startHarness({ chunkSeconds: 30, overlapSeconds: 4, transcriberConcurrency: 8 });
  call = buildStereoCall({ seed: 31, durationSeconds: 100 });
  // The provider hears each channel's segments as mono uploads: it is given the channels, not the call.
  for (const channel of call.channels) harness.provider.addRecording(channel);
});

afterAll(async () => {
  await harness?.close();
});

/** The words of one speaker name, as a transcript of their own. */
function wordsNamed(transcript: Transcript, name: string): Transcript {
  const labels = Object.entries(transcript.speaker_names ?? {}).filter(([, n]) => n === name).map(([label]) => label);
  return { ...transcript, words: transcript.words.filter((w) => w.speaker_id !== null && labels.includes(w.speaker_id)) };
}

describe("a stereo call with channels=agent,caller, end to end on the local stack", () => {
  it("comes back with every word once, named by its channel, cross-talk from both sides kept", async () => {
    // Prepare
    const file = join(harness.workDir, "call.wav");
    writeFileSync(file, stereoWavBytes(call));
    const crossTalk = crossTalkWords(call);
    expect(crossTalk.length).toBeGreaterThan(5);
    // The chunk-edge realism (jitter, stretched ends, half-heard edge words, trailing hallucinations), spellings aside.
    harness.provider.configure({ ...REALISM, perturbWords: 0 });

    // Act
    const run = await harness.transcribe(file, { channels: "agent,caller", "chunk-seconds": "20" }, "verbose_json");
    harness.provider.configure(NO_REALISM);

    // Assess: the job
    expect(run.code, run.stderr).toBe(0);
    const job = run.job!;
    expect(job.status).toBe("COMPLETED");
    expect(job.segmentCount).toBeGreaterThanOrEqual(10);
    expect(job.wordCount).toBe(call.words.length);
    const transcript = JSON.parse(run.stdout) as Transcript;
    expect(transcript.speakers).toEqual(["SPEAKER_00", "SPEAKER_01"]);
    expect(transcript.speaker_names).toEqual({ SPEAKER_00: "agent", SPEAKER_01: "caller" });
    expect(job.speakerNames).toEqual({ SPEAKER_00: "agent", SPEAKER_01: "caller" });

    // Assess: each channel's words, all of them, once, at their times, under the channel's name
    for (const [channel, name] of ["agent", "caller"].entries()) {
      const heard = wordsNamed(transcript, name);
      const score = scoreTranscript(call.channels[channel], heard);
      expect(score.wer, name).toBe(0);
      expect(score.words, name).toBe(call.channels[channel].words.length);
      expect(score.meanStartError, name).toBeLessThanOrEqual(0.05);
    }

    // Assess: merged by start, and cross-talk from both sides is there
    const starts = transcript.words.map((w) => w.start);
    expect(starts).toEqual([...starts].sort((a, b) => a - b));
    const overlapping = transcript.words.filter((w) =>
      transcript.words.some((o) => o.speaker_id !== w.speaker_id && o.start < w.end && w.start < o.end),
    );
    expect(new Set(overlapping.map((w) => w.speaker_id)).size).toBe(2);
    for (const truth of crossTalk) {
      const name = truth.channel === 0 ? "agent" : "caller";
      const found = wordsNamed(transcript, name).words.find((w) => w.word === truth.word && Math.abs(w.start - truth.start) < 0.15);
      expect(found, `${name} '${truth.word}' at ${truth.start}`).toBeDefined();
    }
  });

  it("diarizes inside each channel only when diarize=true is given with channels=", async () => {
    // Prepare: one voice per channel, so each channel's one label keeps the channel's plain name
    const file = join(harness.workDir, "call-diarized.wav");
    writeFileSync(file, stereoWavBytes(call));
    const session = sessionOn(harness.stack);
    const events = await subscribeToJobEvents(session);

    // Act
    const { jobId } = await uploadRecording(session, file, { channels: "agent,caller", diarize: "true" });
    const { job } = await waitForJob(session, events, jobId, { timeoutMs: 120_000 });
    await events.close();

    // Assess
    expect(job.status, job.error).toBe("COMPLETED");
    expect(job.options).toMatchObject({ channels: ["agent", "caller"], diarize: true });
    const out = await harness.stack.clients.s3.send(
      new GetObjectCommand({ Bucket: harness.stack.resources.buckets.output, Key: job.outputs!.verbose_json }),
    );
    const transcript = JSON.parse(await out.Body!.transformToString()) as Transcript;
    expect(transcript.speaker_names).toEqual({ SPEAKER_00: "agent", SPEAKER_01: "caller" });
    expect(transcript.words).toHaveLength(call.words.length);
    for (const [channel, name] of ["agent", "caller"].entries()) {
      expect(scoreTranscript(call.channels[channel], wordsNamed(transcript, name)).wer, name).toBe(0);
    }
  });

  it("numbers the voices of a diarized channel 'agent 1', 'agent 2'", async () => {
    // Prepare: two agents share the left channel
    const shared = buildStereoCall({ seed: 34, durationSeconds: 90, channelVoices: [2, 1] });
    for (const channel of shared.channels) harness.provider.addRecording(channel);
    const file = join(harness.workDir, "call-two-agents.wav");
    writeFileSync(file, stereoWavBytes(shared));
    const session = sessionOn(harness.stack);
    const events = await subscribeToJobEvents(session);

    // Act
    const { jobId } = await uploadRecording(session, file, { channels: "agent,caller", diarize: "true" });
    const { job } = await waitForJob(session, events, jobId, { timeoutMs: 120_000 });
    await events.close();

    // Assess
    expect(job.status, job.error).toBe("COMPLETED");
    const out = await harness.stack.clients.s3.send(
      new GetObjectCommand({ Bucket: harness.stack.resources.buckets.output, Key: job.outputs!.verbose_json }),
    );
    const transcript = JSON.parse(await out.Body!.transformToString()) as Transcript;
    expect(Object.values(transcript.speaker_names ?? {}).sort()).toEqual(["agent 1", "agent 2", "caller"]);
    expect(transcript.words).toHaveLength(shared.words.length);
    const scoreLeft = scoreTranscript(shared.channels[0], {
      ...transcript,
      words: [...wordsNamed(transcript, "agent 1").words, ...wordsNamed(transcript, "agent 2").words].sort((a, b) => a.start - b.start),
    });
    expect(scoreLeft.wer).toBe(0);
    expect(scoreLeft.speakerAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(scoreTranscript(shared.channels[1], wordsNamed(transcript, "caller")).wer).toBe(0);
  });

  it("reads the channels of a compressed call (m4a) the same way", async () => {
    // Prepare
    const wav = join(harness.workDir, "call-for-m4a.wav");
    writeFileSync(wav, stereoWavBytes(call));
    const file = join(harness.workDir, "call.m4a");
    await runFfmpeg(["-y", "-i", wav, "-c:a", "aac", "-b:a", "96k", file]);

    // Act
    const run = await harness.transcribe(file, { channels: "agent,caller" }, "verbose_json");

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const transcript = JSON.parse(run.stdout) as Transcript;
    for (const [channel, name] of ["agent", "caller"].entries()) {
      const score = scoreTranscript(call.channels[channel], wordsNamed(transcript, name));
      expect(score.wer, name).toBe(0);
      expect(score.meanStartError, name).toBeLessThanOrEqual(0.05);
    }
  });

  it("fails a mono file with channels= at once, with the reason", async () => {
    // Prepare
    const file = join(harness.workDir, "mono.wav");
    await encodeRecording(buildConversation({ seed: 32, voices: 2, durationSeconds: 20 }), file, "wav");

    // Act
    const run = await harness.transcribe(file, { channels: "agent,caller" }, "verbose_json");

    // Assess
    expect(run.code).not.toBe(0);
    expect(run.job?.status).toBe("FAILED");
    expect(run.job?.error).toMatch(/^channels: the recording has 1 channel/);
    expect(run.job?.segmentCount ?? 0).toBe(0);
  });

  it("mixes a stereo file without channels= down to mono, as before", async () => {
    // Prepare: a call without cross-talk; what the provider can hear is the mixdown ffmpeg makes, (L + R) / 2
    const quiet = buildStereoCall({ seed: 33, durationSeconds: 60, bargeInSeconds: 0 });
    const mixdown = mixdownOf(quiet);
    harness.provider.addRecording(mixdown);
    const file = join(harness.workDir, "mixed.wav");
    writeFileSync(file, stereoWavBytes(quiet));

    // Act
    const run = await harness.transcribe(file, {}, "verbose_json");

    // Assess
    expect(run.code, run.stderr).toBe(0);
    const transcript = JSON.parse(run.stdout) as Transcript;
    const score = scoreTranscript(mixdown, transcript);
    expect(score.wer).toBe(0);
    expect(score.speakers).toBe(2);
    expect(score.speakerAccuracy).toBeGreaterThanOrEqual(0.95);
    expect(Object.values(transcript.speaker_names ?? {})).toEqual([]);
  });
});

function mixdownOf(call: StereoCall): Recording {
  const [left, right] = call.channels;
  const samples = new Int16Array(left.samples.length);
  for (let i = 0; i < samples.length; i++) samples[i] = Math.round((left.samples[i] + right.samples[i]) / 2);
  return {
    id: `${call.id}-mixdown`,
    sampleRate: 16000,
    samples,
    words: call.words.map(({ channel: _channel, ...word }) => word),
    speakers: ["S1", "S2"],
    duration: call.duration,
    speakerVoices: [...(left.speakerVoices ?? []), ...(right.speakerVoices ?? [])],
  };
}
