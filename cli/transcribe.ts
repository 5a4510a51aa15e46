import { DEFAULTS } from "../shared/wiring.js";
import type { OutputFormat, Transcript } from "../shared/domain/types.js";
import type { JobRecord } from "../shared/adapters/job-store.js";
import { MISSING_KEY_MESSAGE, providerFromEnv } from "./provider-env.js";
import { findRunningStack, isAlive, openSession, startCliStack, startEmbeddedStack, type StackSession } from "./stack-session.js";
import { readOutput, subscribeToJobEvents, uploadRecording, uploadUrlPointer, waitForJob } from "./submit.js";
import { urlArgumentKind } from "../shared/sources/url-pointer.js";
import { flagsToMetadata, type TranscribeFlags } from "./transcribe-options.js";
import { progressLine } from "./progress.js";

export { flagsToMetadata, optionProblem, type TranscribeFlags } from "./transcribe-options.js";

export interface TranscribeRun {
  file: string;
  format: OutputFormat;
  flags: TranscribeFlags;
  provider: { baseUrl: string; apiKey: string; model: string };
  /** Defaults to: the stack `stt up` or another run in this folder runs, else one on .stt/ that this run lends to others. */
  open?: () => Promise<StackSession>;
  out: NodeJS.WritableStream;
  err: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

/** The main job: file in, transcript out, through the whole pipeline on the local stack. */
export async function transcribeFile(run: TranscribeRun): Promise<{ code: number; job?: JobRecord; verbose?: Transcript }> {
  const session = await (run.open ?? (() => openLocalStack(run)))();
  const events = await subscribeToJobEvents(session);
  let jobId: string | undefined;
  try {
    // An https URL goes as a pointer the chunker fetches; anything else is a file to upload.
    ({ jobId } =
      urlArgumentKind(run.file) === "https"
        ? await uploadUrlPointer(session, run.file, flagsToMetadata(run.flags))
        : await uploadRecording(session, run.file, flagsToMetadata(run.flags)));
    run.err.write(`job ${jobId}\n`);
    let shown = "";
    const progress = progressLine();
    const { event, job } = await waitForJob(session, events, jobId, {
      onProgress: (j) => {
        const full = progress(j);
        // On a terminal the line is redrawn in place: it must not wrap.
        const line = run.err.isTTY && run.err.columns ? full.slice(0, run.err.columns - 1) : full;
        if (line === shown) return;
        shown = line;
        run.err.write(run.err.isTTY ? `\r\x1b[K${line}` : `${line}\n`);
      },
    });
    if (run.err.isTTY) run.err.write("\r\x1b[K");
    if (event.status !== "COMPLETED") {
      run.err.write(`job ${jobId} ${event.status}: ${job.error ?? event.error ?? (event.status === "CANCELLED" ? "cancelled" : "unknown reason")}\n`);
      return { code: 1, job };
    }
    run.err.write(`job ${jobId} COMPLETED: ${job.duration?.toFixed(1)} s, ${job.speakers?.length ?? 0} speakers, ${job.wordCount} words${billedText(job)}\n`);
    run.out.write(await readOutput(session, job, run.format));
    const verbose = JSON.parse(await readOutput(session, job, "verbose_json")) as Transcript;
    return { code: 0, job, verbose };
  } catch (error) {
    // The process whose stack this run used has ended (Ctrl-C there): say so, not "ECONNREFUSED".
    const owner = session.borrowed;
    if (owner && !isAlive(owner.pid)) {
      throw new Error(`the local stack of pid ${owner.pid} stopped before ${jobId ? `job ${jobId}` : "the upload"} finished; run again`, { cause: error });
    }
    throw error;
  } finally {
    await events.close();
    await session.close();
  }
}

/**
 * The stack a `stt transcribe` run uses: the one `stt up` or another run in this folder offers, else one on
 * .stt/ that it starts and offers to the runs that come while it works (it waits for them before it stops).
 */
export function openLocalStack(run: Pick<TranscribeRun, "provider" | "err">): Promise<StackSession> {
  const note = (line: string) => run.err.write(`${line}\n`);
  return openSession(() => startEmbeddedStack({ provider: run.provider }), {
    lend: { provider: { baseUrl: run.provider.baseUrl, model: run.provider.model } },
    fallback: () => startCliStack({ provider: run.provider }),
    note,
  });
}

/** What the job cost at the provider, for the completion line: `, 212.4 s of audio billed (segments 180.0 s, probes 32.4 s)`. */
export function billedText(job: Pick<JobRecord, "audioSecondsBilled" | "billing">): string {
  if (job.audioSecondsBilled === undefined) return "";
  const parts = job.billing ? ` (segments ${job.billing.segmentSeconds.toFixed(1)} s, probes ${job.billing.probeSeconds.toFixed(1)} s)` : "";
  return `, ${job.audioSecondsBilled.toFixed(1)} s of audio billed${parts}`;
}

/** `stt transcribe`, its command line already checked (program.ts). */
export async function runTranscribe(file: string, format: OutputFormat, flags: TranscribeFlags): Promise<number> {
  // A stack started by `stt up` (or another run) brings its own provider settings.
  const provider = providerFromEnv() ?? ((await findRunningStack()) ? { baseUrl: "", apiKey: "", model: DEFAULTS.model } : null);
  if (!provider) {
    process.stderr.write(`${MISSING_KEY_MESSAGE}\n`);
    return 2;
  }
  const { code } = await transcribeFile({ file, format, flags, provider, out: process.stdout, err: process.stderr });
  return code;
}
