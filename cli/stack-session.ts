import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { createClients, type PipelineClients } from "../shared/clients.js";
import { JobStore } from "../shared/adapters/job-store.js";
import { startLocalStack, type LocalStack, type LocalStackOptions } from "../local/stack.js";
import type { LocalResources } from "../local/resources.js";

/** What `stt up` writes so other commands find the running stack. */
export interface StackFile {
  pid: number;
  awsEndpoint: string;
  dynamodbEndpoint: string;
  realtimeUrl?: string;
  resources: LocalResources;
}

export const STATE_DIR = resolve(process.env.STT_STATE_DIR ?? ".stt");
const STACK_FILE = join(STATE_DIR, "stack.json");

/** A handle on a local stack: one this process started, or one `stt up` runs elsewhere. */
export interface StackSession {
  clients: PipelineClients;
  resources: LocalResources;
  jobs: JobStore;
  embedded?: LocalStack;
  close(): Promise<void>;
}

export async function findRunningStack(): Promise<StackFile | undefined> {
  if (!existsSync(STACK_FILE)) return undefined;
  const file = JSON.parse(readFileSync(STACK_FILE, "utf8")) as StackFile;
  try {
    process.kill(file.pid, 0);
    const res = await fetch(`${file.awsEndpoint}/health`, { signal: AbortSignal.timeout(1000) });
    if (res.ok) return file;
  } catch {
    // stale: the process that wrote it is gone
  }
  return undefined;
}

export function writeStackFile(file: StackFile): void {
  mkdirSync(STATE_DIR, { recursive: true });
  writeFileSync(STACK_FILE, JSON.stringify(file, null, 2));
}

export function removeStackFile(): void {
  rmSync(STACK_FILE, { force: true });
}

export async function startEmbeddedStack(options: Omit<LocalStackOptions, "dataDir">): Promise<LocalStack> {
  return startLocalStack({ ...options, dataDir: join(STATE_DIR, "dynamodb"), outputsDir: join(STATE_DIR, "outputs") });
}

/** Connects to a running stack, or starts one in this process when none runs. */
export async function openSession(start: () => Promise<LocalStack>, opts: { forceEmbedded?: boolean } = {}): Promise<StackSession> {
  const running = opts.forceEmbedded ? undefined : await findRunningStack();
  if (running) {
    const clients = createClients({ aws: running.awsEndpoint, dynamodb: running.dynamodbEndpoint });
    return {
      clients,
      resources: running.resources,
      jobs: new JobStore(clients.dynamo, running.resources.table),
      close: async () => undefined,
    };
  }
  const stack = await start();
  return {
    clients: stack.clients,
    resources: stack.resources,
    jobs: stack.ctx.jobs,
    embedded: stack,
    close: () => stack.stop(),
  };
}

/** A session on a stack someone else owns (tests, benchmarks): closing it leaves the stack running. */
export function sessionOn(stack: LocalStack): StackSession {
  return { clients: stack.clients, resources: stack.resources, jobs: stack.ctx.jobs, embedded: stack, close: async () => undefined };
}
