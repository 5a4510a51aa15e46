/** Puts test recordings on disk: as WAV directly, in any upload format through ffmpeg, or inside video. */
import { wavBytes as pipelineWavBytes } from "../../shared/audio/wav.js";
import { writeFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { extname, join } from "node:path";
import { runFfmpeg, SAMPLE_RATE, samplesToBuffer } from "./ffmpeg.js";
import type { Recording } from "./recording.js";

export type AudioFormat = "mp3" | "m4a" | "webm" | "ogg" | "opus" | "flac" | "wav";

export interface EncodeOptions {
  /** Lossy formats only (ogg/vorbis uses a fixed quality instead); default 64, the low end of what clients send. */
  bitrateKbps?: number;
  /** Output sample rate; default 16000. Opus accepts only 8/12/16/24/48 kHz. */
  sampleRate?: number;
  /** Default 1; 2 duplicates the mono signal. */
  channels?: 1 | 2;
}

export function writeWav(path: string, recording: Pick<Recording, "samples">): void {
  writeFileSync(path, wavBytes(recording.samples));
}

/** The pipeline's own WAV writer, for a recording's samples. */
export function wavBytes(samples: Int16Array, sampleRate = SAMPLE_RATE): Buffer {
  return pipelineWavBytes(samples, sampleRate);
}

const CODEC_ARGS: Record<AudioFormat, (kbps: number) => string[]> = {
  mp3: (kbps) => ["-c:a", "libmp3lame", "-b:a", `${kbps}k`, "-f", "mp3"],
  m4a: (kbps) => ["-c:a", "aac", "-b:a", `${kbps}k`, "-f", "ipod"],
  webm: (kbps) => ["-c:a", "libopus", "-b:a", `${kbps}k`, "-f", "webm"],
  // libvorbis rejects most fixed bitrates at 16 kHz; a quality level works at every rate.
  ogg: () => ["-c:a", "libvorbis", "-q:a", "4", "-f", "ogg"],
  opus: (kbps) => ["-c:a", "libopus", "-b:a", `${kbps}k`, "-f", "opus"],
  flac: () => ["-c:a", "flac", "-f", "flac"],
  wav: () => ["-c:a", "pcm_s16le", "-f", "wav"],
};

/** Encodes a recording (or any 16 kHz mono samples) to a file in the given format. */
export async function encodeRecording(
  recording: Pick<Recording, "samples">,
  path: string,
  format: AudioFormat,
  options: EncodeOptions = {},
): Promise<void> {
  await runFfmpeg(
    [
      "-y", ...rawInput(),
      "-ar", String(options.sampleRate ?? SAMPLE_RATE), "-ac", String(options.channels ?? 1),
      ...CODEC_ARGS[format](options.bitrateKbps ?? 64), path,
    ],
    samplesToBuffer(recording.samples),
  );
}

/**
 * Same as encodeRecording but returns the bytes, for uploads built in memory. Goes through a file:
 * MP4 must seek back to write its index, and MP3 only gets its gapless (encoder delay) header then.
 */
export async function encodeToBytes(
  recording: Pick<Recording, "samples">,
  format: AudioFormat,
  options: EncodeOptions = {},
): Promise<Buffer> {
  const dir = await mkdtemp(join(tmpdir(), "encode-"));
  try {
    const path = join(dir, `audio.${format}`);
    await encodeRecording(recording, path, format, options);
    return await readFile(path);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A video file with a test pattern and no audio stream: the pipeline must reject it cleanly. */
export async function makeVideoWithoutAudio(path: string, seconds: number): Promise<void> {
  await runFfmpeg(["-y", ...testPattern(seconds), ...videoCodec(path), "-an", path]);
}

/** A video file whose audio track is the recording: the pipeline should transcribe the track. */
export async function makeVideoWithAudio(path: string, recording: Recording): Promise<void> {
  await runFfmpeg(
    [
      "-y", ...testPattern(recording.duration), ...rawInput(),
      "-map", "0:v", "-map", "1:a", ...videoCodec(path), "-c:a", audioCodecForVideo(path), "-shortest", path,
    ],
    samplesToBuffer(recording.samples),
  );
}

function rawInput(): string[] {
  return ["-f", "s16le", "-ar", String(SAMPLE_RATE), "-ac", "1", "-i", "-"];
}

function testPattern(seconds: number): string[] {
  return ["-f", "lavfi", "-i", `testsrc=size=160x120:rate=10:duration=${seconds.toFixed(3)}`];
}

function videoCodec(path: string): string[] {
  return extname(path).toLowerCase() === ".webm" ? ["-c:v", "libvpx"] : ["-c:v", "libx264", "-pix_fmt", "yuv420p"];
}

function audioCodecForVideo(path: string): string {
  return extname(path).toLowerCase() === ".webm" ? "libopus" : "aac";
}
