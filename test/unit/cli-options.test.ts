import { describe, expect, it } from "vitest";
import { flagsToMetadata, optionProblem } from "../../cli/transcribe-options.js";

describe("the CLI's options, checked before anything is uploaded", () => {
  it("names the option that is wrong, as the chunker would", () => {
    // Act
    const problem = optionProblem({ "min-speakers": "3", "max-speakers": "1" }, "openai/whisper-large-v3");

    // Assess
    expect(problem).toMatch(/max-speakers \(1\) must be at least min-speakers \(3\)/);
  });

  it("lets good options through, and sends them as the metadata keys a user would set", () => {
    // Prepare
    const flags = { language: "en", "max-speakers": "2", "chunk-seconds": "auto" };

    // Act + Assess
    expect(optionProblem(flags, "openai/whisper-large-v3")).toBeUndefined();
    expect(flagsToMetadata(flags)).toEqual({ language: "en", "max-speakers": "2", "chunk-seconds": "auto" });
  });

  it("refuses a number that is not one", () => {
    expect(optionProblem({ temperature: "warm" }, "openai/whisper-large-v3")).toMatch(/temperature/);
  });
});
