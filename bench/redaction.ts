process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { writeWav } from "../test/audio/conversation.js";
import { buildPiiCall, PII_ITEMS, scoreRedaction, type PiiItemKind } from "../test/audio/pii-conversation.js";
import { startHarness, type Harness } from "../test/support/harness.js";
import { NO_REALISM, REALISM } from "../test/support/fidelity.js";
import { ffmpegPaths, SAMPLE_RATE } from "../shared/audio/ffmpeg.js";
import type { Transcript } from "../shared/domain/types.js";
import type { ProviderOptions } from "../test/provider/options.js";

/**
 * `npm run bench:redaction [-- --quick]`: `redact=pii` measured on generated calls with known personal data
 * (test/audio/pii-conversation.ts: card, phone, e-mail, IBAN and account numbers, written and spoken digit by
 * digit, plus non-personal numbers as bait: years, times, amounts, dates, decimals), through the real pipeline
 * on the local stack against the ground-truth provider, clean and with its realism switches on (loose times,
 * half-heard edge words, other spellings). For each job: the share of personal-data items whose whole time span
 * `[PII]` covers, the share of other words a `[PII]` touches, the bait redacted, and the redacted audio:
 * loudness inside the spans and samples changed outside them. Writes the "Redaction" section of BENCHMARKS.md.
 */
export interface RedactionBenchOptions {
  calls: number;
  /** Each call holds every item of PII_ITEMS this many times. */
  passes: number;
  chunkSeconds: number;
  presets: Preset[];
}

export type Preset = "clean" | "realism";
const PRESETS: Record<Preset, Partial<ProviderOptions>> = { clean: NO_REALISM, realism: { ...NO_REALISM, ...REALISM } };

export interface PresetFigures {
  preset: Preset;
  calls: number;
  minutes: number;
  piiItems: number;
  piiCaught: number;
  byKind: Record<PiiItemKind, { items: number; caught: number }>;
  otherWords: number;
  otherWordsTouched: number;
  baitItems: number;
  baitTouched: number;
  /** The loudest redacted span in the redacted audio (RMS, of 32768) and the source's quietest one. */
  maxSpanRms: number;
  minSourceSpanRms: number;
  /** Samples outside the spans (±1 sample) that differ from the source. */
  outsideSamples: number;
  outsideChanged: number;
  failedJobs: number;
}

export async function runRedactionBench(options: RedactionBenchOptions, log: (line: string) => void = () => undefined): Promise<PresetFigures[]> {
  const harness = await startHarness({ chunkSeconds: options.chunkSeconds, overlapSeconds: 4, transcriberConcurrency: 6 });
  try {
    const figures: PresetFigures[] = [];
    for (const preset of options.presets) figures.push(await runPreset(harness, preset, options, log));
    return figures;
  } finally {
    await harness.close();
  }
}

async function runPreset(harness: Harness, preset: Preset, options: RedactionBenchOptions, log: (line: string) => void): Promise<PresetFigures> {
  harness.provider.configure(PRESETS[preset]);
  const kinds = [...new Set(PII_ITEMS.map((i) => i.kind))];
  const f: PresetFigures = {
    preset, calls: 0, minutes: 0, piiItems: 0, piiCaught: 0,
    byKind: Object.fromEntries(kinds.map((k) => [k, { items: 0, caught: 0 }])) as PresetFigures["byKind"],
    otherWords: 0, otherWordsTouched: 0, baitItems: 0, baitTouched: 0,
    maxSpanRms: 0, minSourceSpanRms: Infinity, outsideSamples: 0, outsideChanged: 0, failedJobs: 0,
  };
  for (let c = 0; c < options.calls; c++) {
    const call = buildPiiCall({ seed: 100 + c, voices: 2 + (c % 2), passes: options.passes });
    harness.provider.addRecording(call.recording);
    const file = join(harness.workDir, `${preset}-call-${c}.wav`);
    writeWav(file, call.recording);
    const run = await harness.transcribe(file, { redact: "pii" }, "verbose_json");
    if (run.code !== 0 || !run.job?.outputs?.redacted_verbose_json) {
      f.failedJobs++;
      log(`${preset} call ${c}: job failed: ${run.job?.error ?? run.stderr.trim()}`);
      continue;
    }
    const read = async (key: string) => {
      const out = await harness.stack.clients.s3.send(new GetObjectCommand({ Bucket: harness.stack.resources.buckets.output, Key: key }));
      return Buffer.from(await out.Body!.transformToByteArray());
    };
    const redacted = JSON.parse((await read(run.job.outputs.redacted_verbose_json)).toString("utf8")) as Transcript;
    const score = scoreRedaction(call, redacted.words);
    f.calls++;
    f.minutes += call.recording.duration / 60;
    f.piiItems += score.piiItems;
    f.piiCaught += score.piiCaught;
    f.otherWords += score.otherWords;
    f.otherWordsTouched += score.otherWordsTouched;
    f.baitItems += score.baitItems;
    f.baitTouched += score.baitTouched;
    const spans = redacted.words.filter((w) => w.word.startsWith("[PII]")).map((w) => [w.start - 0.05, w.end + 0.05] as const);
    for (const item of call.pii) {
      f.byKind[item.kind as PiiItemKind].items++;
      if (spans.some(([s, e]) => s <= item.start && item.end <= e)) f.byKind[item.kind as PiiItemKind].caught++;
    }
    const audio = decodeFlac(harness, await read(run.job.outputs.redacted_audio));
    const source = call.recording.samples;
    const exact = redacted.words.filter((w) => w.word.startsWith("[PII]"));
    for (const w of exact) {
      f.maxSpanRms = Math.max(f.maxSpanRms, rms(audio, w.start, w.end));
      f.minSourceSpanRms = Math.min(f.minSourceSpanRms, rms(source, w.start, w.end));
    }
    const inside = new Uint8Array(source.length);
    for (const w of exact) inside.fill(1, Math.max(0, Math.floor(w.start * SAMPLE_RATE) - 1), Math.min(source.length, Math.ceil(w.end * SAMPLE_RATE) + 2));
    for (let i = 0; i < Math.min(audio.length, source.length); i++) {
      if (inside[i]) continue;
      f.outsideSamples++;
      if (audio[i] !== source[i]) f.outsideChanged++;
    }
    log(`${preset} call ${c}: ${score.piiCaught}/${score.piiItems} items, ${score.otherWordsTouched}/${score.otherWords} other words touched`);
  }
  return f;
}

function decodeFlac(harness: Harness, bytes: Buffer): Int16Array {
  const path = join(harness.workDir, "redacted.flac");
  writeFileSync(path, bytes);
  const pcm = execFileSync(ffmpegPaths().ffmpeg, ["-v", "error", "-i", path, "-f", "s16le", "-ac", "1", "-ar", String(SAMPLE_RATE), "-"], { maxBuffer: 1 << 30 });
  return new Int16Array(pcm.buffer, pcm.byteOffset, pcm.length / 2);
}

function rms(samples: Int16Array, from: number, to: number): number {
  let sum = 0;
  const a = Math.max(0, Math.floor(from * SAMPLE_RATE));
  const b = Math.min(samples.length, Math.ceil(to * SAMPLE_RATE));
  for (let i = a; i < b; i++) sum += samples[i] * samples[i];
  return Math.sqrt(sum / Math.max(1, b - a));
}

const pct = (a: number, b: number) => (b === 0 ? "–" : `${((100 * a) / b).toFixed(1)} %`);

export function formatRedactionSection(figures: PresetFigures[], command: string, minutes: string, options: RedactionBenchOptions): string {
  const kinds = Object.keys(figures[0]?.byKind ?? {}) as PiiItemKind[];
  const lines = [
    "<!-- redaction:start -->",
    "## Redaction",
    "",
    `\`${command}\` (${minutes} min on this machine): ${options.calls} generated calls per preset, each holding every personal-data ` +
      `item of \`test/audio/pii-conversation.ts\` ${options.passes} times (cards, phones, e-mail, IBANs, an account number; written ` +
      "in groups and spoken digit by digit) and non-personal numbers as bait (years, times, amounts, dates, decimals, percentages), " +
      `through the local stack with \`redact=pii\`, ${options.chunkSeconds} s segments. The items' words are composed from the clip ` +
      "bank's audio and the ground-truth provider hears them as written (see that file): the figures measure the detectors on " +
      "stitched words and the audio silencing, not a model's hearing of digits. \"realism\" turns on the provider's loose word " +
      "times, half-heard edge words, trailing hallucinations and 5 % other spellings. The items are the shapes the detectors " +
      "were written for, so these are upper bounds: numbers said as words other than single digits (\"forty-one eleven\"), " +
      "spoken e-mail addresses (\"ada at example dot com\") and names or street addresses are not detected at all.",
    "",
    `| Preset | Calls | Audio | PII items caught | ${kinds.map((k) => k).join(" | ")} | Other words touched | Bait numbers redacted | Loudest redacted span (RMS) | Samples changed outside spans | Failed jobs |`,
    `|---|---|---|---|${kinds.map(() => "---|").join("")}---|---|---|---|---|`,
  ];
  for (const f of figures) {
    lines.push(
      `| ${f.preset} | ${f.calls} | ${f.minutes.toFixed(1)} min | ${f.piiCaught}/${f.piiItems} (${pct(f.piiCaught, f.piiItems)}) | ` +
        kinds.map((k) => `${f.byKind[k].caught}/${f.byKind[k].items}`).join(" | ") +
        ` | ${f.otherWordsTouched}/${f.otherWords} (${pct(f.otherWordsTouched, f.otherWords)}) | ${f.baitTouched}/${f.baitItems} | ` +
        `${f.maxSpanRms.toFixed(1)} (source ≥ ${Number.isFinite(f.minSourceSpanRms) ? f.minSourceSpanRms.toFixed(0) : "–"}) | ` +
        `${f.outsideChanged}/${f.outsideSamples} | ${f.failedJobs} |`,
    );
  }
  lines.push(
    "",
    "An item counts as caught when `[PII]` words cover its whole time span (±50 ms); an other word is touched when its middle " +
      "falls inside a `[PII]` word (a `[PII]` that runs on over a neighbouring spoken digit touches it). The audio columns compare " +
      "the redacted FLAC with the source sample by sample: silence inside each `[PII]` word's span, the source's exact samples " +
      "outside it.",
    "<!-- redaction:end -->",
  );
  return lines.join("\n");
}

async function main(): Promise<void> {
  const quick = process.argv.includes("--quick");
  const options: RedactionBenchOptions = quick
    ? { calls: 2, passes: 1, chunkSeconds: 60, presets: ["clean", "realism"] }
    : { calls: 8, passes: 2, chunkSeconds: 60, presets: ["clean", "realism"] };
  const started = Date.now();
  const figures = await runRedactionBench(options, (line) => process.stderr.write(`${line}\n`));
  const minutes = ((Date.now() - started) / 60000).toFixed(1);
  const section = formatRedactionSection(figures, `npm run bench:redaction${quick ? " -- --quick" : ""}`, minutes, options);
  process.stdout.write(`${section}\n`);
  // Append only: other benchmarks own the other sections; this one replaces only its own, between its markers.
  const path = "BENCHMARKS.md";
  const current = existsSync(path) ? readFileSync(path, "utf8") : "# Benchmarks\n";
  const next = current.includes("<!-- redaction:start -->")
    ? current.replace(/<!-- redaction:start -->[\s\S]*<!-- redaction:end -->/, section)
    : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(path, next);
  process.stderr.write(`wrote the redaction section of ${path}\n`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: Error) => {
    process.stderr.write(`${error.stack}\n`);
    process.exitCode = 1;
  });
}
