import { storedJobOptions, type JobOptions } from "../domain/options/options.js";
import type { SegmentResult } from "../domain/types.js";
import { emptyBook, speakerBookSchema, type SpeakerBook } from "../domain/speakers/speaker-book.js";
import { settleSpeakers, type AskDiarizer, type SettleReport } from "../domain/speakers/settle-speakers.js";
import type { AudioSpan, BookSpan, ProbePlan } from "../domain/speakers/probe-plan.js";
import { keys } from "../adapters/object-store.js";
import { enrolledKeys, enrolledSnapshotSchema } from "../domain/speakers/enrolled-voices.js";
import { nameVoices } from "../domain/speakers/name-voices.js";
import { earlyVotes, type EarlyVotes } from "../domain/speakers/early-votes.js";
import { decodeToPcm } from "../audio/decode-pcm.js";
import { encodeFlacPcm } from "../audio/flac-encoder.js";
import { BYTES_PER_SAMPLE, SAMPLE_RATE } from "../audio/ffmpeg.js";
import { reasonOf } from "../errors.js";
import { PROBE_BUDGET } from "../provider/probe-budget.js";
import { wiring } from "../wiring.js";
import type { PipelineContext } from "./context.js";
import { redactSignedUrls } from "./finish-job.js";
import { readyToStitch } from "./job-progress.js";
import { sendStitch } from "./request-stitch.js";
import { stopIfEnded } from "./cancel-job.js";

/** A settler that dies blocks the next step no longer than its function could have run. */
const LEASE_SECONDS = wiring.functions.transcriber.timeoutSeconds + 30;
/** Context kept around each piece: providers' word starts are approximate. */
const PIECE_PADDING_SECONDS = 0.12;

/**
 * Settles speakers while segments are still being transcribed: called after
 * every stored result, it takes the run of consecutive finished segments
 * after the settled prefix, links and probes them (settle-speakers.ts),
 * stores the new speaker book and moves the prefix on, then looks again for
 * segments that finished meanwhile. One settler per job at a time (a lease on
 * the job record); a caller that finds the lease taken leaves: the holder
 * looks again after handing it back, so no finished segment is left behind.
 * Every step reads the book its prefix names and writes the one its new
 * prefix names, so a repeated step rewrites the same objects, and the
 * stitcher, once the last segment is settled, needs no provider at all.
 */
export async function settleJobSpeakers(ctx: PipelineContext, jobId: string): Promise<void> {
  for (;;) {
    const job = await ctx.jobs.get(jobId);
    if (!job || (job.status !== "RUNNING" && job.status !== "CHUNKING")) return;
    const from = job.speakersSettled ?? 0;
    let to = from;
    while (job.doneSegments?.has(to)) to++;
    if (to === from) return;
    const lease = await ctx.jobs.claimSpeakers(jobId, from, ctx.now().getTime(), LEASE_SECONDS);
    if (lease === undefined) return;
    let after;
    try {
      // The last step of a job whose segments are all known: naming decides what it still could not.
      const final = job.status === "RUNNING" && job.segmentCount !== undefined && to >= job.segmentCount;
      await settleStep(ctx, jobId, storedJobOptions(job.options), from, to, final);
      await ctx.checkpoint("settler:after-book");
      after = await ctx.jobs.recordSpeakersSettled(jobId, from, to, lease);
    } catch (error) {
      await ctx.jobs.releaseSpeakers(jobId, lease).catch(() => undefined);
      throw error;
    }
    if (after && readyToStitch(after)) {
      await sendStitch(ctx, jobId);
      return;
    }
  }
}

async function settleStep(
  ctx: PipelineContext,
  jobId: string,
  options: JobOptions,
  from: number,
  to: number,
  final = false,
): Promise<void> {
  const { work } = ctx;
  const book = from === 0 ? emptyBook() : speakerBookSchema.parse(await work.getJson(keys.speakerBook(jobId, from)));
  const indexes = Array.from({ length: to - Math.max(0, from - 1) }, (_, i) => Math.max(0, from - 1) + i);
  const results = await Promise.all(indexes.map((i) => work.getJson<SegmentResult>(keys.segmentResult(jobId, i))));

  const audio = new ProbeAudio(ctx, jobId);
  const prior: Record<string, Record<string, number>> = {};
  const priorProbes = { requests: 0, seconds: 0 };
  const early = await Promise.all(
    indexes.filter((i) => i >= from).map((i) => work.getJsonIfExists<EarlyVotes>(keys.earlyVotes(jobId, i))),
  );
  for (const found of early) {
    Object.assign(prior, found?.votes ?? {});
    // Each segment's votes are read by the one step that settles it, so the book counts them once.
    priorProbes.requests += found?.probes ?? 0;
    priorProbes.seconds += found?.probeSeconds ?? 0;
  }
  const settled = await settleSpeakers(book, results, probeAsker(ctx, options, audio), { prior, priorProbes });
  const { report, decisions } = settled;
  let next = settled.book;
  ctx.log.debug("speaker decisions", { decisions });
  if (options.speakers !== undefined) next = await nameEnrolled(ctx, jobId, options, next, audio, final);
  await storeVoiceClips(ctx, jobId, next, audio);
  await work.putJson(keys.speakerBook(jobId, next.settled), next);
  logStep(ctx, from, to, report, next.notes.slice(book.notes.length));
}

/**
 * Names the book's voices not named yet after the job's enrolled voices (the snapshot the chunker stored), by
 * naming probes (domain/speakers/name-voices.ts). Counts only in the log: names are the users' data.
 */
async function nameEnrolled(
  ctx: PipelineContext,
  jobId: string,
  options: JobOptions,
  book: SpeakerBook,
  audio: ProbeAudio,
  final: boolean,
): Promise<SpeakerBook> {
  if (book.voices.every((v) => book.names?.[v.id] !== undefined)) return book;
  const snapshot = enrolledSnapshotSchema.parse(await ctx.work.getJson(enrolledKeys.snapshot(jobId)));
  const refs = snapshot.voices.map((v) => ({ name: v.name, spans: v.spans.map((s) => ({ from: { enrolled: v.clip }, ...s })) }));
  const { book: named, report } = await nameVoices(book, refs, probeAsker(ctx, options, audio), { final });
  ctx.log.info("speakers named", { enrolled: refs.length, ...report, probeSeconds: Math.round(report.probeSeconds * 10) / 10 });
  return named;
}

/**
 * The first ask for a segment's voices, as soon as its result is stored and
 * before it counts as done (so every settling step that takes it finds the
 * votes): probes against the voices of the latest speaker book, stored at a
 * fixed key. Nothing to ask before the first book; a failed probe leaves no
 * votes, and the step asks itself.
 */
export async function gatherEarlyVotes(ctx: PipelineContext, jobId: string, index: number): Promise<void> {
  const { work } = ctx;
  // Read again, not taken from the caller: the book may have moved on while this segment was at the provider.
  const job = await ctx.jobs.get(jobId);
  const settled = job?.speakersSettled ?? 0;
  // A segment already counted done had its ask (or found nothing to ask) on an earlier delivery: a redelivered
  // message must not pay for probes again.
  if (!job || settled === 0 || index < settled || job.doneSegments?.has(index)) return;
  // An ended job (cancelled) asks nothing more.
  if (job.status !== "RUNNING" && job.status !== "CHUNKING") return;
  if (await work.exists(keys.earlyVotes(jobId, index))) return;
  const options = storedJobOptions(job.options);
  const book = speakerBookSchema.parse(await work.getJson(keys.speakerBook(jobId, settled)));
  const neighbours = job.doneSegments?.has(index - 1) ? [index - 1, index] : [index];
  const results = await Promise.all(neighbours.map((i) => work.getJson<SegmentResult>(keys.segmentResult(jobId, i))));
  const found = await earlyVotes(book, results, index, probeAsker(ctx, options, new ProbeAudio(ctx, jobId)));
  if (found.probes === 0) return;
  await work.putJson(keys.earlyVotes(jobId, index), found);
}

/**
 * A probe plan sent to the provider's diarizer: the answer's words, or why there are none, and the seconds of
 * audio the clip held. One logical request: the client's retries of it are not counted again.
 */
function probeAsker(ctx: PipelineContext, options: JobOptions, audio: ProbeAudio): AskDiarizer {
  return async (plan) => {
    // A cancelled (or deleted) job gets no more probes: the step stops here (cancel-job.ts).
    await stopIfEnded(ctx, audio.jobId);
    let audioSeconds = 0;
    try {
      const pcm = await audio.assemble(plan);
      audioSeconds = pcm.length / BYTES_PER_SAMPLE / SAMPLE_RATE;
      const answer = await ctx.provider.transcribe(
        {
          audio: encodeFlacPcm(pcm),
          filename: "probe.flac",
          audioSeconds,
          model: options.model,
          task: "transcribe",
          language: options.language,
          diarize: true,
        },
        PROBE_BUDGET,
      );
      return { words: answer.words ?? [], audioSeconds };
    } catch (error) {
      // A clip that reached the provider counts even when no answer came back: it was sent.
      return { failed: redactSignedUrls(reasonOf(error)), audioSeconds };
    }
  };
}

/** Counts, and the fallbacks' reasons (segment numbers and provider errors, never transcript text). */
function logStep(ctx: PipelineContext, from: number, to: number, report: SettleReport, notes: string[]): void {
  ctx.log.info("speakers settled", { from, to, ...report, probeSeconds: Math.round(report.probeSeconds * 10) / 10 });
  for (const note of notes) ctx.log.warn("speaker fallback", { note });
}

/**
 * Voices whose reference audio still points into segments get it copied into
 * their own clip (what they had, with the new pieces appended), so later
 * steps read a few seconds instead of decoding old segments.
 */
async function storeVoiceClips(ctx: PipelineContext, jobId: string, book: SpeakerBook, audio: ProbeAudio): Promise<void> {
  await Promise.all(
    book.voices.map(async (voice) => {
      if (voice.spans.every((s) => "voice" in s.from)) return;
      const clip = `${voice.id}-${String(book.settled).padStart(5, "0")}`;
      const parts: Buffer[] = [];
      const spans: BookSpan[] = [];
      let at = 0;
      for (const span of voice.spans) {
        const padded = await audio.slice({ ...span, start: span.start - PIECE_PADDING_SECONDS, end: span.end + PIECE_PADDING_SECONDS });
        const lead = Math.min(PIECE_PADDING_SECONDS, span.start);
        parts.push(padded);
        spans.push({ from: { voice: clip }, start: at + lead, end: at + lead + (span.end - span.start) });
        at += padded.length / BYTES_PER_SAMPLE / SAMPLE_RATE;
      }
      await ctx.work.putBytes(keys.voiceClip(jobId, clip), Buffer.concat(parts));
      voice.spans = spans;
    }),
  );
}

/** Segment audio (decoded once per segment) and voice clips, cut and laid out as probe plans say. */
class ProbeAudio {
  private readonly cache = new Map<string, Promise<Buffer>>();
  constructor(
    private readonly ctx: PipelineContext,
    readonly jobId: string,
  ) {}

  private pcm(span: AudioSpan): Promise<Buffer> {
    const { from } = span;
    const name = "segment" in from ? `s${from.segment}` : "voice" in from ? `v${from.voice}` : `e${from.enrolled}`;
    let pending = this.cache.get(name);
    if (!pending) {
      pending =
        "segment" in from
          ? this.decodeSegment(from.segment)
          : this.clip("voice" in from ? keys.voiceClip(this.jobId, from.voice) : enrolledKeys.clip(this.jobId, from.enrolled));
      this.cache.set(name, pending);
    }
    return pending;
  }

  private async clip(key: string): Promise<Buffer> {
    return Buffer.from(await this.ctx.work.getBytes(key));
  }

  private async decodeSegment(index: number): Promise<Buffer> {
    const url = await this.ctx.work.readUrl(keys.segmentAudio(this.jobId, index));
    const decoder = decodeToPcm(this.ctx.ffmpeg.ffmpeg, url);
    const chunks: Buffer[] = [];
    for await (const chunk of decoder.pcm) chunks.push(chunk as Buffer);
    await decoder.done;
    return Buffer.concat(chunks);
  }

  async slice(span: AudioSpan): Promise<Buffer> {
    const pcm = await this.pcm(span);
    const from = Math.max(0, Math.round(span.start * SAMPLE_RATE)) * BYTES_PER_SAMPLE;
    const to = Math.min(pcm.length / BYTES_PER_SAMPLE, Math.round(span.end * SAMPLE_RATE)) * BYTES_PER_SAMPLE;
    return pcm.subarray(from, Math.max(from, to));
  }

  /** Lays the pieces out as the plan says: audio at each piece's place, silence between. */
  async assemble(plan: ProbePlan): Promise<Buffer> {
    const out = Buffer.alloc(Math.ceil((plan.duration + PIECE_PADDING_SECONDS) * SAMPLE_RATE) * BYTES_PER_SAMPLE);
    for (const piece of plan.pieces) {
      const lead = Math.min(PIECE_PADDING_SECONDS, piece.span.start);
      const slice = await this.slice({ ...piece.span, start: piece.span.start - lead, end: piece.span.end + PIECE_PADDING_SECONDS });
      slice.copy(out, Math.max(0, Math.round((piece.at - lead) * SAMPLE_RATE)) * BYTES_PER_SAMPLE);
    }
    return out;
  }
}
