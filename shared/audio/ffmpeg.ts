import { createRequire } from "node:module";

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
