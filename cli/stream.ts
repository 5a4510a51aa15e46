/**
 * `stt stream <file>`: a realtime client, the TypeScript twin of the example in Together's guide. It
 * decodes the file to 16 kHz PCM, sends it through the gateway at real-time speed (or --speed N times
 * faster) in 256 ms batches, shows each delta in place and each completed utterance on its own line, and
 * with --format waits for the session's batch job and prints its diarized transcript.
 */
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { decodeToPcm } from "../shared/audio/decode-pcm.js";
import { ffmpegPaths } from "../shared/audio/ffmpeg.js";
import type { OutputFormat } from "../shared/domain/types.js";
import type { JobRecord } from "../shared/adapters/job-store.js";
import { isTerminal } from "../shared/domain/jobs/job-event.js";
import { getSessionItem } from "../realtime/session-recorder.js";
import { parseKeys, realtimeSettingsFromEnv, REALTIME_ENV, DEFAULT_REALTIME_PORT } from "../realtime/config.js";
import type { Gateway } from "../realtime/gateway.js";
import { startLocalGateway } from "../realtime/local.js";
import type { LocalStack } from "../local/stack.js";
import { findRunningStack, openSession, STATE_DIR, type StackSession } from "./stack-session.js";
import { readOutput } from "./submit.js";
import { AUDIO_FORMAT, REALTIME_PATH, SAMPLE_RATE, clientSubprotocols } from "../realtime/protocol.js";

/** Where `stt up` keeps the key it made when STT_GATEWAY_KEYS is not set. */
export const LOCAL_KEY_FILE = join(STATE_DIR, "gateway-key");

/** Together's example sends 4096 samples (256 ms) per append. */
const BATCH_SAMPLES = 4096;

export interface StreamEvent {
  type: string;
  [field: string]: unknown;
}

export interface StreamRun {
  url: string;
  key: string;
  /** 16 kHz mono PCM16. */
  samples: Int16Array;
  speed?: number;
  model?: string;
  language?: string;
  /** Live lines: deltas in place on a TTY, completed lines always. */
  out?: NodeJS.WritableStream & { isTTY?: boolean };
  /** Wait at most this long for the last transcripts after the final commit. */
  settleTimeoutMs?: number;
  /** After the final commit, the stream ends once every item is answered and nothing came for this long. */
  quietMs?: number;
}

export interface StreamResult {
  sessionId: string;
  events: StreamEvent[];
  completed: Array<{ item_id: string; transcript: string; start: number; end: number }>;
  deltas: number;
  errors: StreamEvent[];
}

/** Streams PCM through the gateway and collects what it says. Resolves after a clean close. */
export async function streamAudio(run: StreamRun): Promise<StreamResult> {
  const speed = run.speed ?? 1;
  const url = new URL(run.url);
  if (run.model) url.searchParams.set("model", run.model);
  url.searchParams.set("input_audio_format", AUDIO_FORMAT);
  const ws = new WebSocket(url, clientSubprotocols(run.key), { perMessageDeflate: false });
  const result: StreamResult = { sessionId: "", events: [], completed: [], deltas: 0, errors: [] };
  const out = run.out;
  const tty = Boolean(out?.isTTY);
  const open = new Set<string>();
  let ready: () => void = () => undefined;
  const created = new Promise<void>((resolve) => (ready = resolve));
  let lastHeard = Date.now();

  const failure = new Promise<never>((_, reject) => {
    ws.on("unexpected-response", (_req, res) => {
      let body = "";
      res.on("data", (d: Buffer) => (body += d.toString()));
      res.on("end", () => reject(new Error(`gateway refused the connection (HTTP ${res.statusCode}): ${messageOf(body)}`)));
    });
    ws.on("error", (error) => reject(new Error(`gateway connection failed: ${error.message}`)));
    ws.on("close", (code, reason) => {
      if (!result.sessionId) reject(new Error(`gateway closed the connection (${code} ${reason.toString()})`));
    });
  });
  failure.catch(() => undefined);

  ws.on("message", (data) => {
    const event = JSON.parse(data.toString()) as StreamEvent;
    result.events.push(event);
    lastHeard = Date.now();
    switch (event.type) {
      case "session.created":
        result.sessionId = (event.session as { id: string }).id;
        ready();
        break;
      case "input_audio_buffer.speech_started":
      case "input_audio_buffer.committed":
        open.add(event.item_id as string);
        break;
      case "conversation.item.input_audio_transcription.delta":
        open.add(event.item_id as string);
        result.deltas++;
        if (tty) out?.write(`\r\x1b[K\x1b[90m${event.delta as string}\x1b[0m`);
        break;
      case "conversation.item.input_audio_transcription.completed":
      case "conversation.item.input_audio_transcription.failed": {
        open.delete(event.item_id as string);
        if (event.type.endsWith("completed")) {
          const c = event as unknown as StreamResult["completed"][number];
          result.completed.push({ item_id: c.item_id, transcript: c.transcript, start: c.start, end: c.end });
          if (c.transcript) out?.write(`${tty ? "\r\x1b[K" : ""}${c.transcript}\n`);
        } else {
          out?.write(`${tty ? "\r\x1b[K" : ""}[utterance failed: ${(event.error as { message?: string })?.message ?? "unknown"}]\n`);
        }
        break;
      }
      case "error":
        // The final commit finds nothing left when the file ends in silence: that is not a problem.
        if ((event.error as { code?: string })?.code === "input_audio_buffer_commit_empty") break;
        result.errors.push(event);
        out?.write(`${tty ? "\r\x1b[K" : ""}[error: ${(event.error as { message?: string })?.message ?? String(event.message)}]\n`);
        break;
    }
  });

  await Promise.race([created, failure]);
  if (run.language) {
    ws.send(JSON.stringify({ type: "transcription_session.update", session: { input_audio_transcription: { language: run.language } } }));
  }
  const started = Date.now();
  for (let at = 0; at < run.samples.length; at += BATCH_SAMPLES) {
    if (ws.readyState !== WebSocket.OPEN) break;
    const batch = run.samples.subarray(at, at + BATCH_SAMPLES);
    ws.send(JSON.stringify({ type: "input_audio_buffer.append", audio: Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength).toString("base64") }));
    // Paced against the clock, not per batch, so timer jitter does not add up.
    const due = started + ((at + batch.length) / SAMPLE_RATE / speed) * 1000;
    const wait = due - Date.now();
    if (wait > 1) await new Promise((r) => setTimeout(r, wait));
  }
  if (ws.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify({ type: "input_audio_buffer.commit" }));
    // Together's events do not say how many utterances are still being transcribed (a relayed provider
    // may not name its items), so: every announced item answered, and the gateway quiet for a moment.
    const deadline = Date.now() + (run.settleTimeoutMs ?? 30_000);
    const quietMs = run.quietMs ?? 1500;
    while (Date.now() < deadline && ws.readyState === WebSocket.OPEN && (open.size > 0 || Date.now() - lastHeard < quietMs)) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  if (tty) out?.write("\r\x1b[K");
  await new Promise<void>((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve();
    ws.once("close", () => resolve());
    ws.close(1000, "done");
  });
  return result;
}

export interface StreamFlags {
  url?: string;
  key?: string;
  /** Times real time (checked by the command line: above 0, at most 1000). */
  speed?: number;
  model?: string;
  language?: string;
}

/** Finds the gateway and its key: flags, then the environment, then what `stt up` left in .stt/. */
export async function gatewayTarget(flags: StreamFlags): Promise<{ url: string; key: string }> {
  const running = await findRunningStack();
  const url = flags.url ?? running?.realtimeUrl ?? `ws://127.0.0.1:${DEFAULT_REALTIME_PORT}${REALTIME_PATH}`;
  const key =
    flags.key ?? parseKeys(process.env[REALTIME_ENV.keys])[0] ?? (existsSync(LOCAL_KEY_FILE) ? readFileSync(LOCAL_KEY_FILE, "utf8").trim() : undefined);
  if (!key) throw new Error(`no gateway key: pass --key, set ${REALTIME_ENV.keys}, or start the gateway with \`stt up\``);
  return { url, key };
}

/**
 * The gateway `stt up` serves beside the stack. Keys come from STT_GATEWAY_KEYS; without it a key is made
 * once and kept in .stt/gateway-key (owner-only), where `stt stream` finds it.
 */
export async function startLocalRealtime(stack: LocalStack, port?: number): Promise<{ gateway: Gateway; keyHint: string; mode: string }> {
  const settings = realtimeSettingsFromEnv(process.env);
  let keys = parseKeys(process.env[REALTIME_ENV.keys]);
  let keyHint = `keys from ${REALTIME_ENV.keys}`;
  if (keys.length === 0) {
    if (!existsSync(LOCAL_KEY_FILE)) {
      mkdirSync(STATE_DIR, { recursive: true });
      writeFileSync(LOCAL_KEY_FILE, `sk-local-${randomBytes(18).toString("base64url")}\n`, { mode: 0o600 });
    }
    keys = [readFileSync(LOCAL_KEY_FILE, "utf8").trim()];
    keyHint = `key in ${LOCAL_KEY_FILE}`;
  }
  const gateway = await startLocalGateway(stack, {
    port: port ?? Number(process.env[REALTIME_ENV.port] || DEFAULT_REALTIME_PORT),
    keys,
    mode: settings.mode,
    upstreamUrl: settings.upstreamUrl,
    limits: settings.limits,
    http: settings.http,
    batchJob: settings.batchJob,
  });
  return { gateway, keyHint, mode: settings.mode };
}

/** Waits until the session is linked to its job and the job has ended. */
export async function waitForSessionJob(session: StackSession, sessionId: string, timeoutMs = 600_000): Promise<JobRecord> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const item = await getSessionItem(session.clients.dynamo, session.resources.table, sessionId);
    if (item?.status === "EMPTY") throw new Error(`session ${sessionId} received no audio: no job`);
    if (item?.status === "CLOSED") throw new Error(`session ${sessionId} ended without a batch job (${REALTIME_ENV.batchJob}=off)`);
    if (item?.status === "FAILED") throw new Error(`session ${sessionId} could not be submitted: ${item.error ?? "unknown reason"}`);
    if (item?.jobId) {
      const job = await session.jobs.get(item.jobId);
      if (job && isTerminal(job.status)) return job;
    }
    await new Promise((r) => setTimeout(r, 300));
  }
  throw new Error(`timed out waiting for the job of session ${sessionId}`);
}

export async function runStream(file: string, format: OutputFormat | undefined, flags: StreamFlags): Promise<number> {
  const speed = flags.speed ?? 1;
  const target = await gatewayTarget(flags);
  const samples = await decodeFile(file);
  const live = format ? process.stderr : process.stdout;
  const result = await streamAudio({ ...target, samples, speed, model: flags.model, language: flags.language, out: live });
  process.stderr.write(`session ${result.sessionId}: ${result.completed.length} utterances, ${result.deltas} deltas\n`);
  if (!format) return result.errors.length ? 1 : 0;
  // The stack beside the gateway: a stack another run lends has none.
  if (!(await findRunningStack())?.realtimeUrl) throw new Error("--format needs the local stack that `stt up` runs, to read the session's job");
  const session = await openSession(async () => {
    throw new Error("no local stack running");
  });
  try {
    const job = await waitForSessionJob(session, result.sessionId);
    if (job.status !== "COMPLETED") {
      process.stderr.write(`job ${job.jobId} ${job.status}: ${job.error ?? (job.status === "CANCELLED" ? "cancelled" : "unknown reason")}\n`);
      return 1;
    }
    process.stderr.write(`job ${job.jobId} COMPLETED: ${job.duration?.toFixed(1)} s, ${job.speakers?.length ?? 0} speakers, ${job.wordCount} words\n`);
    process.stdout.write(await readOutput(session, job, format));
    return 0;
  } finally {
    await session.close();
  }
}

async function decodeFile(file: string): Promise<Int16Array> {
  const decoder = decodeToPcm(ffmpegPaths().ffmpeg, file);
  const chunks: Buffer[] = [];
  for await (const chunk of decoder.pcm) chunks.push(chunk as Buffer);
  await decoder.done;
  const bytes = Buffer.concat(chunks);
  const samples = new Int16Array(Math.floor(bytes.length / 2));
  Buffer.from(samples.buffer).set(bytes.subarray(0, samples.length * 2));
  return samples;
}

function messageOf(body: string): string {
  try {
    return (JSON.parse(body) as { error?: { message?: string } }).error?.message ?? body.slice(0, 200);
  } catch {
    return body.slice(0, 200) || "no details";
  }
}
