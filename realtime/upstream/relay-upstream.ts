/**
 * Live transcription through the provider's own realtime endpoint (Together's /v1/realtime): audio and
 * commits are relayed as they come, the provider's events are relayed back under the gateway's item ids.
 * The provider key never leaves the gateway.
 *
 * Together's events carry only `delta` and `transcript`; item ids and times are added here. Times come
 * from the provider when it sends them (audio_start_ms/audio_end_ms), otherwise from the gateway's own
 * VAD run beside the relay: a completed transcript covers the speech that ended since the previous one.
 */
import WebSocket from "ws";
import { z } from "zod";
import { AUDIO_FORMAT, SAMPLE_RATE, type ProtocolProblem } from "../protocol.js";
import { EnergyVad } from "../vad.js";
import type { ItemIds, LiveSettings, LiveUsage, Upstream, UpstreamListener } from "./types.js";

export interface RelayConnectOptions {
  /** ws(s)://host/v1/realtime (query added here). */
  url: string;
  apiKey: string;
  model: string;
  /** How long the provider has to accept the connection and say session.created. */
  connectTimeoutMs: number;
}

/** The provider's realtime URL for an HTTP base URL: https://api.together.xyz/v1 -> wss://api.together.xyz/v1/realtime. */
export function realtimeUrlFor(baseUrl: string): string {
  const url = new URL(baseUrl.replace(/\/+$/, "") + "/realtime");
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  return url.toString();
}

export class UpstreamUnavailable extends Error {
  constructor(
    message: string,
    /** HTTP status of a refused upgrade (404: the provider has no realtime endpoint). */
    readonly status?: number,
  ) {
    super(message);
  }
}

/** Opens the provider session; rejects with UpstreamUnavailable when the provider has none to offer. */
export async function connectRealtime(options: RelayConnectOptions): Promise<{ socket: WebSocket; early: string[] }> {
  const url = new URL(options.url);
  url.searchParams.set("model", options.model);
  url.searchParams.set("input_audio_format", AUDIO_FORMAT);
  const socket = new WebSocket(url, {
    headers: { Authorization: `Bearer ${options.apiKey}`, "OpenAI-Beta": "realtime=v1" },
    handshakeTimeout: options.connectTimeoutMs,
    perMessageDeflate: false,
  });
  const early: string[] = [];
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      socket.terminate();
      reject(new UpstreamUnavailable("the provider's realtime endpoint did not answer in time"));
    }, options.connectTimeoutMs);
    const settle = (error?: UpstreamUnavailable) => {
      clearTimeout(timer);
      socket.removeAllListeners("message");
      socket.removeAllListeners("unexpected-response");
      if (error) {
        socket.removeAllListeners("error");
        socket.on("error", () => undefined);
        socket.terminate();
        reject(error);
      } else resolve({ socket, early });
    };
    socket.on("unexpected-response", (_req, res) => {
      res.resume();
      settle(new UpstreamUnavailable(`the provider refused the realtime connection (HTTP ${res.statusCode})`, res.statusCode));
    });
    socket.on("error", (error) => settle(new UpstreamUnavailable(`the provider's realtime endpoint is unreachable: ${error.message}`)));
    socket.on("close", (code, reason) => settle(new UpstreamUnavailable(`the provider closed the realtime connection (${code} ${reason.toString()})`)));
    socket.on("message", (data) => {
      const text = data.toString();
      early.push(text);
      // Ready when the provider says so; an error first means it will not serve this session.
      const type = typeOf(text);
      if (type === "session.created" || type === "transcription_session.created") settle();
      else if (type === "error") settle(new UpstreamUnavailable(`the provider's realtime endpoint answered an error: ${messageOf(text)}`));
    });
  });
}

const providerEvent = z
  .object({
    type: z.string(),
    item_id: z.string().nullish(),
    delta: z.string().nullish(),
    transcript: z.string().nullish(),
    audio_start_ms: z.number().nullish(),
    audio_end_ms: z.number().nullish(),
    start: z.number().nullish(),
    end: z.number().nullish(),
    error: z.object({ message: z.string().nullish(), code: z.string().nullish() }).loose().nullish(),
    message: z.string().nullish(),
  })
  .loose();

interface RelayItem {
  id: string;
  start?: number;
  end?: number;
}

export class RelayUpstream implements Upstream {
  readonly kind = "realtime" as const;
  /** The gateway's VAD, for times only: utterances [start, end) in session samples. */
  private readonly vad = new EnergyVad();
  private readonly spans: Array<{ start: number; end?: number }> = [];
  private nextSpan = 0;
  private samples = 0;
  private lastEnd = 0;
  private readonly byProviderId = new Map<string, RelayItem>();
  /** The item whose deltas are arriving, when the provider does not name items. */
  private current: RelayItem | undefined;
  private closed = false;
  private pendingFinals = 0;
  private drained: (() => void) | undefined;

  constructor(
    private readonly socket: WebSocket,
    early: string[],
    private settings: LiveSettings,
    private readonly listener: UpstreamListener,
    private readonly ids: ItemIds,
  ) {
    for (const text of early) this.onMessage(text);
    socket.on("message", (data) => this.onMessage(data.toString()));
    socket.on("close", (code, reason) => {
      if (this.closed) return;
      this.closed = true;
      this.drained?.();
      this.listener.lost(`the provider's realtime connection closed (${code}${reason.length ? ` ${reason.toString()}` : ""})`);
    });
    socket.on("error", () => undefined);
    if (settings.vad) this.vad.update(settings.vad);
  }

  /** A realtime endpoint bills the audio streamed to it, once: no partial requests of its own. */
  usage(): LiveUsage {
    return { audioSecondsBilled: this.samples / SAMPLE_RATE, requests: 0, partialRequests: 0 };
  }

  append(samples: Int16Array, base64?: string): void {
    if (this.closed) return;
    for (const event of this.vad.push(samples)) {
      if (event.type === "speech_started") this.spans.push({ start: event.sample });
      else if (this.spans.length) this.spans[this.spans.length - 1].end = event.sample;
    }
    this.samples += samples.length;
    const audio = base64 ?? Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength).toString("base64");
    this.send({ type: "input_audio_buffer.append", audio });
  }

  commit(): ProtocolProblem | undefined {
    for (const event of this.vad.flush()) if (event.type === "speech_stopped" && this.spans.length) this.spans[this.spans.length - 1].end = event.sample;
    this.send({ type: "input_audio_buffer.commit" });
    this.pendingFinals++;
    return undefined;
  }

  clear(): void {
    this.send({ type: "input_audio_buffer.clear" });
  }

  configure(settings: LiveSettings, raw?: Record<string, unknown>): void {
    this.settings = settings;
    if (settings.vad) this.vad.update(settings.vad);
    // Only what the client asked to change goes to the provider, in the provider's own words.
    if (raw) this.send({ type: "transcription_session.update", session: raw });
  }

  async drain(timeoutMs: number): Promise<void> {
    if (this.closed) return;
    if (this.current || this.vad.speaking) this.commit();
    if (this.pendingFinals > 0) {
      let timer: NodeJS.Timeout | undefined;
      await new Promise<void>((resolve) => {
        this.drained = resolve;
        timer = setTimeout(resolve, timeoutMs);
      });
      clearTimeout(timer);
    }
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.socket.close(1000, "session ended");
    setTimeout(() => this.socket.terminate(), 2000).unref();
  }

  private send(message: Record<string, unknown>): void {
    if (this.socket.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private onMessage(text: string): void {
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      return;
    }
    const parsed = providerEvent.safeParse(json);
    if (!parsed.success) return;
    const event = parsed.data;
    switch (event.type) {
      case "input_audio_buffer.speech_started": {
        const item = this.itemFor(event.item_id, true);
        item.start = event.audio_start_ms != null ? event.audio_start_ms / 1000 : item.start;
        this.listener.speechStarted(item.id, item.start ?? this.samples / SAMPLE_RATE);
        break;
      }
      case "input_audio_buffer.speech_stopped": {
        const item = this.itemFor(event.item_id, true);
        if (event.audio_end_ms != null) item.end = event.audio_end_ms / 1000;
        this.listener.speechStopped(item.id, item.end ?? this.samples / SAMPLE_RATE);
        break;
      }
      case "input_audio_buffer.committed":
        this.listener.committed(this.itemFor(event.item_id, true).id);
        break;
      case "conversation.item.input_audio_transcription.delta":
        if (event.delta != null) this.listener.delta(this.itemFor(event.item_id, true).id, event.delta);
        break;
      case "conversation.item.input_audio_transcription.completed": {
        const item = this.itemFor(event.item_id, false);
        const times = this.timesFor(item, event);
        this.listener.completed(item.id, { transcript: (event.transcript ?? "").trim(), ...times });
        this.finishItem(item, event.item_id);
        break;
      }
      case "conversation.item.input_audio_transcription.failed": {
        const item = this.itemFor(event.item_id, false);
        const times = this.timesFor(item, event);
        const message = event.error?.message ?? event.message ?? "the provider could not transcribe this utterance";
        this.listener.failed(item.id, { ...times, code: event.error?.code ?? "provider_failed", message });
        this.finishItem(item, event.item_id);
        break;
      }
      case "error":
        this.listener.problem({ code: event.error?.code ?? "provider_error", message: `provider: ${event.error?.message ?? event.message ?? "error"}` });
        // A commit the provider found empty will never complete: do not wait for it.
        this.drained?.();
        break;
      default:
        // session.created/updated and anything newer: the gateway answers those itself.
        break;
    }
  }

  private itemFor(providerId: string | null | undefined, keepOpen: boolean): RelayItem {
    if (providerId) {
      let item = this.byProviderId.get(providerId);
      if (!item) {
        item = { id: this.ids.next() };
        this.byProviderId.set(providerId, item);
      }
      return item;
    }
    if (!this.current) this.current = { id: this.ids.next() };
    const item = this.current;
    if (!keepOpen) this.current = undefined;
    return item;
  }

  private finishItem(item: RelayItem, providerId: string | null | undefined): void {
    if (providerId) this.byProviderId.delete(providerId);
    if (this.current === item) this.current = undefined;
    if (this.pendingFinals > 0) this.pendingFinals--;
    if (this.pendingFinals === 0) this.drained?.();
  }

  /** Provider times when given; otherwise the speech the gateway's VAD saw end since the last transcript. */
  private timesFor(item: RelayItem, event: z.infer<typeof providerEvent>): { start: number; end: number } {
    const fromProvider = {
      start: event.audio_start_ms != null ? event.audio_start_ms / 1000 : (event.start ?? item.start),
      end: event.audio_end_ms != null ? event.audio_end_ms / 1000 : (event.end ?? item.end),
    };
    let start = fromProvider.start;
    let end = fromProvider.end;
    if (start === undefined || end === undefined) {
      // Both sides end an utterance on a pause of about the same length, so the n-th transcript is taken
      // to cover the n-th utterance the gateway saw; one still open ends where the audio is now.
      const span = this.spans[this.nextSpan];
      if (span) this.nextSpan++;
      start ??= span ? Math.max(span.start / SAMPLE_RATE, this.lastEnd) : this.lastEnd;
      end ??= span?.end !== undefined ? span.end / SAMPLE_RATE : this.samples / SAMPLE_RATE;
    }
    start = Math.min(start, end);
    this.lastEnd = end;
    const round = (x: number) => Math.round(x * 1000) / 1000;
    return { start: round(start), end: round(end) };
  }
}

function typeOf(text: string): string | undefined {
  try {
    return (JSON.parse(text) as { type?: string }).type;
  } catch {
    return undefined;
  }
}

function messageOf(text: string): string {
  try {
    const json = JSON.parse(text) as { error?: { message?: string }; message?: string };
    return json.error?.message ?? json.message ?? text.slice(0, 200);
  } catch {
    return text.slice(0, 200);
  }
}
