/** `stt transcribe <https URL>`: a URL is not a file to check; a URL of another scheme is refused before anything runs. */
import { describe, expect, it } from "vitest";
import { runCli, type CliCommands } from "../../cli/program.js";

/** Runs the command line against commands that only record how they were called. */
async function stt(argv: string[]) {
  const calls: Array<{ command: string; args: unknown[] }> = [];
  const commands = new Proxy({} as CliCommands, {
    get: (_target, command) => async (...args: unknown[]) => {
      calls.push({ command: String(command), args });
      return 0;
    },
  });
  let stderr = "";
  const code = await runCli(argv, commands, { out: () => undefined, err: (text) => (stderr += text) });
  return { code, stderr, calls };
}

describe("stt transcribe with a URL", () => {
  it("passes an https URL on, as the recording to fetch", async () => {
    // Act
    const run = await stt(["transcribe", "https://example.com/talk.mp3?sig=abc", "--language", "en"]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.calls).toEqual([{ command: "transcribe", args: ["https://example.com/talk.mp3?sig=abc", "text", { language: "en" }] }]);
  });

  it.each(["http://example.com/talk.mp3?sig=abc", "ftp://example.com/talk.mp3"])("refuses %s with exit code 2, without its query string", async (url) => {
    // Act
    const run = await stt(["transcribe", url]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.calls).toEqual([]);
    expect(run.stderr).toMatch(/error: only https URLs are accepted: (http|ftp):\/\/example\.com\/talk\.mp3/);
    expect(run.stderr).not.toContain("sig=abc");
  });
});
