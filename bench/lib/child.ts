/**
 * Bench helpers run in child processes so that what is measured (a chunker's
 * RSS, a provider's CPU) is not mixed with the process that measures it. A
 * child serves named calls over the IPC channel and announces itself with a
 * `ready` value; the parent talks to it through `startChild`.
 */
import { fork, type ChildProcess } from "node:child_process";
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";

const require = createRequire(import.meta.url);
/** tsx's loader as a file URL, so children run TypeScript whatever launched the parent (tsx, vitest). */
const TSX_LOADER = pathToFileURL(require.resolve("tsx")).href;

type Handler = (arg: never) => unknown;

interface CallMessage {
  kind: "call";
  id: number;
  name: string;
  arg: unknown;
}

type ReplyMessage =
  | { kind: "ready"; value: unknown }
  | { kind: "reply"; id: number; ok: true; value: unknown }
  | { kind: "reply"; id: number; ok: false; error: string }
  | { kind: "fatal"; error: string };

export interface Child<Ready> {
  ready: Ready;
  pid: number;
  call<T = unknown>(name: string, arg?: unknown): Promise<T>;
  /** Ends the child (disconnect, then SIGKILL if it lingers) and waits for it to exit. */
  stop(): Promise<void>;
}

/** Forks a TypeScript module under tsx and waits for its `ready` value. */
export async function startChild<Ready>(
  module: URL,
  args: unknown,
  options: { timeoutMs?: number; nodeArgs?: string[] } = {},
): Promise<Child<Ready>> {
  const proc: ChildProcess = fork(fileURLToPath(module), [JSON.stringify(args)], {
    // STT_BENCH_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") to profile a child.
    execArgv: [
      "--import", TSX_LOADER,
      ...(options.nodeArgs ?? []),
      ...(process.env.STT_BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? []),
    ],
    stdio: ["ignore", "inherit", "inherit", "ipc"],
    env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true" },
  });
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 0;
  let exited = false;
  const exit = new Promise<void>((resolve) => proc.once("exit", () => resolve()));
  const failAll = (error: Error) => {
    for (const { reject } of pending.values()) reject(error);
    pending.clear();
  };
  const ready = new Promise<Ready>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${module.pathname} did not start in time`)), options.timeoutMs ?? 120_000);
    proc.on("message", (raw) => {
      const message = raw as ReplyMessage;
      if (message.kind === "ready") {
        clearTimeout(timer);
        resolve(message.value as Ready);
      } else if (message.kind === "fatal") {
        clearTimeout(timer);
        const error = new Error(`${module.pathname}: ${message.error}`);
        reject(error);
        failAll(error);
      } else {
        const waiter = pending.get(message.id);
        pending.delete(message.id);
        if (!waiter) return;
        if (message.ok) waiter.resolve(message.value);
        else waiter.reject(new Error(message.error));
      }
    });
    proc.once("exit", (code, signal) => {
      exited = true;
      clearTimeout(timer);
      const error = new Error(`${module.pathname} exited (${signal ?? code})`);
      reject(error);
      failAll(error);
    });
  });
  const value = await ready;
  return {
    ready: value,
    pid: proc.pid ?? -1,
    call<T>(name: string, arg?: unknown): Promise<T> {
      if (exited) return Promise.reject(new Error(`${module.pathname} has exited`));
      const id = nextId++;
      return new Promise<T>((resolve, reject) => {
        pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
        proc.send({ kind: "call", id, name, arg } satisfies CallMessage);
      });
    },
    async stop() {
      if (exited) return;
      if (proc.connected) proc.disconnect();
      const timer = setTimeout(() => proc.kill("SIGKILL"), 5000);
      await exit;
      clearTimeout(timer);
    },
  };
}

/** The arguments a child was started with (startChild passes them as JSON). */
export function childArgs<T>(): T {
  return JSON.parse(process.argv[2] ?? "{}") as T;
}

/** Child side: answers calls by name; exits when the parent disconnects. */
export function serve(handlers: Record<string, Handler>, ready: unknown): void {
  process.on("message", (raw) => {
    const message = raw as CallMessage;
    if (message.kind !== "call") return;
    const handler = handlers[message.name];
    Promise.resolve()
      .then(() => {
        if (!handler) throw new Error(`no handler '${message.name}'`);
        return handler(message.arg as never);
      })
      .then(
        (value) => process.send?.({ kind: "reply", id: message.id, ok: true, value: value ?? null }),
        (error: unknown) => process.send?.({ kind: "reply", id: message.id, ok: false, error: errorText(error) }),
      );
  });
  process.on("disconnect", () => process.exit(0));
  process.send?.({ kind: "ready", value: ready });
}

/** Child side: reports a start-up failure to the parent and exits. */
export function fatal(error: unknown): void {
  if (!process.send) {
    console.error(error);
    process.exit(1);
  }
  process.send({ kind: "fatal", error: errorText(error) }, () => process.exit(1));
}

function errorText(error: unknown): string {
  return error instanceof Error ? (error.stack ?? error.message) : String(error);
}
