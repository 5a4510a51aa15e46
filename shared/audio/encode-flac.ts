import { spawn } from "node:child_process";
import { SAMPLE_RATE } from "./ffmpeg.js";

/** Encodes 16 kHz mono s16le PCM as FLAC in memory: lossless and about half the size for the provider upload. */
export function encodeFlac(ffmpeg: string, pcm: Buffer): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      ffmpeg,
      ["-v", "error", "-f", "s16le", "-ar", String(SAMPLE_RATE), "-ac", "1", "-i", "pipe:0", "-c:a", "flac", "-compression_level", "5", "-f", "flac", "pipe:1"],
      { stdio: ["pipe", "pipe", "pipe"] },
    );
    const out: Buffer[] = [];
    let err = "";
    child.stdout.on("data", (d: Buffer) => out.push(d));
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code === 0) resolve(Buffer.concat(out));
      else reject(new Error(`ffmpeg flac encode failed (${code}): ${err.trim().slice(0, 300)}`));
    });
    child.stdin.on("error", () => undefined);
    child.stdin.end(pcm);
  });
}
