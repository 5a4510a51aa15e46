/** The ground-truth provider's languages: labels in the truth, the majority per request, a forced language obeyed. */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildConversation } from "../audio/conversation.js";
import { sliceRecording } from "../audio/edit.js";
import { encodeToBytes } from "../audio/write-audio.js";
import { postAudio } from "../provider/post-audio.js";
import { startGroundTruthProvider, type GroundTruthProvider } from "../provider/server.js";
import type { VerboseBody } from "../provider/transcript-body.js";

const conversation = buildConversation({ seed: 41, voices: 2, durationSeconds: 60, languages: [{ fromSeconds: 30, language: "de" }] });
let provider: GroundTruthProvider;

beforeAll(async () => {
  provider = await startGroundTruthProvider({ recordings: [conversation], seed: 3 });
});
afterAll(async () => {
  await provider.close();
});

async function ask(from: number, to: number, fields: { language?: string } = {}): Promise<VerboseBody> {
  const audio = await encodeToBytes(sliceRecording(conversation, from, to), "flac");
  const response = await postAudio(provider.url, provider.apiKey, audio, { response_format: "verbose_json", ...fields });
  expect(response.status, response.text).toBe(200);
  return JSON.parse(response.text) as VerboseBody;
}

describe("ground-truth provider: languages", () => {
  it("labels the words of a conversation by stretch, and gives the recording its own id", () => {
    // Assess
    expect(conversation.words.filter((w) => w.start < 30).every((w) => w.language === undefined)).toBe(true);
    expect(conversation.words.filter((w) => w.start >= 30).every((w) => w.language === "de")).toBe(true);
    expect(conversation.id).toMatch(/-langde@30$/);
  });

  it("answers each request in the language most of its words are in", async () => {
    // Act
    const english = await ask(2, 20);
    const german = await ask(35, 55);
    const mostlyGerman = await ask(25, 55);
    // Assess
    expect(english.language).toBe("en");
    expect(german.language).toBe("de");
    expect(mostlyGerman.language).toBe("de");
  });

  it("obeys a forced language and counts the words it got wrong", async () => {
    // Prepare
    provider.resetStats();
    // Act
    const forced = await ask(35, 55, { language: "fr" });
    // Assess
    expect(forced.language).toBe("fr");
    expect(provider.stats().wrongLanguageWords).toBe(forced.text.split(" ").length);
    expect(provider.stats().languagesRequested).toEqual({ fr: 1 });
  });
});
