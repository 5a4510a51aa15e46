/**
 * A realtime endpoint for the ground-truth provider: Together's /v1/realtime WebSocket protocol in front
 * of the ground-truth HTTP server. Every other request is passed through to that server, so one base URL
 * offers both APIs, as Together's does. Audio is buffered per utterance (its own energy gate ends an
 * utterance after a pause, or a commit does), and each utterance, and every second of a growing one, is
 * sent to the ground-truth HTTP API to get its true words. Events carry only what Together documents
 * (`delta`, `transcript`), so the gateway has to add item ids and times itself.
 */
import { createServer, request as httpRequest, type IncomingMessage } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocketServer, type WebSocket } from "ws";
import { REALTIME_PATH } from "../../realtime/protocol.js";
import { SAMPLE_RATE } from "../audio/ffmpeg.js";
import { wavBytes } from "../audio/write-audio.js";
import { postAudio } from "../provider/post-audio.js";
import type { GroundTruthProvider } from "../provider/server.js";

export interface RealtimeProviderOptions {
  /** Silence that ends an utterance, ms (transcription_session.update may change it). */
  silenceMs?: number;
  /** Seconds of new audio between deltas. */
  deltaEverySeconds?: number;
  /** Drop every connection after this many appends (an upstream that fails mid-session). */
  dropAfterAppends?: number;
}

export interface RealtimeProvider {
  /** Base URL ending in /v1: HTTP requests reach the ground-truth provider, /v1/realtime upgrades here. */
  url: string;
  realtimeUrl: string;
  apiKey: string;
  stats(): { sessions: number; appends: number; utterances: number; refused: number };
  close(): Promise<void>;
}

/** 20 ms: the stand-in's own speech detection frame. */
const FRAME = SAMPLE_RATE / 50;

export async function startRealtimeProvider(http: GroundTruthProvider, options: RealtimeProviderOptions = {}): Promise<RealtimeProvider> {
  const stats = { sessions: 0, appends: 0, utterances: 0, refused: 0 };
  const target = new URL(http.url);
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    // Pass-through to the HTTP provider (transcriptions, translations, errors).
    const upstream = httpRequest(
      { host: target.hostname, port: target.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    upstream.on("error", () => res.destroy());
    req.pipe(upstream);
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });
  const wss = new WebSocketServer({ noServer: true });
  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    const path = (req.url ?? "").split("?")[0];
    if (path !== REALTIME_PATH || req.headers.authorization !== `Bearer ${http.apiKey}`) {
      stats.refused++;
      socket.end(`HTTP/1.1 ${path === REALTIME_PATH ? "401 Unauthorized" : "404 Not Found"}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serve(ws, new URL(req.url ?? "/", "http://x").searchParams.get("model") ?? "openai/whisper-large-v3"));
  });

  function serve(ws: WebSocket, model: string): void {
    stats.sessions++;
    let silenceMs = options.silenceMs ?? 500;
    const deltaEvery = (options.deltaEverySeconds ?? 1) * SAMPLE_RATE;
    let utterance: Int16Array[] = [];
    let utteranceSamples = 0;
    let speaking = false;
    let quietSamples = 0;
    let carry = new Int16Array(0);
    let sinceDelta = 0;
    let order: Promise<void> = Promise.resolve();
    let appends = 0;
    const send = (event: Record<string, unknown>) => {
      if (ws.readyState === ws.OPEN) ws.send(JSON.stringify(event));
    };
    const transcribe = async (samples: Int16Array): Promise<string> => {
      const res = await postAudio(http.url, http.apiKey, wavBytes(samples), { model, response_format: "json" }, { filename: "audio.wav" });
      return res.status === 200 ? ((JSON.parse(res.text) as { text?: string }).text ?? "").trim() : "";
    };
    const joined = () => {
      const all = new Int16Array(utteranceSamples);
      let at = 0;
      for (const part of utterance) {
        all.set(part, at);
        at += part.length;
      }
      return all;
    };
    const endUtterance = () => {
      if (utteranceSamples < SAMPLE_RATE / 10) return false;
      const audio = joined();
      utterance = [];
      utteranceSamples = 0;
      speaking = false;
      sinceDelta = 0;
      stats.utterances++;
      const text = transcribe(audio);
      order = order.then(async () => send({ type: "conversation.item.input_audio_transcription.completed", transcript: await text }));
      return true;
    };

    send({ type: "session.created", session: { id: `gt_sess_${stats.sessions}`, model } });
    ws.on("message", (data) => {
      let event: { type?: string; audio?: string; session?: { turn_detection?: { silence_duration_ms?: number } } };
      try {
        event = JSON.parse(data.toString());
      } catch {
        return send({ type: "error", error: { message: "invalid JSON" } });
      }
      if (event.type === "input_audio_buffer.append" && typeof event.audio === "string") {
        stats.appends++;
        if (options.dropAfterAppends !== undefined && ++appends > options.dropAfterAppends) return ws.terminate();
        const bytes = Buffer.from(event.audio, "base64");
        const chunk = new Int16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length - (bytes.length % 2)));
        const samples = new Int16Array(carry.length + chunk.length);
        samples.set(carry);
        samples.set(chunk, carry.length);
        let at = 0;
        for (; at + FRAME <= samples.length; at += FRAME) {
          const frame = samples.subarray(at, at + FRAME);
          let sum = 0;
          for (const s of frame) sum += s * s;
          const loud = 10 * Math.log10(sum / FRAME / 32768 ** 2 + 1e-12) > -45;
          if (loud) {
            speaking = true;
            quietSamples = 0;
          } else if (speaking) quietSamples += FRAME;
          if (speaking) {
            utterance.push(frame.slice());
            utteranceSamples += FRAME;
            sinceDelta += FRAME;
          }
          if (speaking && quietSamples >= (silenceMs * SAMPLE_RATE) / 1000) endUtterance();
          else if (speaking && sinceDelta >= deltaEvery) {
            sinceDelta = 0;
            const text = transcribe(joined());
            order = order.then(async () => send({ type: "conversation.item.input_audio_transcription.delta", delta: await text }));
          }
        }
        carry = samples.slice(at);
      } else if (event.type === "input_audio_buffer.commit") {
        // In order with the transcripts still being made, as a single-threaded server would answer.
        if (!endUtterance()) order = order.then(() => send({ type: "error", error: { message: "buffer too small", code: "input_audio_buffer_commit_empty" } }));
      } else if (event.type === "transcription_session.update") {
        silenceMs = event.session?.turn_detection?.silence_duration_ms ?? silenceMs;
        send({ type: "transcription_session.updated" });
      }
    });
  }

  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1`,
    realtimeUrl: `ws://127.0.0.1:${port}${REALTIME_PATH}`,
    apiKey: http.apiKey,
    stats: () => ({ ...stats }),
    async close() {
      for (const client of wss.clients) client.terminate();
      wss.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
