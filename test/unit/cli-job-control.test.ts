/** `stt jobs`, `stt cancel`, `stt rerun`, `stt delete`: their command lines, and the jobs table. */
import { describe, expect, it } from "vitest";
import { runCli, type CliCommands } from "../../cli/program.js";
import { jobTable } from "../../cli/jobs.js";
import { jobRecord } from "../support/job-fixtures.js";

const JOB = "0123456789abcdef01234567";

/** Runs the command line against commands that only record how they were called. */
async function stt(argv: string[]) {
  const calls: Array<{ command: string; args: unknown[] }> = [];
  const commands = new Proxy({} as CliCommands, {
    get:
      (_target, command) =>
      async (...args: unknown[]) => {
        calls.push({ command: String(command), args });
        return 0;
      },
  });
  let stdout = "";
  let stderr = "";
  const code = await runCli(argv, commands, { out: (text) => (stdout += text), err: (text) => (stderr += text) });
  return { code, stdout, stderr, calls };
}

describe("stt jobs", () => {
  it("lists 20 jobs of any status by default", async () => {
    // Act
    const run = await stt(["jobs"]);

    // Assess
    expect(run.calls).toEqual([{ command: "jobs", args: [{ status: undefined, limit: 20, json: false }] }]);
  });

  it("takes a status in any case, a limit and --json", async () => {
    // Act
    const run = await stt(["jobs", "--status", "cancelled", "--limit", "5", "--json"]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.calls).toEqual([{ command: "jobs", args: [{ status: "CANCELLED", limit: 5, json: true }] }]);
  });

  it.each([
    [["jobs", "--status", "DONE"], /Expected one of CHUNKING, QUEUED, RUNNING, COMPLETED, FAILED, CANCELLED/],
    [["jobs", "--limit", "0"], /Expected a whole number from 1 to 1000/],
    [["jobs", "--limit", "ten"], /Expected a whole number/],
  ])("refuses %j with exit code 2 before anything runs", async (argv, reason) => {
    // Act
    const run = await stt(argv);

    // Assess
    expect(run.code).toBe(2);
    expect(run.calls).toEqual([]);
    expect(run.stderr).toMatch(reason);
    expect(run.stderr).toMatch(/Usage: stt jobs/);
  });
});

describe("stt cancel / delete", () => {
  it.each(["cancel", "delete"])("%s hands on a job id", async (command) => {
    // Act
    const run = await stt([command, JOB]);

    // Assess
    expect(run.calls).toEqual([{ command, args: [JOB] }]);
  });

  it.each(["cancel", "delete", "rerun"])("%s refuses what is not a job id, with exit code 2", async (command) => {
    // Act
    const run = await stt([command, "meeting.mp3"]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.calls).toEqual([]);
    expect(run.stderr).toMatch(/'meeting.mp3' is not a job id/);
  });
});

describe("stt rerun", () => {
  it("hands on only the options given, as upload metadata", async () => {
    // Act
    const run = await stt(["rerun", JOB, "--max-speakers", "3", "--language", "de", "--prompt", "Grüße"]);

    // Assess
    expect(run.code).toBe(0);
    expect(run.calls).toEqual([
      { command: "rerun", args: [JOB, { "max-speakers": "3", language: "de", prompt: "=?UTF-8?B?R3LDvMOfZQ==?=" }] },
    ]);
  });

  it("with no flags changes nothing", async () => {
    // Act
    const run = await stt(["rerun", JOB]);

    // Assess
    expect(run.calls).toEqual([{ command: "rerun", args: [JOB, {}] }]);
  });

  it.each([
    [["--no-diarize"], { diarize: "false" }],
    [["--diarize"], { diarize: "true" }],
    [["--translate"], { task: "translate" }],
    [["--transcribe"], { task: "transcribe" }],
    [["--chunk-seconds", "auto", "--overlap-seconds", "2"], { "chunk-seconds": "auto", "overlap-seconds": "2" }],
    [["--speakers", "alice,bob"], { speakers: "alice,bob" }],
  ])("turns %j into %j", async (flags, overrides) => {
    // Act
    const run = await stt(["rerun", JOB, ...flags]);

    // Assess
    expect(run.calls).toEqual([{ command: "rerun", args: [JOB, overrides] }]);
  });

  it.each([
    [["--max-speakers", "0"], /max-speakers '0' must be a whole number from 1 to 20/],
    [["--temperature", "hot"], /temperature 'hot'/],
    [["--translate", "--transcribe"], /--translate or --transcribe, not both/],
    [["--format", "srt"], /unknown option '--format'/],
  ])("refuses %j with exit code 2", async (flags, reason) => {
    // Act
    const run = await stt(["rerun", JOB, ...flags]);

    // Assess
    expect(run.code).toBe(2);
    expect(run.calls).toEqual([]);
    expect(run.stderr).toMatch(reason);
  });

  it("lists the job control commands in the help", async () => {
    // Act
    const run = await stt(["--help"]);

    // Assess
    for (const command of ["jobs", "cancel", "rerun", "delete"]) expect(run.stdout).toMatch(new RegExp(`^  ${command} `, "m"));
  });
});

describe("jobTable", () => {
  it("shows one aligned line per job, with the reason of a failure last", () => {
    // Prepare
    const jobs = [
      jobRecord({ jobId: "a".repeat(24), status: "COMPLETED", duration: 190.2, speakers: ["SPEAKER_00", "SPEAKER_01", "SPEAKER_02"] }),
      jobRecord({ jobId: "b".repeat(24), status: "FAILED", duration: undefined, error: "unsupported file type '.txt'", source: { bucket: "stt-input", key: "notes.txt" } }),
      jobRecord({ jobId: "c".repeat(24), status: "CANCELLED", duration: 4000 }),
    ];

    // Act
    const lines = jobTable(jobs).trimEnd().split("\n");

    // Assess
    expect(lines[0]).toMatch(/^ID\s+STATUS\s+CREATED\s+DURATION\s+SPEAKERS\s+SOURCE\s+REASON$/);
    expect(lines[1]).toMatch(/^a{24}  COMPLETED  2026-01-01 00:00:00Z\s+3:10\s+3  calls\/call\.mp3$/);
    expect(lines[2]).toMatch(/^b{24}  FAILED\s+2026-01-01 00:00:00Z\s+-\s+-  notes\.txt\s+unsupported file type '\.txt'$/);
    expect(lines[3]).toMatch(/^c{24}  CANCELLED  .*1:06:40\s+-  calls\/call\.mp3$/);
    // Columns line up: every status starts where the header's does
    const at = lines[0].indexOf("STATUS");
    for (const line of lines.slice(1)) expect(line.slice(at)).toMatch(/^(COMPLETED|FAILED|CANCELLED)/);
  });
});
