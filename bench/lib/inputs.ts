/**
 * Bench inputs, generated once and cached on disk: encoding an hour of
 * generated speech to MP3 takes longer than most benchmarks it feeds.
 * Long inputs (4 h, 24 h) are the same hour looped with stream copy, which
 * costs only the bytes written.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, renameSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildConversation, encodeRecording, type ConversationSpec } from "../../test/audio/conversation.js";
import { ffmpegPath, runFfmpeg } from "../../test/audio/ffmpeg.js";

export const CACHE_DIR = process.env.STT_BENCH_CACHE ?? join(tmpdir(), "stt-bench-cache");

export interface InputFile {
  path: string;
  seconds: number;
  bytes: number;
}

function cached(name: string): string {
  mkdirSync(CACHE_DIR, { recursive: true });
  return join(CACHE_DIR, name);
}

function specName(spec: ConversationSpec): string {
  return `conv-s${spec.seed}-v${spec.voices}-${spec.style ?? "meeting"}-${spec.durationSeconds}s`;
}

/** A generated conversation as MP3 (16 kHz mono, the bitrate given): what the e2e benchmark uploads. */
export async function conversationMp3(spec: ConversationSpec, bitrateKbps = 64): Promise<InputFile> {
  const path = cached(`${specName(spec)}-${bitrateKbps}k.mp3`);
  if (!existsSync(path)) {
    const recording = buildConversation(spec);
    const partial = `${path}.partial.mp3`;
    await encodeRecording(recording, partial, "mp3", { bitrateKbps });
    renameSync(partial, path);
  }
  return { path, seconds: spec.durationSeconds, bytes: statSync(path).size };
}

/** The file looped `times` times without re-encoding: a long recording for the price of a short one. */
export async function loopedMp3(base: InputFile, times: number): Promise<InputFile> {
  if (times === 1) return base;
  const path = base.path.replace(/\.mp3$/, `-x${times}.mp3`);
  if (!existsSync(path)) {
    const partial = `${path}.partial.mp3`;
    await runFfmpeg(["-y", "-stream_loop", String(times - 1), "-i", base.path, "-c", "copy", "-f", "mp3", partial]);
    renameSync(partial, path);
  }
  return { path, seconds: base.seconds * times, bytes: statSync(path).size };
}

/**
 * Plain ffmpeg decoding of an input (a path or URL) to the pipeline's PCM
 * format, with the chunker's own decode arguments, written nowhere: the
 * ceiling for anything that decodes the same file.
 */
export function plainDecodeSeconds(input: string): Promise<number> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(
      ffmpegPath,
      ["-v", "error", "-nostdin", "-i", input, "-map", "0:a:0", "-vn", "-ac", "1", "-ar", "16000", "-f", "s16le", "-acodec", "pcm_s16le", "pipe:1"],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    let stderr = "";
    child.stdout.resume();
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve((performance.now() - started) / 1000);
      else reject(new Error(`plain decode failed (${code}): ${stderr.trim().slice(-300)}`));
    });
  });
}

export { ffmpegPath };
