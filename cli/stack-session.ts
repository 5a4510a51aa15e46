import { closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import { providerFromEnv } from "./provider-env.js";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { createClients, type PipelineClients } from "../shared/clients.js";
import { JobStore } from "../shared/adapters/job-store.js";
import { startLocalStack, type LocalStack, type LocalStackOptions } from "../local/stack.js";
import type { LocalResources } from "../local/resources.js";

/**
 * What the process running a stack on the state folder writes, so other commands use that stack instead of
 * opening the same dynalite files (a second opener finds LevelDB locked and dies with "Database is closed").
 */
export interface StackFile {
  pid: number;
  /** `stt up`, or a command that started the stack for its own job and lends it while it runs. */
  owner: "up" | "run";
  awsEndpoint: string;
  dynamodbEndpoint: string;
  realtimeUrl?: string;
  /** The transcript viewer `stt up` serves (local/viewer-server.ts): `stt open` prints its pages' URLs. */
  viewerUrl?: string;
  /** The provider its pipeline calls (never the key). */
  provider?: { baseUrl: string; model: string };
  resources: LocalResources;
}

export const STATE_DIR = resolve(process.env.STT_STATE_DIR ?? ".stt");
const STACK_FILE = join(STATE_DIR, "stack.json");
/** Held (O_EXCL) by the one process that runs a stack on the state folder, from before it starts until it has stopped. */
const LOCK_FILE = join(STATE_DIR, "stack.lock");
/** One file per process using another's stack, so the owner keeps it up until they are done. */
const USERS_DIR = join(STATE_DIR, "users");

/** A handle on a local stack: one this process started, or one another process runs. */
export interface StackSession {
  clients: PipelineClients;
  resources: LocalResources;
  jobs: JobStore;
  embedded?: LocalStack;
  /** The stack another process runs, when this session uses one. */
  borrowed?: StackFile;
  close(): Promise<void>;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: alive, owned by someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function readStackFile(): StackFile | undefined {
  try {
    return JSON.parse(readFileSync(STACK_FILE, "utf8")) as StackFile;
  } catch {
    return undefined;
  }
}

export async function findRunningStack(): Promise<StackFile | undefined> {
  const file = readStackFile();
  if (!file || !isAlive(file.pid)) return undefined;
  try {
    const res = await fetch(`${file.awsEndpoint}/health`, { signal: AbortSignal.timeout(1000) });
    if (res.ok) return file;
  } catch {
    // not answering: stopping, or stale
  }
  return undefined;
}

export function writeStackFile(file: StackFile): void {
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(STACK_FILE, JSON.stringify(file, null, 2));
}

export function removeStackFile(): void {
  if (readStackFile()?.pid === process.pid) rmSync(STACK_FILE, { force: true });
}

/** Who runs what on the state folder, for messages: `pid 123 (stt up)`. */
export function describeStack(file: StackFile): string {
  return `pid ${file.pid}, ${file.owner === "up" ? "`stt up`" : "another `stt` run in this folder"}`;
}

/**
 * Takes the state folder for this process, or names the live process that holds it. A lock left by a
 * process that is gone (killed, crashed) is taken over.
 */
export function tryLockStateDir(): { locked: true } | { locked: false; holder: number } {
  mkdirSync(STATE_DIR, { recursive: true });
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fd = openSync(LOCK_FILE, "wx");
      writeSync(fd, String(process.pid));
      closeSync(fd);
      return { locked: true };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
    }
    const holder = Number(readFileSync(LOCK_FILE, "utf8").trim() || NaN);
    // Empty: its holder is between creating and writing it.
    if (Number.isNaN(holder) || isAlive(holder)) return { locked: false, holder };
    rmSync(LOCK_FILE, { force: true });
  }
  return { locked: false, holder: NaN };
}

export function unlockStateDir(): void {
  try {
    if (Number(readFileSync(LOCK_FILE, "utf8").trim()) === process.pid) rmSync(LOCK_FILE, { force: true });
  } catch {
    // already gone
  }
}

/** Processes registered as using this process's stack, still alive (the others' files are cleared). */
function liveUsers(): number[] {
  let names: string[];
  try {
    names = readdirSync(USERS_DIR);
  } catch {
    return [];
  }
  const live: number[] = [];
  for (const name of names) {
    const pid = Number(name);
    if (pid !== process.pid && isAlive(pid)) live.push(pid);
    else if (pid !== process.pid) rmSync(join(USERS_DIR, name), { force: true });
  }
  return live;
}

function registerUser(): () => void {
  mkdirSync(USERS_DIR, { recursive: true });
  const path = join(USERS_DIR, String(process.pid));
  writeFileSync(path, "");
  const unregister = () => rmSync(path, { force: true });
  process.once("exit", unregister);
  return () => {
    process.off("exit", unregister);
    unregister();
  };
}

/**
 * Longest wait before a failed message is tried again, on the stacks the CLI starts: the wiring's backoff
 * (10 s doubling to 300 s) over 5 receives takes 2.5 minutes to fail a job whose provider cannot be
 * reached; capped, a run that cannot succeed ends within a minute, and a passing outage still gets 5 tries
 * over about 30 s.
 */
export const CLI_RETRY_DELAY_CAP_SECONDS = 6;

/** The stack on the state folder that `stt up`, `stt transcribe` and `stt status|get` start when none runs. */
export async function startEmbeddedStack(options: Omit<LocalStackOptions, "dataDir">): Promise<LocalStack> {
  return startCliStack({ ...options, dataDir: join(STATE_DIR, "dynamodb"), outputsDir: join(STATE_DIR, "outputs"), voicesDir: join(STATE_DIR, "voices") });
}

/** A stack for a CLI command, where a person waits for the answer (see CLI_RETRY_DELAY_CAP_SECONDS). */
export async function startCliStack(options: LocalStackOptions): Promise<LocalStack> {
  return startLocalStack({
    ...options,
    retryDelayCapSeconds: Math.min(options.retryDelayCapSeconds ?? options.visibilityTimeoutSeconds ?? Infinity, CLI_RETRY_DELAY_CAP_SECONDS),
  });
}

export interface OpenOptions {
  /** A private stack (`start` must not use the state folder): no other process is looked for. */
  forceEmbedded?: boolean;
  /** What to publish when this process starts the stack, so other runs use it: omit to keep it to itself. */
  lend?: Pick<StackFile, "provider">;
  /** When the state folder stays busy without a stack to use: a stack of this run's own, off the folder. */
  fallback?: () => Promise<LocalStack>;
  /** Lines for the user (stderr): which stack is used, and why this process waits. */
  note?: (line: string) => void;
  /** How long to wait for a process that holds the state folder to offer its stack. */
  waitMs?: number;
}

/**
 * Connects to the stack another process runs on the state folder (`stt up`, or a run that started one and
 * lends it), or starts one in this process. Only one process opens the folder's dynalite files: the one
 * holding the lock; the others wait for its stack to be offered, then use it.
 */
export async function openSession(start: () => Promise<LocalStack>, opts: OpenOptions = {}): Promise<StackSession> {
  if (opts.forceEmbedded) return ownedSession(await start());
  const note = opts.note ?? (() => undefined);
  const since = Date.now();
  let told = false;
  for (;;) {
    // Registered before looking, so an owner that is about to stop sees this process and stays (see lendUntilUnused).
    const unregister = registerUser();
    const running = await findRunningStack();
    if (running) {
      note(`using the local stack of ${describeStack(running)}${running.provider ? ` (provider ${running.provider.baseUrl})` : ""}`);
      return borrowedSession(running, unregister);
    }
    unregister();
    const lock = tryLockStateDir();
    if (lock.locked) {
      let stack: LocalStack;
      try {
        stack = await start();
      } catch (error) {
        unlockStateDir();
        throw error;
      }
      if (!opts.lend) return ownedSession(stack, { afterStop: unlockStateDir });
      const published: StackFile = {
        pid: process.pid,
        owner: "run",
        awsEndpoint: stack.emulators.awsEndpoint,
        dynamodbEndpoint: stack.emulators.dynamodbEndpoint,
        resources: stack.resources,
        ...opts.lend,
      };
      writeStackFile(published);
      return ownedSession(stack, {
        beforeStop: () => lendUntilUnused(published, note),
        afterStop: () => {
          removeStackFile();
          unlockStateDir();
        },
      });
    }
    if (Date.now() - since > (opts.waitMs ?? 30_000)) {
      const holder = Number.isNaN(lock.holder) ? "another process" : `pid ${lock.holder}`;
      if (!opts.fallback) throw new Error(`${STATE_DIR} is in use by ${holder}, which offers no stack to use; try again when it ends`);
      note(
        `${STATE_DIR} is in use by ${holder}, which offers no stack to use: this run keeps its job in memory ` +
          "(`stt status`/`stt get` will not find it after the run ends)",
      );
      return ownedSession(await opts.fallback());
    }
    if (!told && Date.now() - since > 1500) {
      note(`waiting for pid ${lock.holder}, which holds ${STATE_DIR}, to start its stack or finish...`);
      told = true;
    }
    await sleep(200);
  }
}

/** `afterStop` runs once the stack has stopped (dynalite's files closed), also when the process exits early. */
function ownedSession(stack: LocalStack, hooks: { beforeStop?: () => Promise<void>; afterStop?: () => void } = {}): StackSession {
  const { afterStop } = hooks;
  if (afterStop) process.once("exit", afterStop);
  return {
    clients: stack.clients,
    resources: stack.resources,
    jobs: stack.ctx.jobs,
    embedded: stack,
    async close() {
      try {
        await hooks.beforeStop?.();
        await stack.stop();
      } finally {
        if (afterStop) {
          process.off("exit", afterStop);
          afterStop();
        }
      }
    },
  };
}

function borrowedSession(running: StackFile, unregister: () => void): StackSession {
  const clients = createClients({ aws: running.awsEndpoint, dynamodb: running.dynamodbEndpoint });
  return {
    clients,
    resources: running.resources,
    jobs: new JobStore(clients.dynamo, running.resources.table),
    borrowed: running,
    close: async () => unregister(),
  };
}

/**
 * Keeps the stack up while other processes use it. The stack file is taken away only when nobody uses the
 * stack, then the users are counted once more: one that registered before the file went may have read it,
 * so the file comes back and the wait goes on.
 */
async function lendUntilUnused(published: StackFile, note: (line: string) => void): Promise<void> {
  let shown = "";
  for (;;) {
    const users = liveUsers();
    if (users.length === 0) {
      removeStackFile();
      if (liveUsers().length === 0) return;
      writeStackFile(published);
      continue;
    }
    const line = `keeping the local stack up for ${users.length} other run${users.length > 1 ? "s" : ""} using it (pid ${users.join(", ")}); Ctrl-C stops it anyway`;
    if (line !== shown) note(line);
    shown = line;
    await sleep(500);
  }
}

/** A session on a stack someone else owns (tests, benchmarks): closing it leaves the stack running. */
export function sessionOn(stack: LocalStack): StackSession {
  return { clients: stack.clients, resources: stack.resources, jobs: stack.ctx.jobs, embedded: stack, close: async () => undefined };
}

/**
 * Runs a command that needs no provider (listing, cancelling, removing) on the running stack, or on one started
 * for it from the state on disk; the stack's provider is the configured one when there is a key, else a
 * placeholder nothing calls.
 */
export async function withStackSession(use: (session: StackSession) => Promise<number>): Promise<number> {
  const provider = providerFromEnv() ?? { baseUrl: "http://127.0.0.1:9", apiKey: "unused", model: "unused" };
  const session = await openSession(() => startEmbeddedStack({ provider }));
  try {
    return await use(session);
  } finally {
    await session.close();
  }
}
