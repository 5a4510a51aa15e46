process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { buildConversation } from "../test/audio/conversation.js";
import { startHarness } from "../test/support/harness.js";
import { NOISY_DIARIZER, NO_REALISM, REALISM, runChunked } from "../test/support/fidelity.js";

/**
 * `npm run bench:speakers [-- --provider-seeds=1-8 --conversations=44-48 --quick]`: speaker labels under a
 * noisy diarizer, swept over seeds. One label per voice depends on which probe clips the diarizer gets wrong,
 * and so on the provider's draws and on the order segments finish in: one run says little, a sweep says how
 * often a job comes out wrong. Each run is a 6-minute meeting of four voices, one of them away from 80 s to
 * 280 s (as the skipped case in test/e2e/fidelity.test.ts), through the real pipeline on the local stack, in
 * 20 s segments with 4 s overlap, the ground-truth provider with realism on and a noisy diarizer on probe
 * clips (15 % of pieces unlabelled, 5 % put with another voice). A fresh stack per provider seed. Writes the
 * "Speaker labels under a noisy diarizer" section of BENCHMARKS.md.
 */
export interface NoisySpeakersOptions {
  providerSeeds: number[];
  conversationSeeds: number[];
  durationSeconds: number;
}

export interface NoisySpeakersRun {
  providerSeed: number;
  conversationSeed: number;
  status: string;
  speakers: number;
  speakerAccuracy: number;
  wer: number;
  /** Provider audio seconds (segments and probes) over the recording's. */
  billed: number;
}

export interface NoisySpeakersFigures {
  runs: NoisySpeakersRun[];
  /** Runs under 98 % speaker accuracy (the e2e case's bar). */
  under98: number;
  meanAccuracy: number;
  worstAccuracy: number;
  /** Runs that found another number of voices than four. */
  wrongCount: number;
  meanBilled: number;
}

const VOICES = 4;
const ACCURACY_BAR = 0.98;

export async function runNoisySpeakers(options: NoisySpeakersOptions, progress: (line: string) => void = () => undefined): Promise<NoisySpeakersFigures> {
  const runs: NoisySpeakersRun[] = [];
  for (const providerSeed of options.providerSeeds) {
    const harness = await startHarness({ transcriberConcurrency: 12, providerSeed });
    try {
      for (const conversationSeed of options.conversationSeeds) {
        const recording = buildConversation({
          seed: conversationSeed,
          voices: VOICES,
          durationSeconds: options.durationSeconds,
          style: "meeting",
          absences: [{ speaker: 4, fromSeconds: options.durationSeconds * (80 / 360), toSeconds: options.durationSeconds * (280 / 360) }],
        });
        harness.provider.configure({ ...NO_REALISM, ...REALISM, perturbWords: 0, ...NOISY_DIARIZER });
        const r = await runChunked(harness, recording, { chunkSeconds: 20, overlapSeconds: 4 });
        const run: NoisySpeakersRun = {
          providerSeed,
          conversationSeed,
          status: r.status,
          speakers: r.speakers,
          speakerAccuracy: r.speakerAccuracy,
          wer: r.wer,
          billed: r.audioSecondsBilled / recording.duration,
        };
        runs.push(run);
        progress(`provider seed ${providerSeed}, conversation ${conversationSeed}: ${(run.speakerAccuracy * 100).toFixed(1)} %, ${run.speakers} voices`);
      }
    } finally {
      await harness.close();
    }
  }
  const accuracies = runs.map((r) => r.speakerAccuracy);
  return {
    runs,
    under98: accuracies.filter((a) => a < ACCURACY_BAR).length,
    meanAccuracy: accuracies.reduce((a, b) => a + b, 0) / Math.max(1, runs.length),
    worstAccuracy: Math.min(...accuracies),
    wrongCount: runs.filter((r) => r.speakers !== VOICES).length,
    meanBilled: runs.reduce((a, r) => a + r.billed, 0) / Math.max(1, runs.length),
  };
}

export function formatNoisySpeakers(f: NoisySpeakersFigures, command: string, minutes: string): string {
  const pct = (x: number) => `${(x * 100).toFixed(1)} %`;
  const below = f.runs.filter((r) => r.speakerAccuracy < ACCURACY_BAR || r.speakers !== VOICES || r.status !== "COMPLETED");
  return [
    "<!-- noisy-speakers:start -->",
    "## Speaker labels under a noisy diarizer",
    "",
    `Command: \`${command}\` (${minutes} min on this 2-core machine, ${new Date().toISOString().slice(0, 10)}).`,
    "A sweep, because one run says little: which probe clips a noisy diarizer gets wrong depends on the provider's",
    "draws and on the order segments finish in. Each run: a 6-minute meeting of four voices, one away from 80 s to",
    "280 s, 20 s segments with 4 s overlap, realism on, and in probe clips 15 % of the pieces unlabelled and 5 % put",
    "with another voice (a fresh local stack per provider seed). Speaker accuracy under the best one-to-one mapping.",
    "",
    "| runs | completed | under 98 % | mean accuracy | worst | another number of voices | billed (mean) |",
    "|---|---|---|---|---|---|---|",
    `| ${f.runs.length} | ${f.runs.filter((r) => r.status === "COMPLETED").length} | ${f.under98} | ${pct(f.meanAccuracy)} | ${pct(f.worstAccuracy)} | ${f.wrongCount} | ${f.meanBilled.toFixed(2)}x |`,
    "",
    below.length === 0
      ? "Every run at 98 % or more, with four voices."
      : `Runs under the bar: ${below.map((r) => `provider seed ${r.providerSeed} / conversation ${r.conversationSeed}: ${pct(r.speakerAccuracy)}, ${r.speakers} voices`).join("; ")}.`,
    "<!-- noisy-speakers:end -->",
  ].join("\n");
}

function seeds(arg: string | undefined, fallback: number[]): number[] {
  if (!arg) return fallback;
  const range = /^(\d+)-(\d+)$/.exec(arg);
  if (range) return Array.from({ length: Number(range[2]) - Number(range[1]) + 1 }, (_, i) => Number(range[1]) + i);
  return arg.split(",").map(Number);
}

async function main(): Promise<void> {
  const arg = (name: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
  const quick = process.argv.includes("--quick");
  const options: NoisySpeakersOptions = {
    providerSeeds: seeds(arg("provider-seeds"), quick ? [1, 2] : [1, 2, 3, 4, 5, 6, 7, 8]),
    conversationSeeds: seeds(arg("conversations"), quick ? [44] : [44, 45, 46, 47, 48]),
    durationSeconds: 360,
  };
  const started = Date.now();
  const figures = await runNoisySpeakers(options, (line) => process.stderr.write(`${line}\n`));
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  const command = `npm run bench:speakers${process.argv.slice(2).length ? ` -- ${process.argv.slice(2).join(" ")}` : ""}`;
  const section = formatNoisySpeakers(figures, command, minutes);
  process.stdout.write(`${section}\n`);
  const path = "BENCHMARKS.md";
  const current = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n";
  const next = current.includes("<!-- noisy-speakers:start -->")
    ? current.replace(/<!-- noisy-speakers:start -->[\s\S]*<!-- noisy-speakers:end -->/, section)
    : current.replace("<!-- speed:start -->", `${section}\n\n<!-- speed:start -->`);
  writeFileSync(path, next);
  process.stderr.write(`wrote the noisy-diarizer section of ${path}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: Error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  });
}
