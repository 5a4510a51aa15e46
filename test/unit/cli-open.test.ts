/** `stt open` and `stt up --viewer-port`: the command line, and what `open` prints for each state of the viewer. */
import { describe, expect, it } from "vitest";
import { runCli, type CliCommands } from "../../cli/program.js";
import { runOpen, type OpenDeps } from "../../cli/open.js";
import type { StackFile } from "../../cli/stack-session.js";

const JOB = "0123456789abcdef01234567";

/** The command line against commands that only record their calls, whatever commands there are. */
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

const stack = (viewerUrl?: string): StackFile =>
  ({ pid: 1, owner: "up", awsEndpoint: "http://127.0.0.1:4566", dynamodbEndpoint: "http://127.0.0.1:4567", viewerUrl }) as StackFile;

function deps(over: Partial<OpenDeps>) {
  const out: string[] = [];
  const err: string[] = [];
  const launched: Array<[string, string[]]> = [];
  const d: OpenDeps = {
    runningStack: async () => stack("http://127.0.0.1:4569"),
    status: async () => 200,
    which: () => "/usr/bin/xdg-open",
    launch: (command, args) => launched.push([command, args]),
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    ...over,
  };
  return { d, out, err, launched };
}

describe("stt open: the command line", () => {
  it("takes a job id and --browser; refuses what is not a job id with exit code 2", async () => {
    // Act
    const plain = await stt(["open", JOB]);
    const browser = await stt(["open", JOB, "--browser"]);
    const bad = await stt(["open", "../../etc"]);

    // Assess
    expect(plain.calls).toEqual([{ command: "open", args: [JOB, { browser: false }] }]);
    expect(browser.calls).toEqual([{ command: "open", args: [JOB, { browser: true }] }]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("is not a job id");
    expect(bad.calls).toEqual([]);
  });

  it("gives up a viewer port, 4569 unless --viewer-port says otherwise", async () => {
    // Act
    const given = await stt(["up", "--viewer-port", "5569"]);
    const bad = await stt(["up", "--viewer-port", "99999"]);

    // Assess
    expect(given.calls[0].args).toEqual([expect.objectContaining({ viewerPort: 5569 })]);
    expect(bad.code).toBe(2);
  });
});

describe("stt open: what it prints", () => {
  it("prints the job page's URL, and hands it to xdg-open with --browser", async () => {
    // Act
    const { d, out, launched } = deps({});
    const code = await runOpen(JOB, { browser: true }, d);

    // Assess
    expect(code).toBe(0);
    expect(out).toEqual([`http://127.0.0.1:4569/jobs/${JOB}`]);
    expect(launched).toEqual([["/usr/bin/xdg-open", [`http://127.0.0.1:4569/jobs/${JOB}`]]]);
  });

  it("still prints the URL without xdg-open, and says to open it by hand", async () => {
    // Act
    const { d, out, err } = deps({ which: () => undefined });
    const code = await runOpen(JOB, { browser: true }, d);

    // Assess
    expect(code).toBe(0);
    expect(out).toHaveLength(1);
    expect(err.join("\n")).toContain("xdg-open is not installed");
  });

  it("exits 1 when no viewer runs, when it does not answer, and for an unknown job", async () => {
    // Act
    const none = deps({ runningStack: async () => undefined });
    const old = deps({ runningStack: async () => stack(undefined) });
    const down = deps({ status: async () => Promise.reject(new Error("ECONNREFUSED")) });
    const unknown = deps({ status: async () => 404 });
    const codes = await Promise.all([none, old, down, unknown].map(({ d }) => runOpen(JOB, { browser: false }, d)));

    // Assess
    expect(codes).toEqual([1, 1, 1, 1]);
    expect(none.err[0]).toContain("npx stt up");
    expect(old.err[0]).toContain("npx stt up");
    expect(down.err[0]).toContain("does not answer");
    expect(unknown.err[0]).toBe(`no job ${JOB}`);
    expect([none, old, down, unknown].flatMap(({ out }) => out)).toEqual([]);
  });
});
