import { ZodError } from "zod";
import { jobEventOf } from "../adapters/notifier.js";
import type { JobRecord } from "../adapters/job-store.js";
import { keys } from "../adapters/object-store.js";
import { parseVerboseJson } from "../domain/formats/index.js";
import { checkSpeakerName, namedSegments, withSpeakerNames } from "../domain/speakers/speaker-names.js";
import type { Transcript } from "../domain/types.js";
import { PermanentError, RetryableError } from "../errors.js";
import type { PipelineContext } from "./context.js";
import { OUTPUT_FILES, writeOutputs } from "./stitch-job.js";
import { redactedOutputName, renderRedactedRevision } from "./redact-outputs.js";

/**
 * Renders a job's outputs this many times at most while other renames keep moving its revision on; each
 * round is a handful of small writes, so only a stream of renames of one job could use them all.
 */
const MAX_RENDER_ROUNDS = 8;

/**
 * Names a completed job's speaker (`name` null: shown as its label again), then makes every output say so:
 * the name goes on the job record first (speakerNames.<id>, transcriptRevision one up, one conditional
 * write), then the five outputs are rendered again from the stored verbose_json with the record's names, and
 * the utterance items rewritten with them; finally a TRANSCRIPT_CHANGED notification. Two renames of one job
 * may run at once: after writing, each reads the record again and renders again if its revision moved on,
 * so the outputs end as the record says, whichever writes land last. Names are never logged.
 *
 * Throws a PermanentError: `bad_name` (empty after trimming, over 64 characters, a control character),
 * `job_not_found`, `job_not_completed`, `unknown_speaker`, `transcript_missing`.
 */
export async function renameSpeaker(ctx: PipelineContext, jobId: string, speakerId: string, name: string | null): Promise<JobRecord> {
  let value: string | null = null;
  if (name !== null) {
    const checked = checkSpeakerName(name);
    if (!checked.ok) throw new PermanentError("bad_name", checked.reason);
    value = checked.name;
  }
  const job = await ctx.jobs.get(jobId);
  refuseUnlessRenamable(job, jobId, speakerId);
  // Read before the record changes: a job whose transcript is gone (or unreadable) keeps its record as it was.
  // Its words never change after completion, so this copy serves every revision rendered below.
  const stored = await storedTranscript(ctx, job);

  const updated = await ctx.jobs.setSpeakerName(jobId, speakerId, value, ctx.now());
  // Its condition failed: the job changed since it was read (it can only have been deleted); say how it is now.
  if (!updated) refuseUnlessRenamable(await ctx.jobs.get(jobId), jobId, speakerId);
  if (!updated) throw new RetryableError("rename_conflict", `job ${jobId} changed while its speaker was renamed; try again`);

  const { record, rounds } = await renderRevision(ctx, stored, updated);
  await ctx.notifier.publish(jobEventOf(record, ctx.config.outputBucket, "TRANSCRIPT_CHANGED"));
  ctx.log.info("speaker renamed", {
    jobId,
    speakerId,
    cleared: value === null,
    revision: record.transcriptRevision,
    renderRounds: rounds,
  });
  return record;
}

/** The checks a rename makes before it writes: each failure is a PermanentError with its own code. */
function refuseUnlessRenamable(job: JobRecord | undefined, jobId: string, speakerId: string): asserts job is JobRecord {
  if (!job) throw new PermanentError("job_not_found", `no job ${jobId}`);
  if (job.status !== "COMPLETED") {
    throw new PermanentError("job_not_completed", `job ${jobId} is ${job.status}: only a completed job's speakers can be renamed`);
  }
  const speakers = job.speakers ?? [];
  if (!speakers.includes(speakerId)) {
    const known = speakers.length ? `its speakers are ${speakers.join(", ")}` : "it has no speaker labels";
    throw new PermanentError("unknown_speaker", `job ${jobId} has no speaker ${JSON.stringify(speakerId.slice(0, 80))}: ${known}`);
  }
}

/**
 * Writes the outputs and utterances of the record's revision, then again for each newer revision another
 * rename stored meanwhile, until a read after the writes finds the revision that was written.
 */
async function renderRevision(ctx: PipelineContext, stored: Transcript, from: JobRecord): Promise<{ record: JobRecord; rounds: number }> {
  let record = from;
  for (let round = 1; ; round++) {
    await ctx.checkpoint("rename:before-outputs");
    const transcript = withSpeakerNames(stored, record.speakerNames);
    // A job under mandatory redaction has no originals to write again; a redacted job's utterances are redacted.
    if (record.outputs?.verbose_json || !record.outputs?.[redactedOutputName("verbose_json")]) await writeOutputs(ctx, record, transcript);
    const redacted = await renderRedactedRevision(ctx, record);
    await ctx.jobs.putUtterances(record.jobId, namedSegments(redacted ?? transcript), record.expiresAt);
    await ctx.checkpoint("rename:after-outputs");
    const now = await ctx.jobs.get(record.jobId);
    if (!now || (now.transcriptRevision ?? 0) <= (record.transcriptRevision ?? 0)) return { record, rounds: round };
    if (round >= MAX_RENDER_ROUNDS) {
      throw new RetryableError("transcript_changing", `job ${record.jobId}'s transcript keeps changing; its outputs are at an older revision until the next rename`);
    }
    record = now;
  }
}

/** The transcript as stored in the job's verbose_json: every output can be rendered from it. */
async function storedTranscript(ctx: PipelineContext, job: JobRecord): Promise<Transcript> {
  const key = job.outputs?.verbose_json ?? job.outputs?.[redactedOutputName("verbose_json")] ?? keys.output(job.jobId, OUTPUT_FILES.verbose_json.file);
  let text: string;
  try {
    text = await ctx.output.getText(key);
  } catch (error) {
    if ((error as Error).name === "NoSuchKey" || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 404) {
      throw new PermanentError("transcript_missing", `job ${job.jobId} has no stored transcript (${key}) to render again`);
    }
    throw error;
  }
  try {
    return parseVerboseJson(text);
  } catch (error) {
    if (error instanceof ZodError || error instanceof SyntaxError) {
      throw new PermanentError("bad_transcript", `job ${job.jobId}'s stored transcript (${key}) is not a verbose_json transcript`);
    }
    throw error;
  }
}
