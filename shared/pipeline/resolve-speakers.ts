import type { JobOptions } from "../domain/options.js";
import type { SegmentResult, SpeakerMap } from "../domain/types.js";
import { applyResolutions, speakerSamples, type LinkResult, type Resolution, type SpeakerSample } from "../domain/link-speakers.js";
import { planProbe, readProbeAnswer, type ProbePiece } from "../domain/probe-clip.js";
import { keys, presignGet } from "../adapters/object-store.js";
import { decodeToPcm } from "../audio/decode-pcm.js";
import { encodeFlac } from "../audio/encode-flac.js";
import { BYTES_PER_SAMPLE, SAMPLE_RATE } from "../audio/ffmpeg.js";
import type { PipelineContext } from "./context.js";

/**
 * Speakers that no overlap ties to a known voice (someone silent across a
 * cut, a student who asks a second question minutes after the first) are
 * settled by asking the provider's own diarizer: a short probe clip holds a
 * few seconds of each known speaker followed by the unknown one, and the
 * label the unknown piece shares tells who it is. This needs nothing but
 * the provider API, so it works with any diarizing provider.
 */
export async function resolveUnlinkedSpeakers(
  ctx: PipelineContext,
  jobId: string,
  results: SegmentResult[],
  linked: LinkResult,
  options: JobOptions,
): Promise<SpeakerMap> {
  const audio = new SegmentAudio(ctx, jobId);
  let map: SpeakerMap = linked.map;
  for (let i = 0; i < linked.unresolved.length; i++) {
    const unknown = linked.unresolved[i];
    const samples = speakerSamples(results, map, { unresolved: linked.unresolved.slice(i), perSpeaker: 2 });
    const own = samples.unresolved.find((u) => u.index === unknown.index && u.label === unknown.label)?.samples ?? [];
    const plan = planProbe(samples.global, own);
    let global: string | null = null;
    if (plan) {
      const pcm = await audio.assemble(plan.pieces);
      const answer = await ctx.provider.transcribe({
        audio: await encodeFlac(ctx.ffmpeg.ffmpeg, pcm),
        filename: "probe.flac",
        audioSeconds: plan.duration,
        model: options.model,
        task: "transcribe",
        language: options.language,
        diarize: true,
      });
      global = readProbeAnswer(plan, answer.words ?? []);
    }
    const resolution: Resolution = { ...unknown, global };
    ctx.log.info("speaker probe", { jobId, segment: unknown.index, linked: global !== null });
    map = applyResolutions(map, [resolution]);
  }
  return map;
}

/** Decoded segment audio, fetched once per segment however many probes use it. */
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
    const end = Math.max(...pieces.map((p) => p.at + (p.sample.end - p.sample.start)));
    const out = Buffer.alloc(Math.ceil(end * SAMPLE_RATE) * BYTES_PER_SAMPLE);
    for (const piece of pieces) {
      const source = await this.pcm(piece.sample.index);
      const slice = sliceSeconds(source, piece.sample);
      slice.copy(out, Math.round(piece.at * SAMPLE_RATE) * BYTES_PER_SAMPLE);
    }
    return out;
  }
}

function sliceSeconds(pcm: Buffer, sample: SpeakerSample): Buffer {
  const from = Math.max(0, Math.round(sample.start * SAMPLE_RATE)) * BYTES_PER_SAMPLE;
  const to = Math.min(pcm.length / BYTES_PER_SAMPLE, Math.round(sample.end * SAMPLE_RATE)) * BYTES_PER_SAMPLE;
  return pcm.subarray(from, Math.max(from, to));
}
