/**
 * `npm run bench` (everything, ~15 min on 2 cores) or `npm run bench -- --quick`
 * (a smaller subset, ~3 min). Prints a Markdown report (the figures in
 * BENCHMARKS.md come from it) and writes the raw results as JSON next to it.
 *
 *   --quick            smaller inputs, fewer repetitions, no measured whole-file request
 *   --only=e2e,chunker,memory,stitch   run some sections only
 *   --json=PATH        where to write the raw results (default bench/results/latest.json)
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { cpus, totalmem } from "node:os";
import { runEndToEnd, type EndToEndResult } from "./e2e.js";
import { ChunkerBench, type MemoryResult, type ThroughputResult } from "./chunker.js";
import { benchStitch } from "./stitch.js";
import type { StitchRun } from "./stitch-child.js";
import { conversationMp3, loopedMp3 } from "./lib/inputs.js";
import { formatReport, type BenchResults } from "./report.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export interface BenchPlan {
  quick: boolean;
  sections: Set<string>;
}

const HOUR = { seed: 7, voices: 4, durationSeconds: 3600 } as const;
const TEN_MINUTES = { seed: 7, voices: 4, durationSeconds: 600 } as const;
const WARM_UP = { seed: 8, voices: 4, durationSeconds: 120 } as const;
const LATENCY = { baseSeconds: 0.5, perAudioSecond: 0.04 };
const OVERLAP = 4;

export async function runBench(plan: BenchPlan, log: (line: string) => void = (line) => process.stderr.write(`${line}\n`)): Promise<BenchResults> {
  const results: BenchResults = {
    command: `npm run bench${plan.quick ? " -- --quick" : ""}`,
    startedAt: new Date().toISOString(),
    machine: { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", memoryGb: totalmem() / 2 ** 30, node: process.version },
  };
  const want = (section: string) => plan.sections.size === 0 || plan.sections.has(section);

  if (want("e2e")) {
    log("e2e: a 4-voice conversation through the local stack ...");
    results.e2e = await runEndToEnd({
      conversation: plan.quick ? TEN_MINUTES : HOUR,
      chunkSeconds: ["auto", 120],
      overlapSeconds: OVERLAP,
      concurrency: 32,
      latency: LATENCY,
      wholeFile: !plan.quick,
      warmUp: WARM_UP,
    });
  }

  if (want("chunker") || want("memory")) {
    const hour = await conversationMp3(HOUR);
    const bench = await ChunkerBench.start({ chunkSeconds: 120, overlapSeconds: OVERLAP });
    try {
      if (want("chunker")) {
        log("chunker: throughput against plain ffmpeg decoding ...");
        results.throughput = await bench.throughput(hour, plan.quick ? 1 : 3);
      }
      if (want("memory")) {
        const memory: MemoryResult[] = [];
        for (const hours of plan.quick ? [4] : [4, 24]) {
          log(`chunker: peak RSS on a ${hours}-hour file ...`);
          memory.push(await bench.memory(`${hours} h`, await loopedMp3(hour, hours)));
        }
        results.memory = memory;
        results.emulatorsRssMb = await bench.emulatorsRssMb();
      }
    } finally {
      await bench.stop();
    }
  }

  if (want("stitch")) {
    const stitch: StitchRun[] = [];
    for (const hours of [1, 10]) {
      log(`stitcher: a ${hours}-hour transcript ...`);
      stitch.push(await benchStitch({ hours, chunkSeconds: 120, overlapSeconds: OVERLAP, seed: 1 }));
    }
    results.stitch = stitch;
  }
  results.finishedAt = new Date().toISOString();
  return results;
}

function parseArgs(argv: string[]): BenchPlan & { json: string } {
  const only = argv.find((a) => a.startsWith("--only="))?.slice("--only=".length);
  const json = argv.find((a) => a.startsWith("--json="))?.slice("--json=".length);
  return {
    quick: argv.includes("--quick"),
    sections: new Set(only ? only.split(",") : []),
    json: json ?? fileURLToPath(new URL("./results/latest.json", import.meta.url)),
  };
}

async function main(): Promise<void> {
  const plan = parseArgs(process.argv.slice(2));
  const started = performance.now();
  const results = await runBench(plan);
  mkdirSync(dirname(plan.json), { recursive: true });
  writeFileSync(plan.json, JSON.stringify(results, null, 2));
  process.stdout.write(formatReport(results));
  process.stderr.write(`\nbench finished in ${((performance.now() - started) / 60000).toFixed(1)} min; raw results in ${plan.json}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}

export type { EndToEndResult, ThroughputResult, MemoryResult, StitchRun };
