import { readFileSync } from "node:fs";
import { join } from "node:path";
import { encodeRecording, type Recording } from "../audio/conversation.js";
import type { ProviderOptions } from "../provider/options.js";
import { ProviderClient } from "../../shared/provider/client.js";
import type { Transcript, TranscriptWord } from "../../shared/domain/types.js";
import type { Harness } from "./harness.js";
import { scoreTranscript, type TranscriptScore } from "./score.js";

/** The provider imperfections that matter at chunk edges, all on at once. */
export const REALISM: Partial<ProviderOptions> = {
  jitterSeconds: 0.1,
  stretchWordEnds: true,
  edgeHalfWords: 0.5,
  hallucinateTrailing: 0.5,
  perturbWords: 0.05,
};
/** Everything a test may have switched on, off again (the chunk-edge realism and the presets below). */
export const NO_REALISM: Partial<ProviderOptions> = {
  jitterSeconds: 0,
  stretchWordEnds: false,
  edgeHalfWords: 0,
  hallucinateTrailing: 0,
  hallucinateSilence: 0,
  repetitionLoops: 0,
  perturbWords: 0,
  spliceUnheard: 0,
  spliceConfused: 0,
};
/** A diarizer that handles spliced probe clips badly: misses some pieces, puts a few with another voice. */
export const NOISY_DIARIZER: Partial<ProviderOptions> = { spliceUnheard: 0.15, spliceConfused: 0.05 };
/** Whisper at its worst over silence: a stock phrase in every pause of 2 s or more, and a loop in half the uploads with 5 s or more. */
export const SILENCE_HALLUCINATIONS: Partial<ProviderOptions> = { hallucinateSilence: 1, repetitionLoops: 0.5 };

export interface FidelityRun {
  chunkSeconds: number;
  overlapSeconds: number;
  /** Switches the provider's realism first; undefined keeps its current configuration. */
  realism?: boolean;
  flags?: Record<string, string | boolean>;
}

export interface FidelityResult extends TranscriptScore {
  segments: number;
  audioSecondsBilled: number;
  status: string;
}

/** Encodes a recording once per harness (lossless, so the provider sees exactly its samples). */
export async function recordingFile(harness: Harness, recording: Recording): Promise<string> {
  const file = join(harness.workDir, `${recording.id}.flac`);
  try {
    readFileSync(file, { flag: "r" });
  } catch {
    await encodeRecording(recording, file, "flac");
  }
  return file;
}

/** One pipeline run of a recording at a chunking setting, scored against the truth. */
export async function runChunked(harness: Harness, recording: Recording, run: FidelityRun): Promise<FidelityResult> {
  harness.provider.addRecording(recording);
  if (run.realism !== undefined) harness.provider.configure(run.realism ? REALISM : NO_REALISM);
  const file = await recordingFile(harness, recording);
  const before = harness.provider.stats().audioSecondsBilled;
  const result = await harness.transcribe(
    file,
    { "chunk-seconds": String(run.chunkSeconds), "overlap-seconds": String(run.overlapSeconds), ...run.flags },
    "verbose_json",
  );
  if (result.code !== 0 || !result.verbose) {
    return { ...emptyScore(), segments: result.job?.segmentCount ?? 0, audioSecondsBilled: 0, status: result.job?.error ?? "failed" };
  }
  return {
    ...scoreTranscript(recording, result.verbose),
    segments: result.job?.segmentCount ?? 0,
    audioSecondsBilled: harness.provider.stats().audioSecondsBilled - before,
    status: "COMPLETED",
  };
}

/** The reference: the whole file in one provider request, scored the same way. */
export async function runWholeFile(harness: Harness, recording: Recording, realism?: boolean): Promise<TranscriptScore> {
  harness.provider.addRecording(recording);
  if (realism !== undefined) harness.provider.configure(realism ? REALISM : NO_REALISM);
  harness.provider.configure({ maxUploadBytes: 600 * 1024 * 1024 });
  const file = await recordingFile(harness, recording);
  const client = new ProviderClient({
    baseUrl: harness.provider.url,
    apiKey: async () => harness.provider.apiKey,
    timeoutMs: 600_000,
    maxAttempts: 3,
  });
  const answer = await client.transcribe({
    audio: readFileSync(file),
    filename: "whole.flac",
    audioSeconds: recording.duration,
    model: "openai/whisper-large-v3",
    task: "transcribe",
    diarize: true,
  });
  const words: TranscriptWord[] = (answer.words ?? []).map((w) => ({ word: w.word, start: w.start, end: w.end, speaker_id: w.speaker ?? null }));
  const transcript: Transcript = {
    text: answer.text,
    language: answer.language ?? null,
    duration: recording.duration,
    words,
    segments: [],
    speakers: answer.speakers,
  };
  return scoreTranscript(recording, transcript);
}

function emptyScore(): TranscriptScore {
  return { wer: 1, meanStartError: Number.NaN, speakerAccuracy: 0, speakers: 0, words: 0 };
}
