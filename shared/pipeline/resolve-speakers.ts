import type { JobOptions } from "../domain/options.js";
import type { SegmentResult, SpeakerMap } from "../domain/types.js";
import { applyResolutions, speakerSamples, type LinkResult, type LocalSpeaker, type Resolution, type SpeakerSample } from "../domain/link-speakers.js";
import { planProbe, readProbeAnswer, type ProbePiece, type ProbeUnknown, type ProbeVerdict } from "../domain/probe-clip.js";
import { guessByExclusion } from "../domain/speaker-fallback.js";
import { keys, presignGet } from "../adapters/object-store.js";
import { decodeToPcm } from "../audio/decode-pcm.js";
import { encodeFlacPcm } from "../audio/flac-encoder.js";
import { BYTES_PER_SAMPLE, SAMPLE_RATE } from "../audio/ffmpeg.js";
import type { PipelineContext } from "./context.js";

/** Unknown speakers per probe request: with one piece each, a probe clip stays around a minute or two. */
const PROBE_BATCH = 24;
/** Context kept around each piece: providers' word starts are approximate. */
const PIECE_PADDING_SECONDS = 0.12;

/**
 * Speakers that no overlap ties to a known voice (someone silent across a
 * cut, a student who asks a second question minutes after the first) are
 * settled by asking the provider's own diarizer: a probe clip holds a few
 * seconds of each known speaker followed by the unknown ones, and the label
 * each unknown piece shares tells who it is. It needs nothing but the
 * provider API, so it works with any diarizing provider.
 *
 * All batches go out at once (the provider client caps what is in flight);
 * voices found new in different batches are then told apart by one more
 * probe of one piece each. So a stitch waits about two probe latencies,
 * however many segments the job has.
 */
export async function resolveUnlinkedSpeakers(
  ctx: PipelineContext,
  jobId: string,
  results: SegmentResult[],
  linked: LinkResult,
  options: JobOptions,
): Promise<SpeakerMap> {
  const audio = new SegmentAudio(ctx, jobId);
  const keyOf = (u: LocalSpeaker) => `${u.index}/${u.label}`;
  const samples = speakerSamples(results, linked.map, { unresolved: linked.unresolved, perSpeaker: 2, minSeconds: 2 });
  const unknowns: ProbeUnknown[] = samples.unresolved
    .filter((u) => u.samples.length > 0)
    .map((u) => ({ key: keyOf(u), samples: u.samples.slice(0, 1) }));
  const probe = async (known: Record<string, readonly SpeakerSample[]>, batch: ProbeUnknown[]) => {
    const plan = planProbe(known, batch);
    if (!plan) return new Map<string, ProbeVerdict>();
    const answer = await ctx.provider.transcribe({
      audio: encodeFlacPcm(await audio.assemble(plan.pieces)),
      filename: "probe.flac",
      audioSeconds: plan.duration,
      model: options.model,
      task: "transcribe",
      language: options.language,
      diarize: true,
    });
    return readProbeAnswer(plan, answer.words ?? []);
  };

  const batches: ProbeUnknown[][] = [];
  for (let i = 0; i < unknowns.length; i += PROBE_BATCH) batches.push(unknowns.slice(i, i + PROBE_BATCH));
  const verdicts = await Promise.all(batches.map((batch) => probe(samples.global, batch)));

  // Each batch's new voices, keyed by batch and the label that batch's diarizer gave them.
  const settled = new Map<string, string | { newVoice: string }>();
  const newVoices = new Map<string, ProbeUnknown>();
  verdicts.forEach((batchVerdicts, b) => {
    for (const [key, verdict] of batchVerdicts) {
      if (verdict.kind === "known") settled.set(key, verdict.label);
      if (verdict.kind === "new") {
        const voice = `${b}:${verdict.group}`;
        settled.set(key, { newVoice: voice });
        if (!newVoices.has(voice)) newVoices.set(voice, { key: voice, samples: unknowns.find((u) => u.key === key)!.samples });
      }
    }
  });
  // New voices from different batches may be one person: one piece of each, in one request, says.
  const sameVoice = new Map<string, string>();
  if (batches.length > 1 && newVoices.size > 1) {
    const merged = await probe(samples.global, [...newVoices.values()]);
    for (const [voice, verdict] of merged) {
      if (verdict.kind === "known") sameVoice.set(voice, `known:${verdict.label}`);
      if (verdict.kind === "new") sameVoice.set(voice, `new:${verdict.group}`);
    }
  }

  const resolutions: Resolution[] = [];
  const firstOfVoice = new Map<string, string>();
  const unheard: LocalSpeaker[] = [];
  for (const unknown of linked.unresolved) {
    const provisional = linked.map[unknown.index]?.[unknown.label];
    const outcome = settled.get(keyOf(unknown));
    if (provisional === undefined) continue;
    if (outcome === undefined) {
      unheard.push(unknown);
    } else if (typeof outcome === "string") {
      resolutions.push({ ...unknown, global: outcome });
    } else {
      const voice = sameVoice.get(outcome.newVoice) ?? `new:${outcome.newVoice}`;
      if (voice.startsWith("known:")) {
        resolutions.push({ ...unknown, global: voice.slice("known:".length) });
        continue;
      }
      // Unknowns that are one new voice merge into the first one's provisional label.
      const first = firstOfVoice.get(voice);
      if (first === undefined) firstOfVoice.set(voice, provisional);
      else resolutions.push({ ...unknown, global: first });
    }
  }
  let map = applyResolutions(linked.map, resolutions);
  // What no diarizer could hear (a lone short word) is guessed from who else spoke in its segment.
  const known = Object.keys(speakerSamples(results, map, { unresolved: unheard }).global);
  const guesses: Resolution[] = [];
  for (const unknown of unheard) {
    const guess = guessByExclusion(results, map, unknown, known);
    if (guess) guesses.push({ ...unknown, global: guess });
  }
  map = applyResolutions(map, guesses);
  ctx.log.info("speaker probes", {
    jobId,
    unknown: linked.unresolved.length,
    probes: batches.length + (sameVoice.size > 0 ? 1 : 0),
    linked: resolutions.length,
    guessed: guesses.length,
  });
  return map;
}

/** Decoded segment audio, fetched once per segment however many probe pieces use it. */
class SegmentAudio {
  private readonly cache = new Map<number, Promise<Buffer>>();
  constructor(
    private readonly ctx: PipelineContext,
    private readonly jobId: string,
  ) {}

  private pcm(index: number): Promise<Buffer> {
    let pending = this.cache.get(index);
    if (!pending) {
      pending = (async () => {
        const url = await presignGet(this.ctx.clients.s3, this.ctx.config.workBucket, keys.segmentAudio(this.jobId, index));
        const decoder = decodeToPcm(this.ctx.ffmpeg.ffmpeg, url);
        const chunks: Buffer[] = [];
        for await (const chunk of decoder.pcm) chunks.push(chunk as Buffer);
        await decoder.done;
        return Buffer.concat(chunks);
      })();
      this.cache.set(index, pending);
    }
    return pending;
  }

  /** Lays the pieces out as the plan says: audio at each piece's place, silence between. */
  async assemble(pieces: ProbePiece[]): Promise<Buffer> {
    const sources = new Map(
      await Promise.all([...new Set(pieces.map((p) => p.sample.index))].map(async (i) => [i, await this.pcm(i)] as const)),
    );
    const end = Math.max(...pieces.map((p) => p.at + (p.sample.end - p.sample.start))) + PIECE_PADDING_SECONDS;
    const out = Buffer.alloc(Math.ceil(end * SAMPLE_RATE) * BYTES_PER_SAMPLE);
    for (const piece of pieces) {
      const padded = { ...piece.sample, start: piece.sample.start - PIECE_PADDING_SECONDS, end: piece.sample.end + PIECE_PADDING_SECONDS };
      const slice = sliceSeconds(sources.get(piece.sample.index)!, padded);
      slice.copy(out, Math.max(0, Math.round((piece.at - PIECE_PADDING_SECONDS) * SAMPLE_RATE)) * BYTES_PER_SAMPLE);
    }
    return out;
  }
}

function sliceSeconds(pcm: Buffer, sample: SpeakerSample): Buffer {
  const from = Math.max(0, Math.round(sample.start * SAMPLE_RATE)) * BYTES_PER_SAMPLE;
  const to = Math.min(pcm.length / BYTES_PER_SAMPLE, Math.round(sample.end * SAMPLE_RATE)) * BYTES_PER_SAMPLE;
  return pcm.subarray(from, Math.max(from, to));
}
