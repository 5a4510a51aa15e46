/**
 * Peak RSS of this process's child processes (ffmpeg, ffprobe), sampled from
 * /proc: Node's resourceUsage() covers only the process itself. VmHWM is the
 * kernel's own high-water mark, so a sample taken late in a child's life
 * still sees its peak; children that live less than one interval may be
 * missed (the short FLAC encoders), which the report says.
 */
import { readFileSync } from "node:fs";

export interface ChildPeaks {
  /** Peak RSS in MB per kind of child ("decode", "encode", "probe", "other"), the largest seen. */
  peakMb: Record<string, number>;
  sampled: Record<string, number>;
}

export function watchChildRss(classify: (cmdline: string[]) => string, intervalMs = 100): { stop(): ChildPeaks } {
  const peaks: ChildPeaks = { peakMb: {}, sampled: {} };
  const seen = new Set<number>();
  const sample = () => {
    let children: number[];
    try {
      children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return; // not Linux, or no /proc: the report shows no child figures
    }
    for (const pid of children) {
      try {
        const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0");
        const status = readFileSync(`/proc/${pid}/status`, "utf8");
        const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
        if (!hwm) continue;
        const kind = classify(cmdline);
        const mb = Number(hwm[1]) / 1024;
        peaks.peakMb[kind] = Math.max(peaks.peakMb[kind] ?? 0, mb);
        if (!seen.has(pid)) {
          seen.add(pid);
          peaks.sampled[kind] = (peaks.sampled[kind] ?? 0) + 1;
        }
      } catch {
        // exited between the listing and the read
      }
    }
  };
  const timer = setInterval(sample, intervalMs);
  sample();
  return {
    stop() {
      sample();
      clearInterval(timer);
      return peaks;
    },
  };
}

/** What an ffmpeg child of the chunker is doing, from its arguments. */
export function ffmpegKind(cmdline: string[]): string {
  const line = cmdline.join(" ");
  if (/ffprobe/.test(cmdline[0] ?? "")) return "probe";
  if (line.includes("-c:a flac")) return "encode";
  if (line.includes("s16le") && line.includes("pipe:1")) return "decode";
  return "other";
}
