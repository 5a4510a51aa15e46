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

  it("takes the longest recording accepted, in hours, from 0.01 to 72", () => {
    expect(DEFAULT_SETTINGS.maxRecordingHours).toBe(24);
    expect(resolveSettings({ maxRecordingHours: 1.5 })).toMatchObject({ maxRecordingHours: 1.5 });
    expect(resolveSettings({ maxRecordingHours: 0.01 })).toMatchObject({ maxRecordingHours: 0.01 });
    expect(problemsOf({ maxRecordingHours: 100 })).toEqual(["maxRecordingHours must be in [0.01, 72], got 100"]);
    expect(problemsOf({ maxRecordingHours: 0 })).toEqual(["maxRecordingHours must be in [0.01, 72], got 0"]);
  });

  it("takes the most jobs running at once, a whole number from 1 to 10000", () => {
    expect(DEFAULT_SETTINGS.maxRunningJobs).toBe(100);
    expect(resolveSettings({ maxRunningJobs: 1 })).toMatchObject({ maxRunningJobs: 1 });
    expect(resolveSettings({ maxRunningJobs: 10_000 })).toMatchObject({ maxRunningJobs: 10_000 });
    expect(problemsOf({ maxRunningJobs: 0 })).toEqual(["maxRunningJobs must be an integer in [1, 10000], got 0"]);
    expect(problemsOf({ maxRunningJobs: 10_001 })).toEqual(["maxRunningJobs must be an integer in [1, 10000], got 10001"]);
    expect(problemsOf({ maxRunningJobs: 2.5 })).toEqual(["maxRunningJobs must be an integer in [1, 10000], got 2.5"]);
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

  it("reads maxRecordingHours and maxRunningJobs, as -c strings or cdk.json numbers", () => {
    const fromFlags: Record<string, unknown> = { "stt:maxRecordingHours": "30", "stt:maxRunningJobs": "8" };
    expect(settingsFromContext((k) => fromFlags[k])).toMatchObject({ maxRecordingHours: 30, maxRunningJobs: 8 });
    const fromJson: Record<string, unknown> = { "stt:maxRecordingHours": 0.5, "stt:maxRunningJobs": 250 };
    expect(settingsFromContext((k) => fromJson[k])).toMatchObject({ maxRecordingHours: 0.5, maxRunningJobs: 250 });
    expect(settingsFromContext(() => undefined)).toMatchObject({ maxRecordingHours: 24, maxRunningJobs: 100 });
  });

  it("refuses a running-jobs cap that is not a whole number in range, naming the setting", () => {
    const context: Record<string, unknown> = { "stt:maxRunningJobs": "many" };
    expect(() => settingsFromContext((k) => context[k])).toThrow(/maxRunningJobs must be an integer in \[1, 10000\], got NaN/);
  });
});
