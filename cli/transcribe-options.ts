import { parseJobOptions } from "../shared/domain/options/options.js";
import { encodeMetadataValue } from "../shared/domain/options/metadata-encoding.js";

/** `stt transcribe`'s job options, named as on the command line (and as the S3 metadata keys). */
export interface TranscribeFlags {
  language?: string;
  /** With language auto: the languages a segment may be heard in, `en,de,fr` (2..10 codes, most likely first). */
  "language-options"?: string;
  prompt?: string;
  temperature?: string;
  model?: string;
  translate?: boolean;
  "no-diarize"?: boolean;
  "min-speakers"?: string;
  "max-speakers"?: string;
  "chunk-seconds"?: string;
  "overlap-seconds"?: string;
  /** Enrolled voices to name: `alice,bob` or `*` (`stt voices add`). */
  speakers?: string;
  /** The most the job may cost, in US dollars (`max-cost`). */
  "max-cost"?: string;
  /** A registered custom vocabulary's name (`stt vocabulary add`). */
  vocabulary?: string;
  /** A registered vocabulary filter's name (`stt vocabulary add --filter`), and what it does: mask, remove, tag. */
  filter?: string;
  "filter-method"?: string;
  /** `pii`: redacted outputs and audio beside the originals. */
  redact?: string;
  /** One name per channel of a stereo call (`agent,caller`): each channel transcribed on its own. */
  channels?: string;
}

/**
 * CLI flags become S3 user metadata, the same keys a user sets on a file
 * dropped by hand, so both paths validate options in one place (the chunker's parser).
 */
export function flagsToMetadata(flags: TranscribeFlags): Record<string, string> {
  const metadata: Record<string, string> = {};
  const set = (key: string, value: string | undefined) => {
    if (value !== undefined) metadata[key] = value;
  };
  set("language", flags.language);
  set("language-options", flags["language-options"]);
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
  set("speakers", flags.speakers);
  set("max-cost", flags["max-cost"]);
  set("vocabulary", flags.vocabulary);
  set("filter", flags.filter);
  set("filter-method", flags["filter-method"]);
  set("redact", flags.redact);
  set("channels", flags.channels);
  return metadata;
}

/** The same check the chunker makes, before anything is uploaded: a bad option fails in a moment, not after chunking. */
export function optionProblem(flags: TranscribeFlags, model: string): string | undefined {
  const parsed = parseJobOptions(flagsToMetadata(flags), {}, model);
  return parsed.ok ? undefined : parsed.reason;
}
