import { describe, expect, it } from "vitest";
import type { TranscriptionRequest } from "../../shared/provider/client.js";
import type { ProviderTranscription } from "../../shared/provider/parse-response.js";
import { transcribeWithinLanguages } from "../../shared/pipeline/transcribe-within-languages.js";

/** A provider that hears `spoken` and, like Whisper, answers in whatever language it is told. */
function fakeProvider(spoken: string, answerLanguage = true) {
  const requests: TranscriptionRequest[] = [];
  return {
    requests,
    async transcribe(req: TranscriptionRequest): Promise<ProviderTranscription> {
      requests.push(req);
      const language = req.language && req.language !== "auto" ? req.language : spoken;
      return { text: "hallo welt", ...(answerLanguage ? { language } : {}), words: [], spans: [], speakers: [] };
    },
  };
}

const request: TranscriptionRequest = {
  audio: new Uint8Array(4),
  filename: "segment-0.flac",
  audioSeconds: 30,
  model: "openai/whisper-large-v3",
  task: "transcribe",
  language: "auto",
  diarize: true,
};

describe("a segment under language-options", () => {
  it("sends one request when the detected language is an option", async () => {
    // Prepare
    const provider = fakeProvider("de");
    // Act
    const out = await transcribeWithinLanguages(provider, request, ["en", "de"]);
    // Assess
    expect(provider.requests).toHaveLength(1);
    expect(provider.requests[0].language).toBe("auto");
    expect(out.answer.language).toBe("de");
    expect(out.languageRetry).toBeUndefined();
  });

  it("asks again with the first option when the detected language is not one, and says so for billing", async () => {
    // Prepare
    const provider = fakeProvider("german");
    // Act
    const out = await transcribeWithinLanguages(provider, request, ["en", "fr"]);
    // Assess
    expect(provider.requests.map((r) => r.language)).toEqual(["auto", "en"]);
    expect(out.answer.language).toBe("en");
    expect(out.languageRetry).toEqual({ detected: "german", askedWith: "en", audioSeconds: 30 });
  });

  it("keeps the one request without options, and for answers that name no language", async () => {
    // Prepare
    const plain = fakeProvider("de");
    const textOnly = fakeProvider("de", false);
    // Act
    await transcribeWithinLanguages(plain, request, undefined);
    const out = await transcribeWithinLanguages(textOnly, request, ["en", "fr"]);
    // Assess
    expect(plain.requests).toHaveLength(1);
    expect(textOnly.requests).toHaveLength(1);
    expect(out.languageRetry).toBeUndefined();
  });
});
