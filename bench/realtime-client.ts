/**
 * One benchmark client: streams PCM through the gateway as Together's example client does (256 ms
 * appends of base64 PCM16 at 16 kHz, paced against the clock) and notes when each append left and when
 * each event arrived, per item. It keeps the connection open once everything is answered, so the
 * benchmark can read the provider's counters before any session ends (and is submitted).
 */
import WebSocket from "ws";
import type { Word } from "../realtime/protocol.js";

/** Together's example sends 4096 samples (256 ms) per append. */
export const APPEND_SAMPLES = 4096;
const SAMPLE_RATE = 16000;
/** The last frame: the gateway answers it (an unknown event type) after everything sent before it. */
const END_MARKER = "bench-end-of-audio";

export interface ClientRun {
  url: string;
  key: string;
  samples: Int16Array;
  /** Times real time (1 = real time). */
  speed: number;
  /** After the end marker is answered, the stream is done once every committed item is answered and nothing came for this long. */
  quietMs: number;
  /** Gives up on items still unanswered this long after the last append. */
  answerTimeoutMs: number;
}

export interface ItemLog {
  id: string;
  /** Arrival times (performance.now(), ms) of the item's events. */
  startedAt?: number;
  stoppedAt?: number;
  committedAt?: number;
  deltaAt: number[];
  answeredAt?: number;
  /** From the completed (or failed) event: session seconds. */
  start?: number;
  end?: number;
  transcript?: string;
  words?: Word[];
  failed?: string;
}

export interface ClientLog {
  sessionId: string;
  upstream: string;
  audioSeconds: number;
  connectStartedAt: number;
  createdAt: number;
  /** When each append was handed to the socket (performance.now(), ms), by append index. */
  sentAt: number[];
  /** The end marker's answer: every item of the session has been announced. */
  endAnsweredAt: number;
  doneAt: number;
  timedOut: boolean;
  items: ItemLog[];
  errors: Array<{ code?: string; message?: string }>;
}

export interface RunningClient {
  /** Everything answered (or the answer timeout passed); the socket is still open. */
  done: Promise<ClientLog>;
  close(): Promise<void>;
}

export function startClient(run: ClientRun): RunningClient {
  const url = new URL(run.url);
  url.searchParams.set("input_audio_format", "pcm_s16le_16000");
  const log: ClientLog = {
    sessionId: "",
    upstream: "",
    audioSeconds: run.samples.length / SAMPLE_RATE,
    connectStartedAt: performance.now(),
    createdAt: NaN,
    sentAt: [],
    endAnsweredAt: NaN,
    doneAt: NaN,
    timedOut: false,
    items: [],
    errors: [],
  };
  const items = new Map<string, ItemLog>();
  const item = (id: string): ItemLog => {
    let found = items.get(id);
    if (!found) {
      found = { id, deltaAt: [] };
      items.set(id, found);
      log.items.push(found);
    }
    return found;
  };
  let lastHeard = performance.now();
  const ws = new WebSocket(url, { headers: { Authorization: `Bearer ${run.key}`, "OpenAI-Beta": "realtime=v1" }, perMessageDeflate: false });

  let created: () => void = () => undefined;
  let endAnswered: () => void = () => undefined;
  const sessionCreated = new Promise<void>((resolve) => (created = resolve));
  const endOfAudio = new Promise<void>((resolve) => (endAnswered = resolve));
  const failure = new Promise<never>((_, reject) => {
    ws.on("unexpected-response", (_req, res) => reject(new Error(`gateway refused the connection (HTTP ${res.statusCode})`)));
    ws.on("error", (error) => reject(new Error(`gateway connection failed: ${error.message}`)));
    ws.on("close", (code, reason) => reject(new Error(`gateway closed the connection (${code} ${reason.toString()}) after ${((performance.now() - lastHeard) / 1000).toFixed(1)} s without a server event`)));
  });
  failure.catch(() => undefined);

  ws.on("message", (data) => {
    const at = performance.now();
    lastHeard = at;
    const event = JSON.parse(data.toString()) as Record<string, unknown> & { type: string; item_id?: string };
    switch (event.type) {
      case "session.created": {
        const session = event.session as { id: string; upstream: string };
        log.sessionId = session.id;
        log.upstream = session.upstream;
        log.createdAt = at;
        created();
        break;
      }
      case "input_audio_buffer.speech_started":
        item(event.item_id!).startedAt = at;
        break;
      case "input_audio_buffer.speech_stopped":
        item(event.item_id!).stoppedAt = at;
        break;
      case "input_audio_buffer.committed":
        item(event.item_id!).committedAt = at;
        break;
      case "conversation.item.input_audio_transcription.delta":
        item(event.item_id!).deltaAt.push(at);
        break;
      case "conversation.item.input_audio_transcription.completed": {
        const it = item(event.item_id!);
        it.answeredAt = at;
        it.start = event.start as number;
        it.end = event.end as number;
        it.transcript = event.transcript as string;
        it.words = event.words as Word[] | undefined;
        break;
      }
      case "conversation.item.input_audio_transcription.failed": {
        const it = item(event.item_id!);
        it.answeredAt = at;
        it.start = event.start as number;
        it.end = event.end as number;
        it.failed = (event.error as { message?: string } | undefined)?.message ?? "failed";
        break;
      }
      case "error": {
        const error = event.error as { code?: string; message?: string; event_id?: string };
        if (error.event_id === END_MARKER) {
          log.endAnsweredAt = at;
          endAnswered();
        } else if (error.code !== "input_audio_buffer_commit_empty") {
          // The final commit finds nothing when the audio ends in silence the VAD already closed.
          log.errors.push({ code: error.code, message: error.message });
        }
        break;
      }
    }
  });

  const done = (async (): Promise<ClientLog> => {
    await Promise.race([sessionCreated, failure]);
    const started = performance.now();
    const intervalMs = ((APPEND_SAMPLES / SAMPLE_RATE) * 1000) / run.speed;
    for (let index = 0, at = 0; at < run.samples.length; index++, at += APPEND_SAMPLES) {
      // Paced against the clock, not per append, so timer lateness does not add up.
      const wait = started + index * intervalMs - performance.now();
      if (wait > 1) await Promise.race([new Promise((r) => setTimeout(r, wait)), failure]);
      const batch = run.samples.subarray(at, at + APPEND_SAMPLES);
      ws.send(JSON.stringify({ type: "input_audio_buffer.append", audio: Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength).toString("base64") }));
      log.sentAt.push(performance.now());
    }
    ws.send(JSON.stringify({ type: "input_audio_buffer.commit" }));
    ws.send(JSON.stringify({ type: "bench.end_of_audio", event_id: END_MARKER }));
    const deadline = performance.now() + run.answerTimeoutMs;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([endOfAudio, failure, new Promise((r) => (timer = setTimeout(r, run.answerTimeoutMs)))]);
    clearTimeout(timer);
    const pending = () => log.items.some((it) => it.committedAt !== undefined && it.answeredAt === undefined);
    while (pending() || performance.now() - lastHeard < run.quietMs || Number.isNaN(log.endAnsweredAt)) {
      if (performance.now() > deadline) {
        log.timedOut = true;
        break;
      }
      await Promise.race([new Promise((r) => setTimeout(r, 20)), failure]);
    }
    log.doneAt = performance.now();
    return log;
  })();

  return {
    done,
    close: () =>
      new Promise<void>((resolve) => {
        if (ws.readyState === WebSocket.CLOSED) return resolve();
        ws.once("close", () => resolve());
        if (ws.readyState === WebSocket.CONNECTING) ws.terminate();
        else ws.close(1000, "done");
      }),
  };
}
