/** `stt rename`: its command line (the rename itself is tested in pipeline-rename-speaker.test.ts). */
import { describe, expect, it } from "vitest";
import { runCli, type CliCommands } from "../../cli/program.js";

/** Runs the command line against commands that only record how they were called. */
async function stt(argv: string[], result = 0) {
  const calls: Array<{ command: string; args: unknown[] }> = [];
  const commands = new Proxy({} as CliCommands, {
    get: (_target, command) => async (...args: unknown[]) => {
      calls.push({ command: String(command), args });
      return result;
    },
  });
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, commands, { out: (text) => (stdout += text), err: (text) => (stderr += text) });
  return { code, stdout, stderr, calls };
}

describe("stt rename", () => {
  it("hands the job, the speaker and the trimmed name to the command, and exits with its code", async () => {
    // Act
    const named = await stt(["rename", "job-1", "SPEAKER_01", " Grace Hopper "]);
    const cleared = await stt(["rename", "job-1", "SPEAKER_01", "--clear"], 1);

    // Assess
    expect(named).toMatchObject({ code: 0, calls: [{ command: "rename", args: ["job-1", "SPEAKER_01", "Grace Hopper"] }] });
    expect(cleared).toMatchObject({ code: 1, calls: [{ command: "rename", args: ["job-1", "SPEAKER_01", null] }] });
  });

  it("exits 2 with its usage, running nothing, without a name or --clear, with both, or with a bad name", async () => {
    for (const argv of [
      ["rename", "job-1", "SPEAKER_01"],
      ["rename", "job-1", "SPEAKER_01", "Ada", "--clear"],
      ["rename", "job-1", "SPEAKER_01", "x".repeat(65)],
      ["rename", "job-1", "SPEAKER_01", "  "],
      ["rename", "job-1"],
    ]) {
      // Act
      const run = await stt(argv);
      // Assess
      expect(run.code, argv.join(" ")).toBe(2);
      expect(run.calls).toEqual([]);
      expect(run.stderr).toContain("Usage: stt rename");
    }
  });

  it("is listed in the help", async () => {
    const run = await stt(["--help"]);
    expect(run.stdout).toMatch(/^  rename /m);
  });
});
