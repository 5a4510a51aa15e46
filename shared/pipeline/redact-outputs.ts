import type { JobOptions } from "../domain/options/options.js";
import type { OutputFormat, Transcript } from "../domain/types.js";
import { OUTPUT_FORMATS } from "../domain/types.js";
import { parseVerboseJson, renderTranscript } from "../domain/formats/index.js";
import { withSpeakerNames } from "../domain/speakers/speaker-names.js";
import { fixTermSpellings } from "../domain/vocabulary/fix-spellings.js";
import { applyVocabularyFilter, type FilterMethod } from "../domain/vocabulary/filter-words.js";
import type { ListSnapshot } from "../domain/vocabulary/term-list.js";
import { withWords } from "../domain/words/rebuild-transcript.js";
import { redactTranscript, type Redaction } from "../domain/redaction/redact-transcript.js";
import { keys } from "../adapters/object-store.js";
import type { JobRecord } from "../adapters/job-store.js";
import { probeMedia } from "../audio/probe.js";
import { silenceAudio } from "../audio/silence-spans.js";
import { isPermanent, reasonOf } from "../errors.js";
import { urlCopyKey } from "../sources/url-source.js";
import { wiring } from "../wiring.js";
import type { PipelineContext } from "./context.js";

/** The redacted outputs, beside the originals under jobs/<jobId>/; the job record lists them as `redacted_<format>`. */
export const REDACTED_FILES: Record<OutputFormat, { file: string; contentType: string }> = {
  json: { file: "transcript.redacted.json", contentType: "application/json" },
  verbose_json: { file: "transcript.redacted.verbose.json", contentType: "application/json" },
  text: { file: "transcript.redacted.txt", contentType: "text/plain; charset=utf-8" },
  srt: { file: "transcript.redacted.srt", contentType: "application/x-subrip; charset=utf-8" },
  vtt: { file: "transcript.redacted.vtt", contentType: "text/vtt; charset=utf-8" },
};
/** The recording with the redacted words' time spans silent: `redacted_audio` in the job record. */
export const REDACTED_AUDIO = { file: "redacted-audio.flac", contentType: "audio/flac", output: "redacted_audio" } as const;

export const redactedOutputName = (format: OutputFormat) => `redacted_${format}`;

/**
 * A job's word lists applied to its stitched transcript: the vocabulary's spelling fixes, then the filter
 * (mask, remove or tag). Counts are logged, never words.
 */
export function applyJobLists(ctx: PipelineContext, t: Transcript, lists: ListSnapshot | undefined, method: FilterMethod | undefined): Transcript {
  if (!lists) return t;
  let words = t.words;
  let fixed = 0;
  let filtered = 0;
  if (lists.vocabulary) ({ words, fixed } = fixTermSpellings(words, lists.vocabulary.terms));
  if (lists.filter) ({ words, matched: filtered } = applyVocabularyFilter(words, lists.filter.terms, method ?? "mask"));
  ctx.log.info("word lists applied", { spellingFixes: fixed, filterMatches: filtered, filterMethod: lists.filter ? (method ?? "mask") : undefined });
  return fixed === 0 && filtered === 0 ? t : withWords(t, words);
}

/** What the stitcher redacts: undefined for a job without `redact=pii` in a deployment that does not demand it. */
export interface RedactionPlan {
  /** The deployment demands it (redactionMandatory): only the redacted outputs are written. */
  mandatory: boolean;
  redaction: Redaction;
}

export function planRedaction(ctx: PipelineContext, options: JobOptions, t: Transcript): RedactionPlan | undefined {
  const mandatory = ctx.config.redactionMandatory === true;
  if (!mandatory && options.redact !== "pii") return undefined;
  const redaction = redactTranscript(t);
  const kinds: Record<string, number> = {};
  for (const span of redaction.spans) kinds[span.kind] = (kinds[span.kind] ?? 0) + 1;
  ctx.log.info("personal data redacted", { spans: redaction.spans.length, words: redaction.wordsRedacted, ...kinds, mandatory });
  return { mandatory, redaction };
}

/** Writes the redacted transcript in every format and the redacted audio; returns output name -> key. */
export async function writeRedactedOutputs(ctx: PipelineContext, job: JobRecord, redaction: Redaction): Promise<Record<string, string>> {
  const outputs = await writeRedactedTranscript(ctx, job.jobId, redaction.transcript);
  const audio = await writeRedactedAudio(ctx, job, redaction);
  if (audio) outputs[REDACTED_AUDIO.output] = audio;
  return outputs;
}

export async function writeRedactedTranscript(ctx: PipelineContext, jobId: string, t: Transcript): Promise<Record<string, string>> {
  const outputs: Record<string, string> = {};
  for (const format of OUTPUT_FORMATS) {
    const { file, contentType } = REDACTED_FILES[format];
    const key = keys.output(jobId, file);
    await ctx.output.put(key, renderTranscript(t, format), contentType);
    outputs[redactedOutputName(format)] = key;
  }
  return outputs;
}

/**
 * The source recording with every redacted span silent (audio/silence-spans.ts), streamed from the source to
 * the output bucket. Written even when nothing was redacted, so a redacted job always has its audio. A source
 * that can no longer be read (deleted meanwhile) leaves the job without it, with a warning: the transcripts
 * are the job's result.
 */
async function writeRedactedAudio(ctx: PipelineContext, job: JobRecord, redaction: Redaction): Promise<string | undefined> {
  const key = keys.output(job.jobId, REDACTED_AUDIO.file);
  try {
    const url = (job.source as { url?: string }).url ? await ctx.work.readUrl(urlCopyKey(job.jobId)) : await ctx.sources.readUrl(job.source);
    const probe = await probeMedia(ctx.ffmpeg.ffprobe, url);
    const silenced = silenceAudio(
      ctx.ffmpeg.ffmpeg,
      url,
      { demuxer: probe.demuxer, sampleRate: probe.audio.sampleRate, channels: probe.audio.channels },
      redaction.spans,
      (wiring.functions.stitcher.timeoutSeconds - 60) * 1000,
    );
    await Promise.all([ctx.output.putStream(key, silenced.flac, REDACTED_AUDIO.contentType), silenced.done]);
    return key;
  } catch (error) {
    if (!isPermanent(error)) throw error;
    ctx.log.warn("redacted audio not written", { jobId: job.jobId, reason: reasonOf(error) });
    return undefined;
  }
}

/**
 * A rename's redacted side: the redacted outputs rendered again with the record's names, from the stored
 * redacted verbose_json. Undefined for a job without redacted outputs.
 */
export async function renderRedactedRevision(ctx: PipelineContext, record: JobRecord): Promise<Transcript | undefined> {
  const key = record.outputs?.[redactedOutputName("verbose_json")];
  if (!key) return undefined;
  const t = withSpeakerNames(parseVerboseJson(await ctx.output.getText(key)), record.speakerNames);
  await writeRedactedTranscript(ctx, record.jobId, t);
  return t;
}
