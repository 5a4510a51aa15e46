import { createRequire } from "node:module";
import { PermanentError } from "../errors.js";

const require = createRequire(import.meta.url);

export interface FfmpegPaths {
  ffmpeg: string;
  ffprobe: string;
}

/**
 * In Lambda the binaries come from a layer (/opt/bin, set by env); locally
 * from the npm packages that ship static builds, so nothing needs apt.
 */
export function ffmpegPaths(overrides: Partial<FfmpegPaths> = {}): FfmpegPaths {
  return {
    ffmpeg: overrides.ffmpeg ?? (require("@ffmpeg-installer/ffmpeg") as { path: string }).path,
    ffprobe: overrides.ffprobe ?? (require("@ffprobe-installer/ffprobe") as { path: string }).path,
  };
}

/** The sample format every stage works in: what speech models want. */
export const SAMPLE_RATE = 16_000;
export const BYTES_PER_SAMPLE = 2;

// ---- Reading untrusted input -------------------------------------------------------------------------------
// Every object in the input bucket is user-supplied. ffmpeg will happily follow a playlist (hls), a concat
// list or a `data:`/`file:` reference inside it, so each process is told which protocols it may open (only
// the one the URL itself needs), how much it may read to guess the format, and, for the decoder, which
// demuxer to use: the one ffprobe found, if it is on the allowlist below.

/**
 * Demuxers (ffprobe `format_name`, exactly as ffmpeg spells them) accepted as input: audio formats and the
 * common video containers. Playlists (hls, dash), lists (concat), images, `data`, `lavfi` and the many
 * obscure demuxers are not on it.
 */
export const DEMUXER_ALLOWLIST = [
  "wav", "w64", "mp3", "aac", "flac", "ogg", "aiff", "caf", "amr", "au", "wv", "asf",
  "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm", "avi", "flv", "mpegts", "mpeg",
] as const;

/** ffprobe and the decoder read at most this much to identify the format and its streams (ffmpeg's default). */
export const PROBE_SIZE_BYTES = 5_000_000;
/** ...and analyse at most this much of the stream (microseconds): 10 s. */
export const ANALYZE_DURATION_US = 10_000_000;

/**
 * Protocols an input may use: https (and what it is built on) for a presigned S3 URL; http only when the
 * URL itself is http (the local stack's emulator); a plain path reads that one file. Never data, concat,
 * subfile, crypto or the rest: nested opens (a playlist's entries) inherit this list.
 */
export function protocolWhitelist(input: string): string {
  if (/^https:\/\//i.test(input)) return "https,tls,tcp";
  if (/^http:\/\//i.test(input)) return "http,tcp";
  if (input === "-" || /^pipe:/i.test(input)) return "pipe";
  if (/^[a-z][a-z0-9+.-]*:/i.test(input) && !/^[a-z]:[\\/]/i.test(input)) {
    throw new PermanentError("unsupported_input", "the input is neither a file nor an http(s) URL");
  }
  return "file";
}

/** The options every ffmpeg/ffprobe process reading `input` gets, placed before its `-i`. */
export function inputGuardArgs(input: string): string[] {
  return [
    "-protocol_whitelist", protocolWhitelist(input),
    "-probesize", String(PROBE_SIZE_BYTES),
    "-analyzeduration", String(ANALYZE_DURATION_US),
  ];
}

/**
 * The demuxer to force when decoding a probed input: the first name of an allowlisted `format_name`
 * (ffmpeg matches `-f mov` against "mov,mp4,m4a,3gp,3g2,mj2"). Anything else is a permanent failure.
 */
export function demuxerFor(formatName: string): string {
  if (!(DEMUXER_ALLOWLIST as readonly string[]).includes(formatName)) {
    throw new PermanentError("unsupported_container", `unsupported container ${oneLine(formatName).slice(0, 60) || "(unknown)"}`);
  }
  return formatName.split(",")[0];
}

/**
 * One line of ffmpeg's stderr fit for a job record: the input (a presigned URL with its signature) and any
 * other URL replaced by "input", the `[demuxer @ 0x…]` prefix dropped.
 */
export function scrubbedLine(line: string, input: string): string {
  let text = input ? line.split(input).join("input") : line;
  text = text.replace(/\b[a-z][a-z0-9+.-]*:\/\/\S+/gi, "input");
  return oneLine(text.replace(/^\[[^\]]*\]\s*/, ""));
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, " ").trim();
}
