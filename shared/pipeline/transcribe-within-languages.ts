import type { TranscriptionRequest } from "../provider/client.js";
import type { ProviderTranscription } from "../provider/parse-response.js";
import { languageToAskAgain } from "../domain/languages/language-options.js";
import type { Transcriber } from "./context.js";

/** A segment asked again because its first answer's language was not among the job's options. */
export interface LanguageRetry {
  /** What the first answer said (as the provider wrote it). */
  detected: string;
  /** The option the segment was asked again with. */
  askedWith: string;
  /** Seconds of audio the second request carried: billed like the first (domain/jobs/job-billing.ts). */
  audioSeconds: number;
}

export interface WithinLanguages {
  answer: ProviderTranscription;
  /** Present when the segment took a second request. */
  languageRetry?: LanguageRetry;
}

/**
 * One segment's request under `language-options` (domain/languages/language-options.ts's rule): sent with no
 * language; asked again once, with the first option, when the model heard a language outside the options.
 * Without options this is the one request it always was.
 */
export async function transcribeWithinLanguages(
  provider: Transcriber,
  request: TranscriptionRequest,
  languageOptions: readonly string[] | undefined,
): Promise<WithinLanguages> {
  const answer = await provider.transcribe(request);
  const askWith = languageOptions ? languageToAskAgain(answer.language, languageOptions) : undefined;
  if (askWith === undefined) return { answer };
  const again = await provider.transcribe({ ...request, language: askWith });
  return {
    // A provider that leaves the language out of its answer still transcribed in the one it was told.
    answer: { ...again, language: again.language ?? askWith },
    languageRetry: { detected: answer.language ?? "", askedWith: askWith, audioSeconds: request.audioSeconds },
  };
}
