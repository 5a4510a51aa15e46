/** `--max-cost` on `stt transcribe` and `stt cost [--day]`: parsed, checked by the chunker's rules, refused before anything runs. */
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { runCli, type CliCommands } from "../../cli/program.js";
import { flagsToMetadata, optionProblem } from "../../cli/transcribe-options.js";
import { parseJobOptions } from "../../shared/domain/options/options.js";

const existingFile = fileURLToPath(import.meta.url);

/** Runs the command line against commands that only record how they were called. */
async function stt(argv: string[]) {
  const calls: Array<{ command: string; args: unknown[] }> = [];
  const commands = new Proxy({} as CliCommands, {
    get: (_target, command: string) => async (...args: unknown[]) => {
      calls.push({ command, args });
      return 0;
    },
  });
  let stderr = "";
  const code = await runCli(argv, commands, { out: () => undefined, err: (text) => (stderr += text) });
  return { code, stderr, calls };
}

describe("stt transcribe --max-cost", () => {
  it("becomes the max-cost metadata the chunker reads, in US dollars", async () => {
    // Act
    const run = await stt(["transcribe", existingFile, "--max-cost", "0.25"]);

    // Assess
    expect(run.code).toBe(0);
    const [, , flags] = run.calls[0].args as [string, string, Record<string, string>];
    expect(flagsToMetadata(flags)).toEqual({ "max-cost": "0.25" });
    const parsed = parseJobOptions(flagsToMetadata(flags));
    expect(parsed.ok && parsed.options.maxCost).toBe(0.25);
  });

  it("is refused before anything runs when it is not an amount", async () => {
    // Act
    const run = await stt(["transcribe", existingFile, "--max-cost", "cheap"]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("max-cost 'cheap' must be a number from 0 to 100000");
    expect(run.calls).toEqual([]);
    expect(optionProblem({ "max-cost": "-1" }, "m")).toMatch(/max-cost/);
  });
});

describe("stt cost", () => {
  it("takes a UTC day, today when none is given", async () => {
    expect((await stt(["cost", "--day", "2026-02-28"])).calls).toEqual([{ command: "cost", args: [{ day: "2026-02-28", json: false }] }]);
    expect((await stt(["cost", "--json"])).calls).toEqual([{ command: "cost", args: [{ day: undefined, json: true }] }]);
  });

  it("refuses a day that is not one", async () => {
    const run = await stt(["cost", "--day", "2026-02-30"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("Expected a day as YYYY-MM-DD.");
  });
});
