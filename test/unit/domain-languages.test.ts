import { describe, expect, it } from "vitest";
import { languageOptionsProblem, languageToAskAgain, parseLanguageOptions } from "../../shared/domain/languages/language-options.js";
import { languageCodeOf, languageShares } from "../../shared/domain/languages/language-shares.js";

describe("language-options", () => {
  it("reads 2..10 distinct ISO 639-1 codes in the order given", () => {
    // Act / Assess
    expect(parseLanguageOptions("en,DE, fr")).toEqual({ ok: true, codes: ["en", "de", "fr"] });
    expect(parseLanguageOptions("en,de,en")).toEqual({ ok: true, codes: ["en", "de"] });
  });

  it("refuses codes that are not ISO 639-1, naming the key and suggesting the code", () => {
    // Act
    const parsed = parseLanguageOptions("en,german");
    // Assess
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.reason).toMatch(/^language-options 'en,german': 'german' is not an ISO 639-1 code \(did you mean 'de'\?\)/);
    expect(parseLanguageOptions("en,auto").ok).toBe(false);
    expect(parseLanguageOptions("en,xx").ok).toBe(false);
  });

  it("needs 2 to 10 languages", () => {
    // Act / Assess
    const one = parseLanguageOptions("en");
    expect(!one.ok && one.reason).toBe("language-options 'en': name 2 to 10 different languages, not 1");
    expect(parseLanguageOptions("en,en").ok).toBe(false);
    expect(parseLanguageOptions("en,de,fr,es,it,pt,nl,sv,da,fi,no").ok).toBe(false);
    expect(parseLanguageOptions("en,de,fr,es,it,pt,nl,sv,da,fi").ok).toBe(true);
  });

  it("only goes with language=auto", () => {
    // Act / Assess
    expect(languageOptionsProblem("auto", ["en", "de"])).toBeUndefined();
    expect(languageOptionsProblem("en", undefined)).toBeUndefined();
    expect(languageOptionsProblem("en", ["en", "de"])).toMatch(/^language-options needs language=auto/);
  });

  it("keeps an answer heard in one of the options and re-asks others with the first option", () => {
    // Act / Assess
    expect(languageToAskAgain("de", ["en", "de"])).toBeUndefined();
    expect(languageToAskAgain("german", ["en", "de"])).toBeUndefined();
    expect(languageToAskAgain("de", ["en", "fr"])).toBe("en");
    expect(languageToAskAgain("dutch", ["fr", "en"])).toBe("fr");
    // A text-only answer says no language: nothing to check.
    expect(languageToAskAgain(undefined, ["en", "fr"])).toBeUndefined();
    expect(languageToAskAgain("de", [])).toBeUndefined();
  });
});

describe("language shares", () => {
  it("sums word time per language, most spoken first, with the fraction of all speech", () => {
    // Prepare
    const words = [
      { start: 0, end: 1, language: "en" },
      { start: 1.5, end: 2, language: "en" },
      { start: 3, end: 6, language: "de" },
      { start: 7, end: 8 },
    ];
    // Act
    const shares = languageShares(words);
    // Assess
    expect(shares).toEqual([
      { languageCode: "de", durationInSeconds: 3, fraction: 0.6667 },
      { languageCode: "en", durationInSeconds: 1.5, fraction: 0.3333 },
    ]);
    expect(languageShares([{ start: 0, end: 1 }])).toEqual([]);
  });

  it("reads a provider's language as a code", () => {
    // Act / Assess
    expect(languageCodeOf("German")).toBe("de");
    expect(languageCodeOf("en-US")).toBe("en");
    expect(languageCodeOf(" ")).toBeUndefined();
    expect(languageCodeOf(undefined)).toBeUndefined();
  });
});

describe("language-options as job options", () => {
  it("reads the metadata key into the options, which name the job", async () => {
    // Prepare
    const { parseJobOptions, canonicalOptions, storedJobOptions } = await import("../../shared/domain/options/options.js");
    // Act
    const parsed = parseJobOptions({ "x-amz-meta-language-options": "EN, de" });
    const plain = parseJobOptions({});
    // Assess
    expect(parsed.ok && parsed.options.languageOptions).toEqual(["en", "de"]);
    expect(parsed.ok && parsed.options.language).toBe("auto");
    expect(parsed.ok && plain.ok && canonicalOptions(parsed.options) !== canonicalOptions(plain.options)).toBe(true);
    expect(parsed.ok && storedJobOptions(JSON.parse(JSON.stringify(parsed.options))).languageOptions).toEqual(["en", "de"]);
  });

  it("fails a bad value at once, naming the key", async () => {
    // Prepare
    const { parseJobOptions } = await import("../../shared/domain/options/options.js");
    // Act
    const bad = parseJobOptions({ "language-options": "en,klingon" });
    const few = parseJobOptions({ "language-options": "en" });
    const forced = parseJobOptions({ language: "de", "language-options": "en,de" });
    // Assess
    expect(!bad.ok && bad.reason).toMatch(/^language-options 'en,klingon': 'klingon' is not an ISO 639-1 code/);
    expect(!few.ok && few.reason).toMatch(/^language-options 'en': name 2 to 10/);
    expect(!forced.ok && forced.reason).toMatch(/^language-options needs language=auto/);
  });
});

describe("billing a segment asked again for its language", () => {
  it("counts the second request in the segment figures and says how much of them it was", async () => {
    // Prepare
    const { jobCost } = await import("../../shared/domain/jobs/job-billing.js");
    const segment = (index: number) => ({ index, start: index * 30, end: index * 30 + 34, ownStart: index * 30 + 2, ownEnd: index * 30 + 32 });
    const results = [
      { segment: segment(0), audioSeconds: 34 },
      { segment: segment(1), audioSeconds: 34, languageRetry: { detected: "de", askedWith: "en", audioSeconds: 34 } },
    ];
    // Act
    const cost = jobCost(results);
    const plain = jobCost(results.map(({ segment, audioSeconds }) => ({ segment, audioSeconds })));
    // Assess
    expect(cost.billing).toMatchObject({ segmentSeconds: 102, segmentRequests: 3, overlapSeconds: 8, languageRetrySeconds: 34, languageRetryRequests: 1 });
    expect(cost.audioSecondsBilled).toBe(102);
    expect(plain.billing.languageRetryRequests).toBeUndefined();
  });
});

describe("language-options on the command line and in reruns", () => {
  it("travels as the metadata key, is checked before upload, and survives a rerun", async () => {
    // Prepare
    const { flagsToMetadata, optionProblem } = await import("../../cli/transcribe-options.js");
    const { optionsToMetadata } = await import("../../shared/pipeline/rerun-job.js");
    const { parseJobOptions } = await import("../../shared/domain/options/options.js");
    // Act
    const metadata = flagsToMetadata({ "language-options": "en,fr" });
    const parsed = parseJobOptions(metadata);
    // Assess
    expect(metadata).toEqual({ "language-options": "en,fr" });
    expect(optionProblem({ "language-options": "en,fr" }, "openai/whisper-large-v3")).toBeUndefined();
    expect(optionProblem({ "language-options": "en" }, "openai/whisper-large-v3")).toMatch(/^language-options 'en'/);
    expect(parsed.ok && parseJobOptions(optionsToMetadata(parsed.options))).toEqual(parsed);
  });
});
