import { storedJobOptions, type JobOptions } from "../domain/options/options.js";
import { stitchSegments } from "../domain/stitching/stitch.js";
import { stitchChannels } from "../domain/channels/merge-lanes.js";
import { speakerBookSchema, type SpeakerBook } from "../domain/speakers/speaker-book.js";
import { jobCost } from "../domain/jobs/job-billing.js";
import { completedJobCost } from "./cost-cap.js";
import { limitSpeakers } from "../domain/speakers/speaker-limits.js";
import { nameSpeakerMap, namedSegments } from "../domain/speakers/speaker-names.js";
import { renderTranscript } from "../domain/formats/index.js";
import { renderStaticTranscriptPage } from "../viewer/transcript-page.js";
import type { OutputFormat, SegmentResult, Transcript } from "../domain/types.js";
import { keys } from "../adapters/object-store.js";
import { RetryableError } from "../errors.js";
import { wiring } from "../wiring.js";
import type { JobRecord } from "../adapters/job-store.js";
import type { PipelineContext } from "./context.js";
import { ensureNotified } from "./finish-job.js";
import { isTerminal } from "../domain/jobs/job-event.js";
import { stopIfEnded } from "./cancel-job.js";
import { readyToStitch, settlesSpeakers } from "./job-progress.js";
import { jobLists } from "./register-list.js";
import { applyJobLists, planRedaction, writeRedactedOutputs } from "./redact-outputs.js";

/** Output files, in the order a user is most likely to want them. */
export const OUTPUT_FILES: Record<OutputFormat, { file: string; contentType: string }> = {
  json: { file: "transcript.json", contentType: "application/json" },
  verbose_json: { file: "transcript.verbose.json", contentType: "application/json" },
  text: { file: "transcript.txt", contentType: "text/plain; charset=utf-8" },
  srt: { file: "transcript.srt", contentType: "application/x-subrip; charset=utf-8" },
  vtt: { file: "transcript.vtt", contentType: "text/vtt; charset=utf-8" },
};

/**
 * How long one stitcher may hold a job before another may take over: just
 * past the stitcher's own timeout, so a worker that was killed (no chance to
 * release) blocks the job no longer than Lambda would have let it run.
 */
const STITCH_LEASE_SECONDS = wiring.functions.stitcher.timeoutSeconds + 30;

export type StitchOutcome = "completed" | "already-completed" | "job-ended" | "cancelled-meanwhile";

/**
 * Fan-in: all segment results -> one transcript, outputs, utterance items,
 * a COMPLETED record and a notification. Claimed with a lease, so two
 * stitch messages for one job never stitch at once; every write is
 * deterministic, so a stitcher that dies half-way is simply run again.
 */
export async function stitchJob(ctx: PipelineContext, jobId: string): Promise<StitchOutcome> {
  const job = await ctx.jobs.get(jobId);
  if (!job) throw new Error(`job ${jobId} has no record`);
  // Ended (completed, failed, cancelled): nothing to stitch; only the announcement may still be due.
  if (isTerminal(job.status)) {
    await ensureNotified(ctx, job);
    return job.status === "COMPLETED" ? "already-completed" : "job-ended";
  }
  const count = job.segmentCount ?? -1;
  if (!readyToStitch(job)) {
    throw new RetryableError("not_ready", `job ${jobId} is not ready to stitch yet`);
  }
  const lease = await ctx.jobs.claimStitch(jobId, ctx.now().getTime(), STITCH_LEASE_SECONDS);
  if (lease === undefined) {
    // Come back when that worker's lease ends, not after the usual short backoff: a duplicate message that
    // used up its receives while another worker stitched would fail a job that is about to complete.
    const leaseLeft = Math.ceil(((job.stitchLeaseUntil ?? 0) - ctx.now().getTime()) / 1000);
    throw new RetryableError("stitch_in_progress", `job ${jobId} is being stitched by another worker`, {
      retryAfterSeconds: leaseLeft > 0 ? leaseLeft + 1 : undefined,
    });
  }
  try {
    return await stitchClaimed(ctx, job, count);
  } catch (error) {
    // A stitch that failed (a store out of retries, a crash injected by the tests) hands its lease back:
    // its message comes back after a retry backoff far shorter than the lease, and must find the job free.
    await ctx.jobs.releaseStitch(jobId, lease).catch(() => undefined);
    throw error;
  }
}

/** The stitch itself, under the lease. */
async function stitchClaimed(ctx: PipelineContext, job: JobRecord, count: number): Promise<StitchOutcome> {
  const { jobId } = job;
  await ctx.checkpoint("stitcher:after-claim");

  const options = storedJobOptions(job.options);
  const results = await Promise.all(
    Array.from({ length: count }, (_, index) =>
      ctx.work.getJson<SegmentResult>(keys.segmentResult(jobId, index)),
    ),
  );
  // Settled while the segments were transcribed (settle-job-speakers.ts): no provider call here.
  const book =
    settlesSpeakers(options) && results.length > 0
      ? speakerBookSchema.parse(await ctx.work.getJson(keys.speakerBook(jobId, results.length)))
      : undefined;
  // The job's word lists (vocabulary spelling fixes, filter), then personal data (redact=pii): pure post-passes.
  const lists = await jobLists(ctx, jobId, options);
  const transcript = applyJobLists(ctx, buildTranscript(ctx, results, options, job.duration ?? 0, book), lists, options.filterMethod);
  const redacting = planRedaction(ctx, options, transcript);
  // Summed once, from what the steps stored: the same figures however often their messages were delivered.
  const cost = jobCost(results, book);

  // Cancelled while the results were read: write nothing (a cancel after this point is handled below).
  await stopIfEnded(ctx, jobId);
  // A deployment that demands redaction keeps no original; a redacted job's utterance items are redacted.
  const outputs: Record<string, string> = {
    ...(redacting?.mandatory ? {} : await writeOutputs(ctx, job, transcript)),
    ...(redacting ? await writeRedactedOutputs(ctx, job, redacting.redaction) : {}),
  };
  await ctx.checkpoint("stitcher:after-outputs");
  await ctx.jobs.putUtterances(jobId, namedSegments(redacting?.redaction.transcript ?? transcript), job.expiresAt);
  await ctx.checkpoint("stitcher:after-utterances");

  // With the audio sent again and the dollars, from every stage's use so far (this stitch's included: cost-cap.ts).
  const priced = await completedJobCost(ctx, jobId, cost);
  const completedAt = ctx.now();
  const completed = await ctx.jobs.complete(
    jobId,
    {
      language: transcript.language,
      speakers: transcript.speakers,
      wordCount: transcript.words.length,
      outputs,
      duration: transcript.duration,
      speakerNames: transcript.speaker_names ?? {},
      ...(transcript.languages ? { languages: transcript.languages } : {}),
      ...priced,
    },
    completedAt,
  );
  if (completed) {
    ctx.metrics.jobCompleted({
      segments: count,
      durationSeconds: (completedAt.getTime() - Date.parse(job.createdAt)) / 1000,
      recordingSeconds: transcript.duration,
      ...cost,
    });
  }
  await ctx.checkpoint("stitcher:after-complete");
  const final = await ctx.jobs.get(jobId);
  if (!completed && (!final || final.status === "CANCELLED")) {
    // The cancel (or a delete) won the race: what this stitch wrote must not stay as the job's transcript.
    await removeStitched(ctx, jobId, outputs);
    if (final) await ensureNotified(ctx, final);
    ctx.log.info("job cancelled while it was stitched; its outputs were removed", { segments: count });
    return "cancelled-meanwhile";
  }
  if (final) await ensureNotified(ctx, final);
  ctx.log.info("job stitched", {
    segments: count,
    words: transcript.words.length,
    speakers: transcript.speakers.length,
    namedSpeakers: Object.keys(transcript.speaker_names ?? {}).length,
    ...cost,
    first: completed,
  });
  return completed ? "completed" : "already-completed";
}

/**
 * Deletes the output files and utterance items a stitch wrote for a job that was cancelled (or deleted) while
 * it ran. The record lists none of them either way (JobRecords.cancel removes `outputs`); this keeps them from
 * being found under the job's keys. A stitcher that dies before this leaves them, unlisted, for `stt delete`.
 */
export async function removeStitched(ctx: PipelineContext, jobId: string, outputs: Record<string, string>): Promise<void> {
  await ctx.output.deleteKeys(Object.values(outputs));
  await ctx.jobs.deleteUtterances(jobId);
}

/** The self-contained viewer page written beside the outputs (shared/viewer/transcript-page.ts). */
export const VIEWER_PAGE_FILE = { file: "transcript.html", contentType: "text/html; charset=utf-8" };

/**
 * Renders the transcript in every output format under the job's fixed keys (the same keys each time, so a
 * repeat overwrites), and the viewer page that embeds them (`html`: opened by a presigned URL in AWS, so it
 * carries the five texts itself and follows every rename); returns format -> key, as the job record lists them.
 */
export async function writeOutputs(
  ctx: PipelineContext,
  job: Pick<JobRecord, "jobId" | "source">,
  transcript: Transcript,
): Promise<Record<OutputFormat | "html", string>> {
  const outputs = {} as Record<OutputFormat | "html", string>;
  const texts = {} as Record<OutputFormat, string>;
  for (const [format, { file, contentType }] of Object.entries(OUTPUT_FILES) as Array<[OutputFormat, (typeof OUTPUT_FILES)[OutputFormat]]>) {
    const key = keys.output(job.jobId, file);
    texts[format] = renderTranscript(transcript, format);
    await ctx.output.put(key, texts[format], contentType);
    outputs[format] = key;
  }
  const page = renderStaticTranscriptPage({
    job: { jobId: job.jobId, source: { key: job.source.key }, speakerNames: transcript.speaker_names },
    transcriptJson: texts.verbose_json,
    outputs: texts,
  });
  outputs.html = keys.output(job.jobId, VIEWER_PAGE_FILE.file);
  await ctx.output.put(outputs.html, page, VIEWER_PAGE_FILE.contentType);
  return outputs;
}

/** `book` is the speaker book of the whole job, for jobs that settle speakers and have segments. */
function buildTranscript(
  ctx: PipelineContext,
  results: SegmentResult[],
  options: JobOptions,
  duration: number,
  book: SpeakerBook | undefined,
): Transcript {
  // A channel job: each channel's lane stitched alone, then merged by time under the channels' names. Its
  // speakers are its channels (diarize=false unless asked for): with diarize=true, the settled book links
  // each channel's voices across its segments (the channel names them, so speaker limits do not apply).
  if (options.channels) {
    return stitchChannels(results, { duration, names: options.channels, diarize: settlesSpeakers(options), speakerMap: book?.map });
  }
  if (!settlesSpeakers(options)) return stitchSegments(results, { duration, diarize: false });
  if (!book) return stitchSegments(results, { duration, diarize: true });
  const limited = limitSpeakers(book, { minSpeakers: options.minSpeakers, maxSpeakers: options.maxSpeakers });
  if (limited.merged.length || limited.split.length) {
    ctx.log.info("speaker limits applied", { merged: limited.merged.length, split: limited.split.length });
  }
  if (!book.names) return stitchSegments(results, { duration, diarize: true, speakerMap: limited.map });
  // Names of enrolled voices (never logged): labels of one person become one label.
  const named = nameSpeakerMap(book.map, book.names, limited.map);
  if (named.joined.length) ctx.log.info("labels of one enrolled speaker joined", { joined: named.joined.length });
  return stitchSegments(results, { duration, diarize: true, speakerMap: named.map, speakerNames: named.names });
}
