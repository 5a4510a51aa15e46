/** The `stt` command line: per-command options and help, exit codes, and checks made before anything runs. */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { runCli, type CliCommands } from "../../cli/program.js";

const packageVersion = (JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version: string }).version;
const existingFile = fileURLToPath(import.meta.url);

interface Call {
  command: keyof CliCommands;
  args: unknown[];
}

/** Runs the command line against commands that only record how they were called. */
async function stt(argv: string[], result = 0) {
  const calls: Call[] = [];
  const record =
    (command: keyof CliCommands) =>
    async (...args: unknown[]) => {
      calls.push({ command, args });
      return result;
    };
  const commands: CliCommands = {
    transcribe: record("transcribe"),
    up: record("up"),
    stream: record("stream"),
    status: record("status"),
    get: record("get"),
    rename: record("rename"),
    voicesAdd: record("voicesAdd"),
    voicesList: record("voicesList"),
    voicesRemove: record("voicesRemove"),
    vocabulary: record("vocabulary"),
    open: record("open"),
    jobs: record("jobs"),
    cancel: record("cancel"),
    rerun: record("rerun"),
    delete: record("delete"),
    cost: record("cost"),
  };
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, commands, { out: (text) => (stdout += text), err: (text) => (stderr += text) });
  return { code, stdout, stderr, calls };
}

describe("stt: help and version", () => {
  it("prints the package's version on stdout with --version", async () => {
    // Act
    const run = await stt(["--version"]);

    // Assess
    expect(run).toMatchObject({ code: 0, stdout: `${packageVersion}\n`, stderr: "", calls: [] });
  });

  it("prints help on stdout, listing every command", async () => {
    // Act
    const run = await stt(["--help"]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    for (const command of ["transcribe", "up", "stream", "status", "get"]) expect(run.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
  });

  it("gives each command its own help, with its own options only", async () => {
    // Act
    const transcribe = await stt(["transcribe", "--help"]);
    const up = await stt(["help", "up"]);

    // Assess
    expect(transcribe.code).toBe(0);
    expect(transcribe.stdout).toMatch(/^Usage: stt transcribe \[options\] <file>/);
    for (const option of ["--format", "--language", "--prompt", "--temperature", "--model", "--translate", "--no-diarize", "--min-speakers", "--max-speakers", "--chunk-seconds", "--overlap-seconds"]) {
      expect(transcribe.stdout).toContain(option);
    }
    expect(transcribe.stdout).not.toContain("--port");
    expect(up.code).toBe(0);
    expect(up.stdout).toMatch(/^Usage: stt up \[options\]/);
    expect(up.stdout).toContain("--dynamodb-port");
    expect(up.stdout).not.toContain("--max-speakers");
  });

  it("shows the usage on stderr and exits 2 without a command", async () => {
    // Act
    const run = await stt([]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/Usage: stt/);
  });
});

describe("stt: a wrong command line exits 2 with the command's usage, and runs nothing", () => {
  it.each([
    ["an unknown command", ["transcrib", "x.mp3"], /unknown command 'transcrib'/, /Usage: stt \[options\] \[command\]/],
    ["an unknown option", ["transcribe", existingFile, "--max-speaker", "2"], /unknown option '--max-speaker'/, /Usage: stt transcribe/],
    ["another command's option", ["up", "--format", "srt"], /unknown option '--format'/, /Usage: stt up/],
    ["a port that is not a number", ["up", "--port", "abc"], /'--port <port>' argument 'abc' is invalid/, /Usage: stt up/],
    ["a port out of range", ["up", "--realtime-port", "70000"], /'--realtime-port <port>' argument '70000' is invalid/, /Usage: stt up/],
    ["a missing option value", ["up", "--dynamodb-port"], /option '--dynamodb-port <port>' argument missing/, /Usage: stt up/],
    ["a speed that is not a number", ["stream", existingFile, "--speed", "fast"], /'--speed <n>' argument 'fast' is invalid/, /Usage: stt stream/],
    ["a speed of zero", ["stream", existingFile, "--speed", "0"], /'--speed <n>' argument '0' is invalid/, /Usage: stt stream/],
    ["an unknown format", ["get", "job1", "--format", "docx"], /Allowed choices are json, verbose_json, text, srt, vtt/, /Usage: stt get/],
    ["a missing argument", ["status"], /missing required argument 'jobId'/, /Usage: stt status/],
    ["an extra argument", ["get", "job1", "job2"], /too many arguments/, /Usage: stt get/],
    ["a file that does not exist", ["transcribe", "no-such-file.mp3"], /no such file: no-such-file\.mp3/, /Usage: stt transcribe/],
  ])("%s", async (_what, argv, error, usage) => {
    // Act
    const run = await stt(argv);

    // Assess
    expect(run.code).toBe(2);
    expect(run.calls).toEqual([]);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(error);
    expect(run.stderr).toMatch(usage);
  });

  it.each([
    [["--max-speakers", "abc"], /max-speakers 'abc' must be a whole number from 1 to 20/],
    [["--min-speakers", "3", "--max-speakers", "1"], /max-speakers \(1\) must be at least min-speakers \(3\)/],
    [["--temperature", "warm"], /temperature 'warm' must be a number from 0 to 1/],
    [["--chunk-seconds", "5"], /chunk-seconds '5' must be a number from 20 to 1200, or 'auto'/],
    [["--language", "english"], /language 'english' is not an ISO 639-1 code/],
  ])("checks transcribe's job options %j before anything is uploaded", async (options, reason) => {
    // Act
    const run = await stt(["transcribe", existingFile, ...options]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.calls).toEqual([]);
    expect(run.stderr).toMatch(reason);
    expect(run.stderr).toMatch(/Usage: stt transcribe/);
  });
});

describe("stt: each command gets its own options", () => {
  it("hands transcribe its file, format and job options as the metadata-named flags", async () => {
    // Act
    const run = await stt([
      "transcribe", existingFile, "--format", "srt", "--language", "en", "--prompt", "-Acme- call", "--temperature", "0.2",
      "--model", "openai/whisper-large-v3", "--translate", "--no-diarize", "--min-speakers", "2", "--max-speakers", "4",
      "--chunk-seconds", "auto", "--overlap-seconds", "3",
    ]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.calls).toEqual([
      {
        command: "transcribe",
        args: [
          existingFile,
          "srt",
          {
            language: "en", prompt: "-Acme- call", temperature: "0.2", model: "openai/whisper-large-v3", translate: true,
            "no-diarize": true, "min-speakers": "2", "max-speakers": "4", "chunk-seconds": "auto", "overlap-seconds": "3",
          },
        ],
      },
    ]);
  });

  it("defaults transcribe to text, with no job options of its own", async () => {
    // Act
    const run = await stt(["transcribe", existingFile]);

    // Assess
    expect(run.calls).toEqual([{ command: "transcribe", args: [existingFile, "text", {}] }]);
  });

  it("parses up's ports as numbers, with the documented defaults", async () => {
    // Act
    const defaults = await stt(["up"]);
    const given = await stt(["up", "--port", "5566", "--dynamodb-port", "5567", "--realtime-port", "5568"]);

    // Assess
    expect(defaults.calls[0].args).toEqual([{ awsPort: 4566, dynamodbPort: 4567, realtimePort: undefined, viewerPort: 4569 }]);
    expect(given.calls[0].args).toEqual([{ awsPort: 5566, dynamodbPort: 5567, realtimePort: 5568, viewerPort: 4569 }]);
  });

  it("parses stream's speed as a number, and its format only when given", async () => {
    // Act
    const plain = await stt(["stream", existingFile]);
    const fast = await stt(["stream", existingFile, "--speed", "2.5", "--format", "verbose_json", "--url", "ws://h/v1/realtime", "--key", "k"]);

    // Assess
    expect(plain.calls[0].args).toEqual([existingFile, undefined, {}]);
    expect(fast.calls[0].args).toEqual([existingFile, "verbose_json", { speed: 2.5, url: "ws://h/v1/realtime", key: "k" }]);
  });

  it("hands status and get their job id; get defaults to text", async () => {
    // Act
    const status = await stt(["status", "job1"]);
    const get = await stt(["get", "job1"]);
    const getSrt = await stt(["get", "job1", "--format", "srt"]);

    // Assess
    expect(status.calls).toEqual([{ command: "status", args: ["job1"] }]);
    expect(get.calls).toEqual([{ command: "get", args: ["job1", "text"] }]);
    expect(getSrt.calls).toEqual([{ command: "get", args: ["job1", "srt"] }]);
  });

  it("exits with the code the command returns", async () => {
    // Act
    const run = await stt(["status", "job1"], 1);

    // Assess
    expect(run.code).toBe(1);
  });
});

describe("bin/stt.js", () => {
  const bin = fileURLToPath(new URL("../../bin/stt.js", import.meta.url));
  const exec = promisify(execFile);

  it("prints the version, and exits 2 on a bad number, as a process", async () => {
    // Act
    const version = await exec(process.execPath, [bin, "--version"]);
    const bad = await exec(process.execPath, [bin, "up", "--port", "abc"]).then(
      () => ({ code: 0, stdout: "", stderr: "" }),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );

    // Assess
    expect(version.stdout).toBe(`${packageVersion}\n`);
    expect(bad.code).toBe(2);
    expect(bad.stdout).toBe("");
    expect(bad.stderr).toMatch(/argument 'abc' is invalid[\s\S]*Usage: stt up/);
  });
});
