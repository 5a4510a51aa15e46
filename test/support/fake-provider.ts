import type { Transcriber } from "../../shared/pipeline/context.js";
import type { CallBudget, TranscriptionRequest } from "../../shared/provider/client.js";
import type { ProviderTranscription } from "../../shared/provider/parse-response.js";
import type { Word } from "../../shared/domain/types.js";

/** What the fake provider answers a request with (the nth call, from 0), or throws. */
export type FakeAnswer = (request: TranscriptionRequest, call: number) => ProviderTranscription | Promise<ProviderTranscription>;

/**
 * A provider for the steps' unit tests: no HTTP, no slots, no retries (those are the provider client's,
 * tested in provider-client.test.ts). It keeps every request and answers with `answer`.
 */
export class FakeProvider implements Transcriber {
  readonly calls: Array<{ request: TranscriptionRequest; budget?: CallBudget }> = [];

  constructor(public answer: FakeAnswer = () => answerOf([])) {}

  async transcribe(request: TranscriptionRequest, budget?: CallBudget): Promise<ProviderTranscription> {
    this.calls.push({ request, budget });
    return this.answer(request, this.calls.length - 1);
  }

  /** The segment requests (speaker probes are sent as probe.flac). */
  get segmentCalls(): TranscriptionRequest[] {
    return this.calls.map((c) => c.request).filter((r) => r.filename !== "probe.flac");
  }
}

/** A provider answer made of these words (segment-local times), as parse-response.ts would return it. */
export function answerOf(words: Word[], language = "en"): ProviderTranscription {
  const text = words.map((w) => w.word).join(" ");
  const speakers = [...new Set(words.map((w) => w.speaker).filter((s): s is string => s !== undefined))];
  return {
    text,
    language,
    words,
    spans: words.length ? [{ start: words[0].start, end: words[words.length - 1].end, text }] : [],
    speakers,
  };
}

/** `count` words, one a second from `from` (segment-local), each 0.4 s long. */
export function wordsEverySecond(count: number, options: { from?: number; prefix?: string; speaker?: string } = {}): Word[] {
  const from = options.from ?? 0.5;
  return Array.from({ length: count }, (_, i) => ({
    word: `${options.prefix ?? "word"}${i}`,
    start: from + i,
    end: from + i + 0.4,
    ...(options.speaker ? { speaker: options.speaker } : {}),
  }));
}
