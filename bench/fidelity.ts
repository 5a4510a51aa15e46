process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { readFileSync, writeFileSync, existsSync } from "node:fs";
import { buildConversation, type Recording } from "../test/audio/conversation.js";
import { startHarness } from "../test/support/harness.js";
import {
  NOISY_DIARIZER, NO_REALISM, REALISM, SILENCE_HALLUCINATIONS, runChunked, runWholeFile, type FidelityResult,
} from "../test/support/fidelity.js";
import type { ProviderOptions } from "../test/provider/options.js";

/**
 * `npm run bench:fidelity [-- --quick]`: the chunked pipeline against one
 * whole-file request, over cases x chunk sizes x overlaps x realism, through
 * the real pipeline on the local stack with the ground-truth provider. The
 * table replaces the fidelity section of BENCHMARKS.md.
 */
interface Case {
  name: string;
  recording: () => Recording;
  chunks: number[];
  overlaps: number[];
  /** Provider behaviours to run the case under; default off and on (REALISM). */
  realisms?: Realism[];
}

type Realism = "off" | "on" | "noisy diarizer" | "silence hallucinations";

const REALISMS: Record<Realism, Partial<ProviderOptions>> = {
  off: NO_REALISM,
  on: { ...NO_REALISM, ...REALISM },
  "noisy diarizer": { ...NO_REALISM, ...REALISM, ...NOISY_DIARIZER },
  "silence hallucinations": { ...NO_REALISM, ...SILENCE_HALLUCINATIONS, hallucinateTrailing: 1 },
};

const quick = process.argv.includes("--quick");
const FULL_CHUNKS = [20, 60, 120, 600];
const FULL_OVERLAPS = [0, 4, 15];

const cases: Case[] = [
  {
    name: "3 voices, quick turns (215 s)",
    recording: () => buildConversation({ seed: 31, voices: 3, durationSeconds: 215, style: "quick-turns" }),
    chunks: FULL_CHUNKS,
    overlaps: FULL_OVERLAPS,
  },
  {
    name: "lecture: 1 voice for minutes, 3 rare askers (480 s)",
    recording: () => buildConversation({ seed: 32, voices: 4, durationSeconds: 480, style: "lecture" }),
    chunks: FULL_CHUNKS,
    overlaps: FULL_OVERLAPS,
  },
  {
    name: "6 voices, meeting (300 s)",
    recording: () => buildConversation({ seed: 33, voices: 6, durationSeconds: 300, style: "meeting" }),
    chunks: FULL_CHUNKS,
    overlaps: FULL_OVERLAPS,
  },
  {
    name: "single voice (180 s)",
    recording: () => buildConversation({ seed: 34, voices: 1, durationSeconds: 180, style: "meeting" }),
    chunks: [20, 120],
    overlaps: [0, 4],
  },
  {
    name: "1-hour meeting, 4 voices, one away for 35 min",
    recording: () =>
      buildConversation({ seed: 36, voices: 4, durationSeconds: 3600, style: "meeting", absences: [{ speaker: 4, fromSeconds: 900, toSeconds: 3000 }] }),
    chunks: [60, 120],
    overlaps: [4],
    realisms: ["noisy diarizer"],
  },
  {
    name: "long pauses and a silent tail, 2 voices (5 min)",
    recording: () =>
      buildConversation({
        seed: 37,
        voices: 2,
        durationSeconds: 300,
        turns: Array.from({ length: 24 }, (_, i) => ({ speaker: (i % 2) + 1, words: 6 + (i % 5) })),
        turnGapSeconds: [2.5, 9],
      }),
    chunks: [30, 120],
    overlaps: [4],
    realisms: ["silence hallucinations"],
  },
  {
    name: "1-hour conversation, 4 voices",
    recording: () => buildConversation({ seed: 35, voices: 4, durationSeconds: 3600, style: "meeting" }),
    chunks: [60, 120, 600],
    overlaps: [4],
  },
];

const fmt = (n: number, digits = 2) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");

async function main() {
  const harness = await startHarness({ transcriberConcurrency: 16 });
  const rows: string[] = [];
  const started = Date.now();
  try {
    for (const c of quick ? cases.slice(0, 2) : cases) {
      const recording = c.recording();
      const truthSpeakers = new Set(recording.words.map((w) => w.speaker)).size;
      for (const realism of quick ? ["off" as const, "on" as const] : (c.realisms ?? ["off", "on"])) {
        harness.provider.configure(REALISMS[realism]);
        const whole = await runWholeFile(harness, recording);
        const chunks = quick ? [20, 120] : c.chunks;
        const overlaps = quick ? [0, 4] : c.overlaps;
        for (const chunk of chunks) {
          for (const overlap of overlaps) {
            if (overlap >= chunk) continue;
            harness.provider.configure(REALISMS[realism]);
            const r: FidelityResult = await runChunked(harness, recording, { chunkSeconds: chunk, overlapSeconds: overlap });
            const row = [
              c.name,
              realism,
              `${chunk} s / ${overlap} s`,
              String(r.segments),
              `${fmt((r.wer - whole.wer) * 100)} pp`,
              `${fmt(r.meanStartError * 1000, 0)} ms (whole ${fmt(whole.meanStartError * 1000, 0)})`,
              `${fmt(r.speakerAccuracy * 100, 1)} %`,
              String(r.speakers - truthSpeakers),
              `${fmt(r.audioSecondsBilled / recording.duration, 3)}x`,
            ];
            rows.push(`| ${row.join(" | ")} |`);
            process.stderr.write(`${row.join(" | ")}${r.status === "COMPLETED" ? "" : ` [${r.status}]`}\n`);
          }
        }
      }
    }
  } finally {
    await harness.close();
  }
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  const section = [
    "<!-- fidelity:start -->",
    "## Fidelity: chunked pipeline vs one whole-file request",
    "",
    `Command: \`npm run bench:fidelity${quick ? " -- --quick" : ""}\` (${minutes} min on this 2-core machine, ${new Date().toISOString().slice(0, 10)}).`,
    "Each row is one job through the real pipeline on the local stack, against the ground-truth provider; the",
    "reference is the same file sent as one request to the same provider with the same realism. Realism \"on\" =",
    "word times jittered ±100 ms, word ends stretched over silence, half-heard edge words (p=0.5), hallucinated",
    "\"you\"/\"Thank you.\" over trailing silence (p=0.5), 5 % of words heard slightly differently. \"Noisy diarizer\" =",
    "realism on, and in spliced probe clips 15 % of the pieces left unlabelled and 5 % put with another voice of the",
    "clip. \"Silence hallucinations\" = a stock phrase in every pause of 2 s or more, a repetition loop over half the",
    "silences of 5 s or more, \"Thank you.\" on every silent tail (the whole-file reference keeps them: its WER shows them).",
    "WER delta is chunked WER minus whole-file WER (percentage points); speaker accuracy is under the best",
    "one-to-one label mapping; speaker-count error is found minus true; billed is provider audio seconds / file seconds.",
    "Word-start error is after the transcriber snaps starts to the audio's onsets (the whole-file reference has the",
    "provider's raw times). With realism on, WER deltas come from the 5 % of words the provider hears differently,",
    "drawn per request, so chunked and whole-file runs mishear different words; with that switch off WER is 0 in",
    "every row (test/e2e/fidelity.test.ts asserts it on short cases).",
    "",
    "| case | realism | chunk / overlap | segments | WER delta | word-start error | speaker accuracy | speaker-count error | billed |",
    "|---|---|---|---|---|---|---|---|---|",
    ...rows,
    "<!-- fidelity:end -->",
  ].join("\n");
  const path = "BENCHMARKS.md";
  const current = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n";
  const next = current.includes("<!-- fidelity:start -->")
    ? current.replace(/<!-- fidelity:start -->[\s\S]*<!-- fidelity:end -->/, section)
    : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
  process.stderr.write(`wrote the fidelity section of ${path}\n`);
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
});
