/**
 * Everything the ground-truth provider can be told to do, beyond answering correctly. Every random
 * choice is seeded, so a test run repeats exactly.
 */

export type FailureKind = "429" | "500" | "503" | "timeout" | "reset";

export type MalformedKind =
  | "invalid-json"
  | "missing-words"
  | "times-outside"
  | "negative-times"
  | "reversed-times"
  | "empty-text";

export type PermanentErrorStatus = 400 | 401 | 413;

export interface ProviderOptions {
  /** Accepted bearer token. */
  apiKey: string;
  /** 0 picks a free port. */
  port: number;
  host: string;
  seed: number;
  /** Models the provider knows; a request naming another gets 400 (as the real one). null accepts any. */
  models: string[] | null;
  /** Larger request bodies get 413. */
  maxUploadBytes: number;

  /** Uniform ± seconds added to every word start and end. */
  jitterSeconds: number;
  /** Word ends run on over the following pause (up to the next word, at most 1.5 s), as Whisper's do. */
  stretchWordEnds: boolean;
  /** Probability that a word cut by an edge, with half or less inside, is heard anyway, truncated. */
  edgeHalfWords: number | boolean;
  /** Probability of a "you" / "Thank you." over more than 1 s of trailing silence. */
  hallucinateTrailing: number | boolean;
  /**
   * Probability per internal silence of 2 s or more (between two heard words) of a short phrase
   * ("Thank you.", "you", "Thanks for watching!", ...) written inside it, with the previous word's voice.
   */
  hallucinateSilence: number | boolean;
  /**
   * Probability per upload that ends in or contains 5 s or more of silence or unknown sound that the
   * model loops there, as Whisper does: the last 2-6 words heard before it, 4-10 times in a row,
   * spread across that stretch.
   */
  repetitionLoops: number | boolean;
  /**
   * Noisy diarizer on spliced uploads (more than one located piece): probability per piece that the
   * diarizer misses it. Its words are still transcribed but carry no speaker_id and are left out of
   * speaker_segments. One-piece uploads are never affected.
   */
  spliceUnheard: number | boolean;
  /**
   * Noisy diarizer on spliced uploads: probability per piece that it is put with another real voice
   * of the same upload (chosen at random): all its words get that voice's label. Nothing changes
   * when the upload has no other voice. One-piece uploads are never affected.
   */
  spliceConfused: number | boolean;
  /** Probability per word of hearing it slightly differently (case, punctuation, a homophone). */
  perturbWords: number | boolean;
  /** Models answering text only, even for verbose_json (Voxtral does): all, none, or matching names. */
  textOnly: boolean | RegExp;
  /** Report the language as "english" instead of "en" (real providers do either). */
  languageAsName: boolean;

  /** Probability per request of a transient failure, drawn from failureKinds. */
  failureRate: number;
  failureKinds: FailureKind[];
  /** Retry-After on injected 429s. */
  retryAfterSeconds: number;
  /** How long a "timeout" failure hangs before resetting the connection: longer than client timeouts. */
  hangSeconds: number;
  /** Processing time: base plus per second of uploaded audio. */
  latency: { baseSeconds: number; perAudioSecond: number };
  /**
   * Uploads made of exact slices of uploads located before (speaker probes) are placed through those uploads,
   * not searched for in the recordings again (rehear-slices.ts): the same answer for a fraction of the stand-in's
   * CPU, for benchmarks, where that CPU is taken from the pipeline being measured.
   */
  rehearSlices: boolean;
  /** Answer every request with this error (bad request, bad key, too large). */
  permanentError: PermanentErrorStatus | null;
  /** Broken successful answers, one kind drawn per affected request. */
  malformed: MalformedKind[];
  /** Share of successful answers that are broken when malformed is set. */
  malformedRate: number;
}

export const DEFAULT_OPTIONS: ProviderOptions = {
  apiKey: "test-key",
  port: 0,
  host: "127.0.0.1",
  seed: 1,
  models: ["openai/whisper-large-v3", "mistralai/Voxtral-Mini-3B-2507"],
  maxUploadBytes: 25 * 1024 * 1024,
  jitterSeconds: 0,
  stretchWordEnds: false,
  edgeHalfWords: 0,
  hallucinateTrailing: 0,
  hallucinateSilence: 0,
  repetitionLoops: 0,
  spliceUnheard: 0,
  spliceConfused: 0,
  perturbWords: 0,
  textOnly: /voxtral/i,
  languageAsName: false,
  failureRate: 0,
  failureKinds: ["429", "500", "timeout"],
  retryAfterSeconds: 1,
  hangSeconds: 120,
  latency: { baseSeconds: 0, perAudioSecond: 0 },
  rehearSlices: false,
  permanentError: null,
  malformed: [],
  malformedRate: 1,
};

export function probability(value: number | boolean): number {
  if (typeof value === "boolean") return value ? 1 : 0;
  return Math.min(1, Math.max(0, value));
}

export function isTextOnlyModel(options: ProviderOptions, model: string): boolean {
  return typeof options.textOnly === "boolean" ? options.textOnly : options.textOnly.test(model);
}
