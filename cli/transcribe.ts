import { parseJobOptions } from "../shared/domain/options.js";
import { DEFAULTS } from "../shared/wiring.js";
import { encodeMetadataValue } from "../shared/domain/metadata-encoding.js";
import type { OutputFormat, Transcript } from "../shared/domain/types.js";
import type { JobRecord } from "../shared/adapters/job-store.js";
import { MISSING_KEY_MESSAGE, providerFromEnv } from "./provider-env.js";
import { findRunningStack, openSession, startEmbeddedStack, type StackSession } from "./stack-session.js";
import { readOutput, subscribeToJobEvents, uploadRecording, waitForJob } from "./submit.js";

export interface TranscribeFlags {
  language?: string;
  prompt?: string;
  temperature?: string;
  model?: string;
  translate?: boolean;
  "no-diarize"?: boolean;
  "min-speakers"?: string;
  "max-speakers"?: string;
  "chunk-seconds"?: string;
  "overlap-seconds"?: string;
}

/**
 * CLI flags become S3 user metadata, the same keys a user sets on a file
 * dropped by hand, so both paths validate options in one place (the chunker).
 */
export function flagsToMetadata(flags: TranscribeFlags): Record<string, string> {
  const metadata: Record<string, string> = {};
  const set = (key: string, value: string | undefined) => {
    if (value !== undefined) metadata[key] = value;
  };
  set("language", flags.language);
  // S3 metadata is ASCII: other text travels as an RFC 2047 encoded word.
  set("prompt", flags.prompt === undefined ? undefined : encodeMetadataValue(flags.prompt));
  set("temperature", flags.temperature);
  set("model", flags.model);
  if (flags.translate) metadata.task = "translate";
  if (flags["no-diarize"]) metadata.diarize = "false";
  set("min-speakers", flags["min-speakers"]);
  set("max-speakers", flags["max-speakers"]);
  set("chunk-seconds", flags["chunk-seconds"]);
  set("overlap-seconds", flags["overlap-seconds"]);
  return metadata;
}

export interface TranscribeRun {
  file: string;
  format: OutputFormat;
  flags: TranscribeFlags;
  provider: { baseUrl: string; apiKey: string; model: string };
  /** Defaults to: the running `stt up` stack, else an embedded one on .stt/. */
  open?: () => Promise<StackSession>;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream & { isTTY?: boolean };
}

/** The main job: file in, transcript out, through the whole pipeline on the local stack. */
export async function transcribeFile(run: TranscribeRun): Promise<{ code: number; job?: JobRecord; verbose?: Transcript }> {
  const session = await (run.open ?? (() => openSession(() => startEmbeddedStack({ provider: run.provider }))))();
  const events = await subscribeToJobEvents(session);
  try {
    const { jobId } = await uploadRecording(session, run.file, flagsToMetadata(run.flags));
    run.err.write(`job ${jobId}\n`);
    let shown = "";
    const { event, job } = await waitForJob(session, events, jobId, {
      onProgress: (j) => {
        const speakers = j.speakersSettled === undefined ? "" : `, speakers settled ${j.speakersSettled}/${j.segmentCount}`;
        const line = j.segmentCount === undefined ? `chunking...` : `segments ${j.doneSegments?.size ?? 0}/${j.segmentCount}${speakers}`;
        if (line === shown) return;
        shown = line;
        run.err.write(run.err.isTTY ? `\r\x1b[K${line}` : `${line}\n`);
      },
    });
    if (run.err.isTTY) run.err.write("\r\x1b[K");
    if (event.status === "FAILED") {
      run.err.write(`job ${jobId} FAILED: ${job.error ?? event.error ?? "unknown reason"}\n`);
      return { code: 1, job };
    }
    run.err.write(`job ${jobId} COMPLETED: ${job.duration?.toFixed(1)} s, ${job.speakers?.length ?? 0} speakers, ${job.wordCount} words${billedText(job)}\n`);
    run.out.write(await readOutput(session, job, run.format));
    const verbose = JSON.parse(await readOutput(session, job, "verbose_json")) as Transcript;
    return { code: 0, job, verbose };
  } finally {
    await events.close();
    await session.close();
  }
}

/** What the job cost at the provider, for the completion line: `, 212.4 s of audio billed (segments 180.0 s, probes 32.4 s)`. */
export function billedText(job: Pick<JobRecord, "audioSecondsBilled" | "billing">): string {
  if (job.audioSecondsBilled === undefined) return "";
  const parts = job.billing ? ` (segments ${job.billing.segmentSeconds.toFixed(1)} s, probes ${job.billing.probeSeconds.toFixed(1)} s)` : "";
  return `, ${job.audioSecondsBilled.toFixed(1)} s of audio billed${parts}`;
}

/** The same check the chunker makes, before anything is uploaded: a bad option fails in a moment, not after chunking. */
export function optionProblem(flags: TranscribeFlags, model: string): string | undefined {
  const parsed = parseJobOptions(flagsToMetadata(flags), {}, model);
  return parsed.ok ? undefined : parsed.reason;
}

export async function runTranscribe(file: string, format: OutputFormat, flags: TranscribeFlags): Promise<number> {
  const problem = optionProblem(flags, providerFromEnv()?.model ?? DEFAULTS.model);
  if (problem) {
    process.stderr.write(`stt transcribe: ${problem}\n`);
    return 2;
  }
  // A stack started by `stt up` brings its own provider settings.
  const provider = providerFromEnv() ?? ((await findRunningStack()) ? { baseUrl: "", apiKey: "", model: DEFAULTS.model } : null);
  if (!provider) {
    process.stderr.write(`${MISSING_KEY_MESSAGE}\n`);
    return 2;
  }
  const { code } = await transcribeFile({ file, format, flags, provider, out: process.stdout, err: process.stderr });
  return code;
}
