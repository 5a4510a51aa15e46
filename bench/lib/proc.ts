/**
 * Process figures from /proc (Linux), for what Node's own counters get wrong
 * or do not cover.
 */
import { readFileSync, writeFileSync } from "node:fs";

/**
 * This process's own peak RSS in MB (VmHWM). Not resourceUsage().maxRSS: on
 * Linux that survives fork and exec, so a child forked from a 300 MB parent
 * reports at least 300 MB whatever it does itself.
 */
export function peakRssMb(pid: number | "self" = "self"): number {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const hwm = /VmHWM:\s+(\d+) kB/.exec(status);
  return hwm ? Number(hwm[1]) / 1024 : NaN;
}

/** CPU seconds of a process: its own, and that of its children it has waited for (ffmpeg runs). */
export function cpuSeconds(pid: number | "self" = "self"): { own: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  // Fields after the command name (which may hold spaces) start at field 3.
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  const ticks = 100; // USER_HZ, 100 on every mainstream Linux
  const [utime, stime, cutime, cstime] = [fields[11], fields[12], fields[13], fields[14]];
  return { own: (utime + stime) / ticks, children: (cutime + cstime) / ticks };
}

/** Starts VmHWM over from the current RSS (Linux clear_refs), so a later peakRssMb() covers only what follows. */
export function resetPeakRss(): void {
  writeFileSync("/proc/self/clear_refs", "5");
}
