/** The bench results as Markdown, with each figure next to its target. */
import type { EndToEndResult } from "./e2e.js";
import type { MemoryResult, ThroughputResult } from "./chunker.js";
import type { StitchRun } from "./stitch-child.js";

export interface BenchResults {
  command: string;
  startedAt: string;
  finishedAt?: string;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string };
  e2e?: EndToEndResult;
  throughput?: ThroughputResult;
  memory?: MemoryResult[];
  emulatorsRssMb?: number;
  stitch?: StitchRun[];
}

const f = (value: number | null | undefined, digits = 1) => (value === null || value === undefined || !Number.isFinite(value) ? "n/a" : value.toFixed(digits));
const met = (ok: boolean) => (ok ? "met" : "**not met**");

export function formatReport(r: BenchResults): string {
  const lines: string[] = [];
  const out = (line = "") => lines.push(line);
  out(`Command: \`${r.command}\`, ${r.startedAt} to ${r.finishedAt ?? "?"}`);
  out(`Machine: ${r.machine.cpus} x ${r.machine.cpuModel}, ${f(r.machine.memoryGb, 0)} GB, Node ${r.machine.node}`);
  out();

  if (r.e2e) {
    const e = r.e2e;
    out(`### 1. End to end (${f(e.input.seconds / 60, 0)} min, ${f(e.input.bytes / 2 ** 20)} MB MP3, latency ${e.latency.baseSeconds} s + ${e.latency.perAudioSecond} s/audio s, cap ${e.concurrency})`);
    out();
    out(`Plain ffmpeg decode of the object: ${f(e.decodeSeconds, 2)} s. Whole-file request: ${f(e.wholeFile.measuredSeconds)} s measured, ${f(e.wholeFile.modelSeconds)} s by the latency model alone.`);
    out();
    out("| chunk s | segments | wall s | speed factor | whole-file / wall (measured; model) | limit s | wall / limit | first request after upload s | max in flight | words |");
    out("|---|---|---|---|---|---|---|---|---|---|");
    for (const run of e.runs) {
      out(
        `| ${run.chunkSeconds} | ${run.segments} | ${f(run.wallSeconds)} | ${f(run.speedFactor, 0)}x | ${f(run.speedupMeasured)}x; ${f(run.speedupModel)}x | ${f(run.limitSeconds)} | ${f(run.vsLimit, 2)} | ${f(run.firstRequestSeconds, 2)} | ${run.requests.maxInFlight} | ${run.wordCount}/${run.expectedWords} |`,
      );
    }
    out();
    out("Wall time by stage (consecutive, seconds):");
    out();
    const stageNames = Object.keys(e.runs[0]?.stages ?? {});
    out(`| chunk s | ${stageNames.join(" | ")} |`);
    out(`|---|${stageNames.map(() => "---").join("|")}|`);
    for (const run of e.runs) out(`| ${run.chunkSeconds} | ${stageNames.map((name) => f(run.stages[name as keyof typeof run.stages], 2)).join(" | ")} |`);
    out();
    out("| chunk s | provider requests | median request s | slowest request s | longest segment s | its modelled latency s | speaker probes: requests, audio s | probes ending after the last result: count, s |");
    out("|---|---|---|---|---|---|---|---|");
    for (const run of e.runs) {
      out(
        `| ${run.chunkSeconds} | ${run.requests.count} | ${f(run.requests.medianSeconds, 2)} | ${f(run.requests.maxSeconds, 2)} | ${f(run.longestSegmentSeconds)} | ${f(run.slowestSegmentModelSeconds, 2)} | ${run.probes.count}, ${f(run.probes.audioSeconds, 0)} | ${run.probes.afterLastResult}, ${f(run.probes.tailSeconds, 2)} |`,
      );
    }
    out();
    out("CPU seconds used during each job (this machine's cores x wall = what was available):");
    out();
    out("| chunk s | pipeline process (handlers, emulators) | its ffmpeg (decode, probe) | provider process | provider's ffmpeg | total | available |");
    out("|---|---|---|---|---|---|---|");
    for (const run of e.runs) {
      const c = run.cpu;
      out(`| ${run.chunkSeconds} | ${f(c.pipeline)} | ${f(c.pipelineFfmpeg)} | ${f(c.provider)} | ${f(c.providerFfmpeg)} | ${f(c.pipeline + c.pipelineFfmpeg + c.provider + c.providerFfmpeg)} | ${f(c.available)} |`);
    }
    const best = [...e.runs].sort((a, b) => a.wallSeconds - b.wallSeconds)[0];
    if (best) {
      const speedup = best.speedupMeasured ?? best.speedupModel;
      out();
      out(`Targets (best run, ${best.chunkSeconds} s chunks): >= 20x the whole-file request: ${f(speedup)}x, ${met(speedup >= 20)}; within 1.5x of the limit: ${f(best.vsLimit, 2)}x, ${met(best.vsLimit <= 1.5)}; first segment at the provider ${f(best.firstRequestSeconds, 2)} s after the upload.`);
    }
    out();
  }

  if (r.throughput) {
    const t = r.throughput;
    out(`### 2. Chunker throughput (${f(t.input.seconds / 60, 0)} min MP3, median of ${t.reps})`);
    out();
    out("| | seconds | audio s / wall s |");
    out("|---|---|---|");
    out(`| plain ffmpeg decode (same URL, PCM to a pipe) | ${f(t.plainSeconds, 2)} | ${f(t.plainSpeed, 0)}x |`);
    out(`| chunkRecording (probe, decode, cut, encode, store, queue) | ${f(t.chunkerSeconds, 2)} | ${f(t.chunkerSpeed, 0)}x |`);
    out();
    out(`Ratio ${f(t.ratio, 2)} (target >= 0.8: ${met(t.ratio >= 0.8)}). Runs: ${t.runs.map((x) => `${f(x.plainSeconds, 1)}/${f(x.chunker.seconds, 1)} s`).join(", ")} (plain/chunker).`);
    out();
  }

  if (r.memory) {
    out("### 4. Chunker peak RSS (own process; emulators in another)");
    out();
    out("| input | MB | segments | seconds | audio s / wall s | first segment queued s | chunker peak RSS MB | at start MB | ffmpeg decode peak MB | target |");
    out("|---|---|---|---|---|---|---|---|---|---|");
    for (const m of r.memory) {
      const run = m.run;
      const target = m.label === "4 h" ? `<= 512 MB: ${met(run.maxRssMb <= 512)}` : "";
      out(
        `| ${m.label} | ${f(m.input.bytes / 2 ** 20, 0)} | ${run.segmentMessages} | ${f(run.seconds)} | ${f(m.input.seconds / run.seconds, 0)}x | ${f(run.firstSegmentSeconds, 2)} | ${f(run.maxRssMb, 0)} | ${f(run.startRssMb, 0)} | ${f(run.childPeakMb.decode, 0)} | ${target} |`,
      );
    }
    if (r.emulatorsRssMb !== undefined) out(`\nThe emulators' process (holding every uploaded file and segment) ended at ${f(r.emulatorsRssMb, 0)} MB RSS.`);
    out();
  }

  if (r.stitch) {
    out("### 3. Stitcher (parse stored results, link speakers, stitch, render 5 formats; fresh process each)");
    out();
    out("| transcript | segments | words | parse s | link s | stitch s | render s | total s | peak RSS MB (over results held) | target |");
    out("|---|---|---|---|---|---|---|---|---|---|");
    for (const s of r.stitch) {
      const target = s.hours >= 10 ? `< 2 s: ${met(s.totalSeconds < 2)}` : "";
      out(
        `| ${s.hours} h | ${s.segments} | ${s.words} | ${f(s.parseSeconds, 3)} | ${f(s.linkSeconds, 3)} | ${f(s.stitchSeconds, 3)} | ${f(s.renderSeconds, 3)} | ${f(s.totalSeconds, 2)} | ${f(s.maxRssMb, 0)} (${f(s.peakOverBaselineMb, 0)}) | ${target} |`,
      );
    }
    out();
  }
  return `${lines.join("\n")}\n`;
}
