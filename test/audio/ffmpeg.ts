import { spawn, execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { SAMPLE_RATE } from "../../shared/audio/ffmpeg.js";

const require = createRequire(import.meta.url);

/** The static ffmpeg shipped by @ffmpeg-installer, so tests need no system ffmpeg. */
export const ffmpegPath: string = (require("@ffmpeg-installer/ffmpeg") as { path: string }).path;

/** All test audio is handled as 16 kHz mono signed 16-bit: what the chunker produces and what Whisper hears. */
export { SAMPLE_RATE };

const quiet = ["-hide_banner", "-loglevel", "error", "-nostdin"];

/** Decodes any file ffmpeg understands to 16 kHz mono s16le samples, blocking (for one-off loads). */
export function decodeFileToPcmSync(path: string): Int16Array {
  const output = execFileSync(
    ffmpegPath,
    [...quiet, "-i", path, "-vn", "-ac", "1", "-ar", String(SAMPLE_RATE), "-f", "s16le", "-"],
    { maxBuffer: 1 << 30 },
  );
  return bufferToSamples(output);
}

/** Runs ffmpeg with optional stdin bytes and returns stdout; rejects with ffmpeg's stderr on failure. */
export function runFfmpeg(args: string[], stdin?: Uint8Array): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegPath, [...quiet, ...args], { stdio: ["pipe", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
    child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
    child.on("error", reject);
    // ffmpeg may exit before reading all of stdin (bad input): that EPIPE is reported through the exit code.
    child.stdin.on("error", () => undefined);
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`ffmpeg exited with ${code}: ${Buffer.concat(err).toString().trim().slice(-500)}`));
    });
    if (stdin) child.stdin.end(stdin);
    else child.stdin.end();
  });
}

/** Views s16le bytes as samples; copies only when the buffer is not 2-byte aligned. */
export function bufferToSamples(bytes: Buffer): Int16Array {
  const usable = bytes.byteLength - (bytes.byteLength % 2);
  if (bytes.byteOffset % 2 === 0) return new Int16Array(bytes.buffer, bytes.byteOffset, usable / 2);
  return new Int16Array(new Uint8Array(bytes.subarray(0, usable)).buffer);
}

export function samplesToBuffer(samples: Int16Array): Buffer {
  return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
}
