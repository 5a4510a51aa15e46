import { describe, expect, it } from "vitest";
import { runCli, type CliCommands } from "../../cli/program.js";
import { voiceKey } from "../../cli/voices.js";

/** The command line against commands that only record how they were called. */
async function stt(argv: string[]) {
  const calls: Array<{ command: string; args: unknown[] }> = [];
  const record = (command: string) => async (...args: unknown[]) => {
    calls.push({ command, args });
    return 0;
  };
  const commands = new Proxy({} as CliCommands, { get: (_target, name) => record(String(name)) });
  let stderr = "";
  const code = await runCli(argv, commands, { out: () => undefined, err: (text) => (stderr += text) });
  return { code, stderr, calls };
}

describe("stt voices", () => {
  it("adds a voice from an existing file", async () => {
    // Act
    const run = await stt(["voices", "add", "alice", "package.json"]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.calls).toEqual([{ command: "voicesAdd", args: ["alice", "package.json"] }]);
  });

  it("refuses a bad name or a missing file before anything runs", async () => {
    // Act
    const badName = await stt(["voices", "add", "al ice", "package.json"]);
    const noFile = await stt(["voices", "add", "alice", "no-such-file.wav"]);

    // Assess
    expect(badName.code).toBe(2);
    expect(badName.stderr).toContain("voice name 'al ice' must be");
    expect(noFile.code).toBe(2);
    expect(badName.calls.concat(noFile.calls)).toEqual([]);
  });

  it("lists and removes", async () => {
    expect((await stt(["voices", "list"])).calls).toEqual([{ command: "voicesList", args: [] }]);
    expect((await stt(["voices", "remove", "alice"])).calls).toEqual([{ command: "voicesRemove", args: ["alice"] }]);
  });

  it("transcribe --speakers is checked by the chunker's rules before upload", async () => {
    // Act
    const ok = await stt(["transcribe", "package.json", "--speakers", "alice,bob"]);
    const bad = await stt(["transcribe", "package.json", "--speakers", "alice,bob", "--no-diarize"]);

    // Assess
    expect(ok.calls[0]).toMatchObject({ command: "transcribe", args: ["package.json", "text", { speakers: "alice,bob" }] });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("speakers needs diarization");
  });

  it("uploads a clip under voices/<name> with its extension", () => {
    expect(voiceKey("alice", "/tmp/Alice Clip.WAV")).toBe("voices/alice.wav");
    expect(voiceKey("bob", "/tmp/bob")).toBe("voices/bob.wav");
  });
});
