process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { buildConversation, buildVoiceClip, writeWav, type Recording } from "../test/audio/conversation.js";
import { VOICES } from "../test/audio/voices.js";
import { startHarness, type Harness } from "../test/support/harness.js";
import { NOISY_DIARIZER, NO_REALISM, REALISM, recordingFile } from "../test/support/fidelity.js";
import { namingOutcome } from "../test/support/speaker-naming.js";
import { sessionOn } from "../cli/stack-session.js";
import { registerVoice } from "../cli/voices.js";
import type { ProviderOptions } from "../test/provider/options.js";

/**
 * `npm run bench:names [-- --quick]`: named speakers from enrollment clips, measured on generated
 * conversations through the real pipeline on the local stack, against the ground-truth provider. Four of the
 * six voices are enrolled (a 12 s clip each, of other words than any conversation); each conversation has 3-4
 * voices, so some enrolled voices are present, some absent, and some present voices are not enrolled. Every
 * job asks for `speakers=*`, and each conversation also runs without it, so the probes naming costs are the
 * difference. Writes the "Named speakers" section of BENCHMARKS.md.
 */
export interface NamesBenchOptions {
  /** Conversations (of the plan below, in order; past its end its voice sets again, in new conversations). */
  conversations: number;
  /** The first conversation to run (to look at one again); 0 unless set. */
  from?: number;
  durationSeconds: number;
  chunkSeconds: number;
  presets: Preset[];
}

export type Preset = "clean" | "noisy diarizer";

const PRESETS: Record<Preset, Partial<ProviderOptions>> = {
  clean: NO_REALISM,
  "noisy diarizer": { ...NO_REALISM, ...REALISM, ...NOISY_DIARIZER },
};

/** Voice index (voices.ts) -> enrolled name; the others are never enrolled. */
const ENROLLED: Record<number, string> = { 0: "ann", 1: "ben", 3: "dee", 4: "eve" };
/** Which voices speak in each conversation (indexes into voices.ts). */
const PLAN: number[][] = [
  [0, 1, 2],
  [3, 2, 5, 0],
  [4, 1, 5],
  [2, 5, 3],
  [1, 4, 0, 2],
  [5, 3, 4],
  [2, 0, 4, 5],
  [1, 3, 2],
  [5, 0, 3, 1],
  [4, 2, 1],
  [3, 5, 0],
  [0, 4, 2, 3],
];

export interface PresetFigures {
  preset: Preset;
  jobs: number;
  failedJobs: number;
  /** Enrolled voices present: named with their own name. */
  enrolledPresent: number;
  namedCorrectly: number;
  /** Enrolled voices present given another enrolled voice's name. */
  namedAsOther: number;
  /** Voices not enrolled. */
  notEnrolled: number;
  /** Voices not enrolled given a name. */
  wronglyNamed: number;
  probeRequests: number;
  probeSeconds: number;
  /** Of the probes, those that named voices (the book's `namingProbes`). */
  namingRequests: number;
  namingSeconds: number;
  recordingSeconds: number;
}

export async function runNamesBench(options: NamesBenchOptions, progress: (line: string) => void = () => undefined): Promise<PresetFigures[]> {
  const harness = await startHarness({ transcriberConcurrency: 8 });
  try {
    await enrollAll(harness);
    // Past the plan's length the same voice sets come back in new conversations (other seeds).
    const voicesOf = (i: number) => PLAN[i % PLAN.length];
    const first = options.from ?? 0;
    const conversations = Array.from({ length: options.conversations }, (_, n) => n + first).map((i) =>
      buildConversation({
        seed: 400 + i,
        voices: voicesOf(i).length,
        durationSeconds: options.durationSeconds,
        style: i % 2 === 0 ? "meeting" : "quick-turns",
        voiceIds: voicesOf(i).map((v) => VOICES[v].id),
      }),
    );
    for (const recording of conversations) harness.provider.addRecording(recording);
    const figures: PresetFigures[] = [];
    for (const preset of options.presets) {
      const f: PresetFigures = {
        preset,
        jobs: 0,
        failedJobs: 0,
        enrolledPresent: 0,
        namedCorrectly: 0,
        namedAsOther: 0,
        notEnrolled: 0,
        wronglyNamed: 0,
        probeRequests: 0,
        probeSeconds: 0,
        recordingSeconds: 0,
        namingRequests: 0,
        namingSeconds: 0,
      };
      for (const [n, recording] of conversations.entries()) {
        const i = n + first;
        harness.provider.configure(PRESETS[preset]);
        const file = await recordingFile(harness, recording);
        const run = await harness.transcribe(file, { "chunk-seconds": String(options.chunkSeconds), speakers: "*" }, "verbose_json");
        f.jobs++;
        f.recordingSeconds += recording.duration;
        if (run.job?.status !== "COMPLETED") {
          f.failedJobs++;
          progress(`${preset} conversation ${i}: ${run.job?.status ?? "no job"} ${run.job?.error ?? ""}`);
          continue;
        }
        f.probeRequests += run.job.billing?.probeRequests ?? 0;
        f.probeSeconds += run.job.billing?.probeSeconds ?? 0;
        const outcome = await namingOutcome(sessionOn(harness.stack), run.job.jobId, run.job.segmentCount!, recording);
        score(f, recording, voicesOf(i), outcome.byTrueSpeaker);
        f.namingRequests += outcome.book.namingProbes?.requests ?? 0;
        f.namingSeconds += outcome.book.namingProbes?.seconds ?? 0;
        progress(`${preset} conversation ${i}: ${f.namedCorrectly}/${f.enrolledPresent} named, ${f.wronglyNamed}/${f.notEnrolled} wrongly named so far`);
      }
      figures.push(f);
    }
    return figures;
  } finally {
    await harness.close();
  }
}

async function enrollAll(harness: Harness): Promise<void> {
  const session = sessionOn(harness.stack);
  for (const [index, name] of Object.entries(ENROLLED)) {
    const clip: Recording = buildVoiceClip(VOICES[Number(index)].id, 12, 7);
    harness.provider.addRecording(clip);
    const file = join(harness.workDir, `${name}.wav`);
    writeWav(file, clip);
    const voice = await registerVoice(session, name, file);
    if (voice.status !== "READY") throw new Error(`enrollment clip ${index} refused: ${voice.reason}`);
  }
}

/** Per true speaker of the conversation: what it should be called and what it was. */
function score(f: PresetFigures, recording: Recording, voices: number[], byTrueSpeaker: Map<string, string | null | undefined>): void {
  recording.speakers.forEach((speaker, s) => {
    if (!recording.words.some((w) => w.speaker === speaker)) return;
    const expected = ENROLLED[voices[s]];
    const got = byTrueSpeaker.get(speaker) ?? null;
    if (expected !== undefined) {
      f.enrolledPresent++;
      if (got === expected) f.namedCorrectly++;
      else if (got !== null) f.namedAsOther++;
    } else {
      f.notEnrolled++;
      if (got !== null) f.wronglyNamed++;
    }
  });
}

const pct = (n: number, d: number) => (d === 0 ? "n/a" : `${((100 * n) / d).toFixed(1)} % (${n}/${d})`);

export function formatNamesSection(figures: PresetFigures[], command: string, minutes: string, options: NamesBenchOptions): string {
  const rows = figures.map((f) => {
    const cells = [
      f.preset,
      `${f.jobs - f.failedJobs}/${f.jobs}`,
      pct(f.namedCorrectly, f.enrolledPresent),
      pct(f.namedAsOther, f.enrolledPresent),
      pct(f.wronglyNamed, f.notEnrolled),
      `${f.probeRequests} / ${f.probeSeconds.toFixed(0)} s`,
      `${f.namingRequests} / ${f.namingSeconds.toFixed(0)} s`,
      `${(f.namingSeconds / Math.max(1, f.jobs - f.failedJobs)).toFixed(0)} s`,
      `${((f.namingSeconds / f.recordingSeconds) * 100).toFixed(1)} %`,
    ];
    return `| ${cells.join(" | ")} |`;
  });
  return [
    "<!-- names:start -->",
    "## Named speakers",
    "",
    `Command: \`${command}\` (${minutes} min on this 2-core machine, ${new Date().toISOString().slice(0, 10)}).`,
    `${options.conversations} generated conversations of ${options.durationSeconds} s (3-4 of the six voices each, meetings and quick turns, ${options.chunkSeconds} s segments),`,
    "four voices enrolled from 12 s clips of their own (other words than the conversations), every job with",
    "`speakers=*`: in each conversation some enrolled voices are present, some absent, and some present voices are",
    "not enrolled. Scored per (conversation, true voice): the name on most of its words. \"Noisy diarizer\" = realism",
    "on, and in spliced probe clips 15 % of the pieces left unlabelled and 5 % put with another voice of the clip.",
    "Probes are the jobs' whole `billing.probe*` (settling and naming, all jobs together); naming probes are",
    "the part the speaker book counts as naming (`namingProbes`), also per job and against the recordings' length.",
    "",
    "| provider | jobs completed | enrolled & present: named correctly | enrolled & present: named as another | not enrolled: wrongly named | all probes (requests / seconds) | naming probes | naming seconds per job | naming seconds / recording |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "<!-- names:end -->",
  ].join("\n");
}

async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const options: NamesBenchOptions = quick
    ? { conversations: 2, durationSeconds: 120, chunkSeconds: 60, presets: ["clean", "noisy diarizer"] }
    : { conversations: 2 * PLAN.length, durationSeconds: 240, chunkSeconds: 60, presets: ["clean", "noisy diarizer"] };
  const started = Date.now();
  const figures = await runNamesBench(options, (line) => process.stderr.write(`${line}\n`));
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  const section = formatNamesSection(figures, `npm run bench:names${quick ? " -- --quick" : ""}`, minutes, options);
  process.stdout.write(`${section}\n`);
  const path = "BENCHMARKS.md";
  const current = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n";
  const next = current.includes("<!-- names:start -->")
    ? current.replace(/<!-- names:start -->[\s\S]*<!-- names:end -->/, section)
    : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
  process.stderr.write(`wrote the named speakers section of ${path}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: Error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  });
}
