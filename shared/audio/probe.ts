import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { PermanentError } from "../errors.js";
import { DEMUXER_ALLOWLIST, demuxerFor, inputGuardArgs, scrubbedLine } from "./ffmpeg.js";

const run = promisify(execFile);

export interface ProbeResult {
  formatName: string;
  /** The demuxer the decoder is told to use (`-f`): decided here, from the allowlist. */
  demuxer: string;
  /** Seconds; may be missing for streams without a duration (then decoding decides). */
  duration?: number;
  audio: { codec: string; sampleRate: number; channels: number };
  hasVideo: boolean;
}

/** Wall-clock budget of one ffprobe run: with bounded probing it needs well under a second of a healthy URL. */
export const PROBE_TIMEOUT_MS = 60_000;
/** Above these a header is lying (or the file is built to make the resampler work): no real recording has them. */
export const MAX_SAMPLE_RATE = 768_000;
export const MAX_CHANNELS = 64;

/**
 * ffprobe's arguments: bounded probing, only the URL's own protocol, and only allowlisted demuxers
 * (`-format_whitelist`), so a playlist or concat list disguised as `.mp3` is refused before it opens anything.
 */
export function probeArgs(input: string): string[] {
  return [
    "-v", "error", ...inputGuardArgs(input),
    "-format_whitelist", DEMUXER_ALLOWLIST.join(","),
    "-show_format", "-show_streams", "-of", "json", input,
  ];
}

/** Reads what the file holds; anything without a decodable audio stream is a permanent, clearly-worded failure. */
export async function probeMedia(ffprobe: string, input: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<ProbeResult> {
  let stdout: string;
  try {
    ({ stdout } = await run(ffprobe, probeArgs(input), { maxBuffer: 16 * 1024 * 1024, timeout: timeoutMs, killSignal: "SIGKILL" }));
  } catch (error) {
    throw probeFailure(error as { stderr?: string; killed?: boolean; signal?: string | null }, input, timeoutMs);
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
  const formatName = info.format?.format_name ?? "unknown";
  const demuxer = demuxerFor(formatName);
  const sampleRate = Number(audio.sample_rate ?? 0);
  const channels = audio.channels ?? 0;
  if (sampleRate > MAX_SAMPLE_RATE) throw new PermanentError("bad_header", `the audio header gives an implausible sample rate (${sampleRate} Hz)`);
  if (channels > MAX_CHANNELS) throw new PermanentError("bad_header", `the audio header gives an implausible channel count (${channels})`);
  const duration = Number(info.format?.duration ?? audio.duration);
  return {
    formatName,
    demuxer,
    duration: Number.isFinite(duration) && duration >= 0 ? duration : undefined,
    audio: { codec: audio.codec_name ?? "unknown", sampleRate, channels },
    hasVideo,
  };
}

/** Exported for tests: the permanent error an ffprobe failure becomes. */
export function probeFailure(
  error: { stderr?: string; killed?: boolean; signal?: string | null },
  input: string,
  timeoutMs: number,
): PermanentError {
  if (error.killed || error.signal === "SIGKILL") {
    return new PermanentError("probe_timeout", `reading the file's format took longer than ${Math.round(timeoutMs / 1000)} s`);
  }
  const lines = String(error.stderr ?? "").split("\n").map((l) => l.trim()).filter(Boolean);
  // -format_whitelist refuses in ffmpeg's words ("[hls @ 0x…] Format not on whitelist '…'"); name the container instead.
  for (const line of lines) {
    const refused = /^\[([^\s@\]]+) @ [^\]]*\] Format not on whitelist/.exec(line);
    if (refused) return new PermanentError("unsupported_container", `unsupported container ${refused[1]}`);
  }
  // ffprobe names its input in the message; that is a presigned URL with a signature, never to be stored.
  const last = lines.pop() ?? "";
  const detail = scrubbedLine(last.split(input).join("input").replace(/^.*?:\s*/, ""), input) || "unreadable";
  return new PermanentError("not_media", `not a readable audio or video file (${detail})`);
}
