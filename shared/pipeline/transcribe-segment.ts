import { storedJobOptions, type JobOptions } from "../domain/options/options.js";
import type { SegmentResult } from "../domain/types.js";
import { keys } from "../adapters/object-store.js";
import { loudSeconds, refineWordStarts } from "../domain/words/refine-starts.js";
import { RetryableError } from "../errors.js";
import type { PipelineContext } from "./context.js";
import { ensureNotified } from "./finish-job.js";
import { isTerminal } from "../domain/jobs/job-event.js";
import { sendStitch } from "./request-stitch.js";
import { readyToStitch, settlesSpeakers } from "./job-progress.js";
import { gatherEarlyVotes, settleJobSpeakers } from "./settle-job-speakers.js";
import { dropHallucinations } from "../domain/words/drop-hallucinations.js";
import type { SegmentMessage } from "./messages.js";
import { releaseSegments } from "./release-segments.js";
import { doneTranscribing } from "./schedule-jobs.js";
import { currentMeter } from "./invocation-meter.js";
import { jobLists } from "./register-list.js";
import { transcribeWithinLanguages } from "./transcribe-within-languages.js";
import { wiring } from "../wiring.js";

/** The chunker's envelope frame (10 ms). */
const ENVELOPE_FRAME_SECONDS = 0.01;
/** Sound enough to be speech: a couple of words. Less (a cough, a click) may honestly transcribe to nothing. */
const MIN_LOUD_SECONDS_FOR_SPEECH = 1.5;

export type TranscribeOutcome = "transcribed" | "already-done" | "job-ended" | "copy-consumed";

/**
 * How long a delivery holds the right to ask the provider for its segment: longer than the transcriber may run,
 * so a live holder never loses it; a holder that died loses it then (its own message comes back later, and
 * takes it again as the same holder).
 */
const REQUEST_LEASE_SECONDS = wiring.functions.transcriber.timeoutSeconds + 30;

/**
 * One segment through the provider. Each step is safe to repeat, so a
 * redelivered message (or one whose handler died half-way) converges:
 * the result is stored under a fixed key, a stored result is not paid for
 * twice, and the done-set ADD counts the segment once.
 *
 * `delivery` names the SQS message (its id, the same on every redelivery of
 * it). Another message for the same segment (the chunker's run repeated by a
 * duplicate S3 event, a release range sent again) is a copy: while the first
 * message's delivery holds the segment's request lease, the copy is consumed
 * without asking the provider. Nothing is lost by that: the holder's message
 * stays in the queue until its work is done, and comes back if it dies.
 * Without `delivery`, no lease is taken (every call may ask).
 */
export async function transcribeSegment(ctx: PipelineContext, message: SegmentMessage, delivery?: string): Promise<TranscribeOutcome> {
  const job = await ctx.jobs.get(message.jobId);
  if (!job) throw new Error(`job ${message.jobId} has no record yet`);
  // An ended job (completed, failed, cancelled) gets no more provider requests: the message is consumed.
  if (isTerminal(job.status)) {
    await ensureNotified(ctx, job);
    return "job-ended";
  }
  const resultKey = keys.segmentResult(message.jobId, message.segment.index);
  const stored = await ctx.work.exists(resultKey);
  if (!stored) {
    if (delivery && !(await ctx.jobs.claimSegmentRequest(message.jobId, message.segment.index, delivery, ctx.now().getTime(), REQUEST_LEASE_SECONDS))) {
      ctx.log.info("segment copy consumed: another message is asking the provider for it");
      return "copy-consumed";
    }
    const options = storedJobOptions(job.options);
    const audio = await ctx.work.getBytes(message.audioKey);
    const audioSeconds = message.segment.end - message.segment.start;
    // A job with a vocabulary sends the prompt its snapshot holds: the user's prompt and the terms that fit.
    const lists = await jobLists(ctx, message.jobId, options);
    // An earlier delivery had this request answered, then died before storing the result: this one is paid again.
    if (job.answeredSegments?.has(message.segment.index)) currentMeter()?.resent(audioSeconds);
    // With language-options, a segment heard outside them is asked again (transcribe-within-languages.ts).
    const { answer, languageRetry } = await transcribeWithinLanguages(ctx.provider, {
      audio,
      filename: `segment-${message.segment.index}.flac`,
      audioSeconds,
      model: options.model,
      task: options.task,
      language: options.language,
      prompt: lists ? lists.prompt : options.prompt,
      temperature: options.temperature,
      diarize: options.diarize,
      minSpeakers: options.minSpeakers,
      maxSpeakers: options.maxSpeakers,
    }, options.languageOptions);
    currentMeter()?.segmentAnswered(message.segment.index);
    await ctx.checkpoint("transcriber:after-provider");
    const envelopeDb = await segmentEnvelope(ctx, message);
    if (envelopeDb && !answer.text.trim() && !answer.words?.length) {
      const sound = loudSeconds(envelopeDb, ENVELOPE_FRAME_SECONDS);
      // Retried, and after the queue's receives the job fails with this reason instead of losing the words.
      if (sound >= MIN_LOUD_SECONDS_FOR_SPEECH) {
        throw new RetryableError(
          "provider_empty",
          `provider returned no text for segment ${message.segment.index}, which holds ${sound.toFixed(1)} s of sound`,
        );
      }
    }
    // Words over silence and repetition loops are the model's, not the speaker's (drop-hallucinations.ts).
    const { answer: heard, dropped } = dropHallucinations(
      answer,
      envelopeDb && { db: envelopeDb, frameSeconds: ENVELOPE_FRAME_SECONDS },
    );
    const words =
      heard.words && envelopeDb
        ? refineWordStarts(heard.words, envelopeDb, { frameSeconds: ENVELOPE_FRAME_SECONDS })
        : heard.words;
    const result: SegmentResult = {
      jobId: message.jobId,
      index: message.segment.index,
      segment: message.segment,
      language: heard.language,
      text: heard.text,
      words,
      spans: heard.spans,
      speakers: heard.speakers,
      // What this request cost, kept with its result: the stitcher sums these (job-billing.ts).
      audioSeconds,
      ...(languageRetry ? { languageRetry } : {}),
    };
    await ctx.work.putJson(resultKey, result);
    ctx.log.info("segment transcribed", {
      words: words?.length ?? null,
      speakers: heard.speakers.length,
      droppedSilentWords: dropped.silentWords,
      droppedLoopWords: dropped.loopWords,
    });
  }
  await ctx.checkpoint("transcriber:after-store");
  const diarized = settlesSpeakers(storedJobOptions(job.options));
  // Probed now, while other segments are at the provider, so that settling after the last one seldom has to ask.
  if (diarized) await gatherEarlyVotes(ctx, message.jobId, message.segment.index);
  // This invocation's use is on the record before the segment counts as done, so before the job can complete.
  await currentMeter()?.flush();
  const updated = await ctx.jobs.addDoneSegment(message.jobId, message.segment.index, ctx.now());
  await ctx.checkpoint("transcriber:after-count");
  if (updated) {
    // This segment's place in the job's share goes to the next of its segments (release-segments.ts).
    await doneTranscribing(ctx, updated);
    await releaseSegments(ctx, message.jobId, `done-${message.segment.index}`, updated);
    await ctx.checkpoint("transcriber:after-release");
  }
  if (updated && diarized) {
    // Settles this segment's speakers, and any others its result unblocks, while the rest are still at the provider.
    await settleJobSpeakers(ctx, message.jobId);
  } else if (updated && readyToStitch(updated)) {
    // Whoever sees the set complete asks for the stitch; duplicates are absorbed by the stitcher's claim.
    await sendStitch(ctx, message.jobId);
  }
  return stored ? "already-done" : "transcribed";
}

/** The segment's envelope, when the chunker left it beside the audio (older jobs have none). */
async function segmentEnvelope(ctx: PipelineContext, message: SegmentMessage): Promise<Int8Array | undefined> {
  const bytes = await ctx.work.getBytesIfExists(keys.segmentEnvelope(message.jobId, message.segment.index));
  return bytes && new Int8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
