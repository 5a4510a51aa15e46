/** The stack settings' schema: every problem listed by one synth, the pipeline's own rules applied. */
import { describe, expect, it } from "vitest";
import { DEFAULT_SETTINGS, resolveSettings, settingsFromContext } from "../../infra/settings.js";

function problemsOf(partial: Parameters<typeof resolveSettings>[0]): string[] {
  try {
    resolveSettings(partial);
  } catch (error) {
    return (error as Error).message.split("\n- ").slice(1);
  }
  return [];
}

describe("resolveSettings", () => {
  it("fills the defaults", () => {
    expect(resolveSettings({ model: "x/y" })).toEqual({ ...DEFAULT_SETTINGS, model: "x/y" });
  });

  it("holds the default overlap to the rule a file's own options are held to", () => {
    expect(resolveSettings({ chunkSeconds: 60, overlapSeconds: 30 })).toMatchObject({ chunkSeconds: 60, overlapSeconds: 30 });
    expect(problemsOf({ chunkSeconds: 20, overlapSeconds: 25 })).toEqual(["overlapSeconds (25) must be less than chunkSeconds (20)"]);
  });

  it("lists every problem at once, the rules between settings included", () => {
    // Act
    const problems = problemsOf({ providerBaseUrl: "http://insecure.example", providerMaxInFlight: 2.5, providerTimeoutMs: 200_000 });
    // Assess
    expect(problems).toEqual([
      "providerBaseUrl must use https, got http://insecure.example",
      "providerMaxInFlight must be an integer in [2, 1000], got 2.5",
      expect.stringMatching(/^providerMaxAttempts x providerTimeoutMs .* = 670 s exceeds the transcriber timeout of 300 s$/),
    ]);
  });

  it("says what is not a URL, once", () => {
    expect(problemsOf({ providerBaseUrl: "api.example" })).toEqual(["providerBaseUrl is not a URL: api.example"]);
  });
});

describe("settingsFromContext", () => {
  it("refuses a number that is not one, naming the setting", () => {
    const context: Record<string, unknown> = { "stt:retentionDays": "ninety" };
    expect(() => settingsFromContext((k) => context[k])).toThrow(/retentionDays must be an integer in \[0, 3650\], got NaN/);
  });
});
