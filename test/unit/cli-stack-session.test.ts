/**
 * One process at a time opens the state folder's dynalite files: the others use its stack, or, when the
 * folder stays busy without one, a stack of their own off the folder.
 */
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeAll, describe, expect, it } from "vitest";
import type { LocalStack } from "../../local/stack.js";

const stateDir = mkdtempSync(join(tmpdir(), "stt-state-"));
process.env.STT_STATE_DIR = stateDir;
let session: typeof import("../../cli/stack-session.js");

beforeAll(async () => {
  // STATE_DIR is read when the module loads.
  session = await import("../../cli/stack-session.js");
});

afterEach(() => {
  session.unlockStateDir();
});

/** A stack that starts nothing: what openSession does with it is the point here. */
function fakeStack(events: string[], name: string): LocalStack {
  return {
    emulators: { awsEndpoint: `http://127.0.0.1:9/${name}`, dynamodbEndpoint: "http://127.0.0.1:9" },
    resources: { table: "stt-jobs" },
    clients: {},
    ctx: { jobs: {} },
    stop: async () => {
      events.push(`stop ${name}`);
    },
  } as unknown as LocalStack;
}

/** Another live process, gone when `ms` have passed. */
function otherProcess(ms: number) {
  const child = spawn(process.execPath, ["-e", `setTimeout(() => {}, ${ms})`], { stdio: "ignore" });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return { pid: child.pid!, exited, kill: () => child.kill() };
}

describe("the state folder's lock", () => {
  it("is taken by one process; a lock whose process is gone is taken over", () => {
    // Prepare
    writeFileSync(join(stateDir, "stack.lock"), "999999999");

    // Act
    const first = session.tryLockStateDir();
    const second = session.tryLockStateDir();

    // Assess
    expect(first).toEqual({ locked: true });
    expect(second).toEqual({ locked: false, holder: process.pid });
    expect(readFileSync(join(stateDir, "stack.lock"), "utf8")).toBe(String(process.pid));
  });
});

describe("openSession", () => {
  it("offers the stack it started, keeps it up while another process uses it, then gives the folder back", async () => {
    // Prepare
    const events: string[] = [];
    const notes: string[] = [];
    const opened = await session.openSession(async () => fakeStack(events, "mine"), {
      lend: { provider: { baseUrl: "http://provider/v1", model: "m" } },
      note: (line) => notes.push(line),
    });
    const offered = JSON.parse(readFileSync(join(stateDir, "stack.json"), "utf8")) as { pid: number; owner: string; provider: unknown };
    const user = otherProcess(1000);
    mkdirSync(join(stateDir, "users"), { recursive: true });
    writeFileSync(join(stateDir, "users", String(user.pid)), "");

    // Act
    await opened.close();
    events.push(existsSync(join(stateDir, "users", String(user.pid))) ? "user still registered" : "user gone");

    // Assess
    expect(offered).toMatchObject({ pid: process.pid, owner: "run", provider: { baseUrl: "http://provider/v1", model: "m" } });
    expect(notes).toEqual([`keeping the local stack up for 1 other run using it (pid ${user.pid}); Ctrl-C stops it anyway`]);
    expect(events).toEqual(["stop mine", "user gone"]);
    expect(existsSync(join(stateDir, "stack.json"))).toBe(false);
    expect(existsSync(join(stateDir, "stack.lock"))).toBe(false);
  });

  it("runs a stack of its own, and says so, when another process holds the folder and offers none", async () => {
    // Prepare
    const holder = otherProcess(30_000);
    writeFileSync(join(stateDir, "stack.lock"), String(holder.pid));
    const events: string[] = [];
    const notes: string[] = [];

    // Act
    const opened = await session.openSession(async () => fakeStack(events, "on the folder"), {
      lend: {},
      fallback: async () => fakeStack(events, "in memory"),
      note: (line) => notes.push(line),
      waitMs: 300,
    });
    await opened.close();
    holder.kill();
    await holder.exited;

    // Assess
    expect(events).toEqual(["stop in memory"]);
    expect(notes.at(-1)).toMatch(new RegExp(`in use by pid ${holder.pid}, which offers no stack to use: this run keeps its job in memory`));
    expect(readFileSync(join(stateDir, "stack.lock"), "utf8")).toBe(String(holder.pid));
  });

  it("refuses, naming the holder, when it has no stack of its own to fall back on", async () => {
    // Prepare
    const holder = otherProcess(30_000);
    writeFileSync(join(stateDir, "stack.lock"), String(holder.pid));

    // Act
    const opening = session.openSession(async () => fakeStack([], "on the folder"), { waitMs: 300 });

    // Assess
    await expect(opening).rejects.toThrow(`is in use by pid ${holder.pid}`);
    holder.kill();
    await holder.exited;
  });
});
