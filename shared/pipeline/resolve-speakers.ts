import type { JobOptions } from "../domain/options.js";
import type { SegmentResult, SpeakerMap } from "../domain/types.js";
import { applyResolutions, speakerSamples, type LinkResult, type LocalSpeaker, type Resolution, type SpeakerSample } from "../domain/link-speakers.js";
import { planProbe, readProbeAnswer, type ProbePiece, type ProbeVerdict } from "../domain/probe-clip.js";
import { guessByExclusion } from "../domain/speaker-fallback.js";
import { keys, presignGet } from "../adapters/object-store.js";
import { decodeToPcm } from "../audio/decode-pcm.js";
import { encodeFlac } from "../audio/encode-flac.js";
import { BYTES_PER_SAMPLE, SAMPLE_RATE } from "../audio/ffmpeg.js";
import type { PipelineContext } from "./context.js";

/** Unknown speakers per probe request: keeps a probe clip around a minute or two. */
const PROBE_BATCH = 12;
/** Context kept around each piece: providers' word starts are approximate. */
const PIECE_PADDING_SECONDS = 0.12;

/**
 * Speakers that no overlap ties to a known voice (someone silent across a
 * cut, a student who asks a second question minutes after the first) are
 * settled by asking the provider's own diarizer: a probe clip holds a few
 * seconds of each known speaker followed by the unknown ones, and the label
 * each unknown piece shares tells who it is. It needs nothing but the
 * provider API, so it works with any diarizing provider, and costs one short
 * request per batch of unknown speakers.
 */
export async function resolveUnlinkedSpeakers(
  ctx: PipelineContext,
  jobId: string,
  results: SegmentResult[],
  linked: LinkResult,
  options: JobOptions,
): Promise<SpeakerMap> {
  const audio = new SegmentAudio(ctx, jobId, results);
  let map: SpeakerMap = linked.map;
  for (let first = 0; first < linked.unresolved.length; first += PROBE_BATCH) {
    const batch = linked.unresolved.slice(first, first + PROBE_BATCH);
    // Later batches see the speakers earlier ones settled (new voices included) as known.
    const samples = speakerSamples(results, map, { unresolved: linked.unresolved.slice(first), perSpeaker: 2, minSeconds: 2 });
    const keyOf = (u: LocalSpeaker) => `${u.index}/${u.label}`;
    const unknowns = samples.unresolved.filter((u) => batch.some((b) => keyOf(b) === keyOf(u))).map((u) => ({ key: keyOf(u), samples: u.samples }));
    const plan = planProbe(samples.global, unknowns);
    const answer = !plan ? null : await ctx.provider.transcribe({
      audio: await encodeFlac(ctx.ffmpeg.ffmpeg, await audio.assemble(plan!.pieces)),
      filename: "probe.flac",
      audioSeconds: plan!.duration,
      model: options.model,
      task: "transcribe",
      language: options.language,
      diarize: true,
    });
    const verdicts = plan && answer ? readProbeAnswer(plan, answer.words ?? []) : new Map<string, ProbeVerdict>();
    const resolutions: Resolution[] = [];
    const firstOfGroup = new Map<string, string>();
    for (const unknown of batch) {
      const verdict = verdicts.get(keyOf(unknown));
      const provisional = map[unknown.index]?.[unknown.label];
      if (provisional === undefined) continue;
      if (!verdict || verdict.kind === "unheard") {
        const guess = guessByExclusion(results, map, unknown, Object.keys(samples.global));
        if (guess) resolutions.push({ ...unknown, global: guess });
      } else if (verdict.kind === "known") {
        resolutions.push({ ...unknown, global: verdict.label });
      } else {
        // Unknowns the diarizer put together are one new voice: merge them into the first one's label.
        const group = firstOfGroup.get(verdict.group);
        if (group === undefined) firstOfGroup.set(verdict.group, provisional);
        else resolutions.push({ ...unknown, global: group });
      }
    }
    ctx.log.info("speaker probe", { jobId, unknown: batch.length, linked: resolutions.length, seconds: Math.round(plan?.duration ?? 0) });
    map = applyResolutions(map, resolutions);
  }
  return map;
}

/** Decoded segment audio, fetched once per segment however many probe pieces use it. */
class SegmentAudio {
  private readonly cache = new Map<number, Promise<Buffer>>();
  constructor(
    private readonly ctx: PipelineContext,
    private readonly jobId: string,
    private readonly results: SegmentResult[],
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
    const end = Math.max(...pieces.map((p) => p.at + (p.sample.end - p.sample.start))) + PIECE_PADDING_SECONDS;
    const out = Buffer.alloc(Math.ceil(end * SAMPLE_RATE) * BYTES_PER_SAMPLE);
    for (const piece of pieces) {
      const source = await this.pcm(piece.sample.index);
      const padded = { ...piece.sample, start: piece.sample.start - PIECE_PADDING_SECONDS, end: piece.sample.end + PIECE_PADDING_SECONDS };
      const slice = sliceSeconds(source, padded);
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
