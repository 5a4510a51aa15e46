import { describe, expect, it } from "vitest";
import { runCli, type CliCommands } from "../../cli/program.js";
import { flagsToMetadata, optionProblem } from "../../cli/transcribe-options.js";

async function stt(argv: string[]) {
  const calls: Array<{ command: string; args: unknown[] }> = [];
  const commands = new Proxy({} as CliCommands, {
    get: (_t, command: string) => async (...args: unknown[]) => {
      calls.push({ command, args });
      return 0;
    },
  });
  let stderr = "";
  const code = await runCli(argv, commands, { out: () => undefined, err: (text) => (stderr += text) });
  return { code, calls, stderr };
}

describe("stt vocabulary and the word-list flags", () => {
  it("registers a vocabulary, or a filter with --filter", async () => {
    expect((await stt(["vocabulary", "add", "acme", "package.json"])).calls).toEqual([
      { command: "vocabulary", args: [{ action: "add", kind: "vocabulary", name: "acme", file: "package.json" }] },
    ]);
    expect((await stt(["vocabulary", "add", "--filter", "profanity", "package.json"])).calls).toEqual([
      { command: "vocabulary", args: [{ action: "add", kind: "filter", name: "profanity", file: "package.json" }] },
    ]);
    expect((await stt(["vocabulary", "remove", "--filter", "profanity"])).calls[0].args).toEqual([{ action: "remove", kind: "filter", name: "profanity" }]);
  });

  it("refuses a bad list name with exit 2", async () => {
    const run = await stt(["vocabulary", "add", "no spaces", "package.json"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("list name 'no spaces'");
  });

  it("sends the flags as the metadata keys, checked like the chunker checks them", async () => {
    expect(flagsToMetadata({ vocabulary: "acme", filter: "profanity", "filter-method": "tag", redact: "pii" })).toEqual({
      vocabulary: "acme",
      filter: "profanity",
      "filter-method": "tag",
      redact: "pii",
    });
    expect(optionProblem({ filter: "profanity", "filter-method": "blur" }, "m")).toBe("filter-method 'blur' must be one of mask, remove, tag");
    const run = await stt(["transcribe", "package.json", "--redact", "everything"]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain("redact 'everything' must be one of pii");
  });
});
