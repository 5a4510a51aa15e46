import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { PermanentError } from "../errors.js";

const run = promisify(execFile);

export interface ProbeResult {
  formatName: string;
  /** Seconds; may be missing for streams without a duration (then decoding decides). */
  duration?: number;
  audio: { codec: string; sampleRate: number; channels: number };
  hasVideo: boolean;
}

/** Reads what the file holds; anything without a decodable audio stream is a permanent, clearly-worded failure. */
export async function probeMedia(ffprobe: string, input: string): Promise<ProbeResult> {
  let stdout: string;
  try {
    ({ stdout } = await run(
      ffprobe,
      ["-v", "error", "-show_format", "-show_streams", "-of", "json", input],
      { maxBuffer: 16 * 1024 * 1024, timeout: 120_000 },
    ));
  } catch (error) {
    // ffprobe names its input in the message; that is a presigned URL with a signature, never to be stored.
    const stderr = String((error as { stderr?: string }).stderr ?? "").split(input).join("input").trim();
    const detail = stderr.split("\n").pop()?.replace(/^.*?:\s*/, "") || "unreadable";
    throw new PermanentError("not_media", `not a readable audio or video file (${detail})`);
  }
  const info = JSON.parse(stdout) as {
    format?: { format_name?: string; duration?: string };
    streams?: Array<{ codec_type?: string; codec_name?: string; sample_rate?: string; channels?: number; duration?: string }>;
  };
  const streams = info.streams ?? [];
  const audio = streams.find((s) => s.codec_type === "audio");
  const hasVideo = streams.some((s) => s.codec_type === "video" && s.codec_name !== "mjpeg" && s.codec_name !== "png");
  if (!audio) {
    throw new PermanentError(
      "no_audio_stream",
      hasVideo ? "the file has video but no audio track" : "the file has no audio stream",
    );
  }
  const duration = Number(info.format?.duration ?? audio.duration);
  return {
    formatName: info.format?.format_name ?? "unknown",
    duration: Number.isFinite(duration) ? duration : undefined,
    audio: { codec: audio.codec_name ?? "unknown", sampleRate: Number(audio.sample_rate ?? 0), channels: audio.channels ?? 0 },
    hasVideo,
  };
}
