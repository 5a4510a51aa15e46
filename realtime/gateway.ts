/**
 * The realtime gateway: an HTTP server that upgrades GET /v1/realtime to a WebSocket speaking Together's
 * realtime transcription protocol. It authenticates with the gateway's own keys (the provider's key stays
 * here), enforces limits, and hands each connection to a RealtimeSession. When a connection ends, however
 * it ends, the session is submitted to the batch pipeline.
 */
import { setTimeout as sleep } from "node:timers/promises";
import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { WebSocket, WebSocketServer } from "ws";
import type { Log } from "../shared/pipeline/context.js";
import { reasonOf } from "../shared/errors.js";
import {
  AUDIO_FORMAT,
  KEY_SUBPROTOCOL_PREFIX,
  REALTIME_PATH,
  REALTIME_SUBPROTOCOL,
  errorEvent,
  isSupportedAudioFormat,
  serialize,
  type ServerEvent,
} from "./protocol.js";
import { RealtimeSession, unsupportedFormat, type SessionLimits, type SessionSummary, type UpstreamFactory } from "./session.js";
import type { CloseReason, SessionOutcome, SessionRecorder } from "./session-recorder.js";

export interface GatewayLimits extends SessionLimits {
  /** Sessions at once on this gateway; more are refused with 503 (the load balancer sends them elsewhere). */
  maxSessions: number;
  maxSessionsPerKey: number;
  /** A session with no client message for this long is closed (and submitted). */
  idleTimeoutSeconds: number;
  /** Hard cap on one WebSocket frame: larger ones close the connection (1009). */
  maxFrameBytes: number;
}

export const DEFAULT_LIMITS: GatewayLimits = {
  maxAudioChunkBytes: 512 * 1024,
  maxSessionSeconds: 4 * 3600,
  drainTimeoutMs: 15_000,
  maxSessions: 200,
  maxSessionsPerKey: 20,
  idleTimeoutSeconds: 60,
  maxFrameBytes: 2 * 1024 * 1024,
};

export interface GatewayOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  /** The accepted gateway keys (never the provider's); read through a cache by the caller. */
  keys: () => Promise<readonly string[]>;
  defaultModel: string;
  limits?: Partial<GatewayLimits>;
  recorder: SessionRecorder;
  openUpstream: UpstreamFactory;
  fallbackUpstream: UpstreamFactory;
  log: Log;
  now?: () => Date;
  /** Told when each session has ended and been submitted (the gateway's metrics). */
  onSessionEnd?: (summary: SessionSummary) => void;
}

export interface Gateway {
  url: string;
  port: number;
  /** Live sessions. */
  sessions(): number;
  /** Resolves when the session's audio was submitted (or found empty); for tests and the CLI. */
  outcome(sessionId: string): Promise<SessionOutcome> | undefined;
  /** Stops accepting, closes live sessions (1012) and waits until each is submitted. */
  close(): Promise<void>;
}

interface Live {
  session?: RealtimeSession;
  socket: WebSocket;
  keyId: string;
}

export async function startGateway(options: GatewayOptions): Promise<Gateway> {
  const limits: GatewayLimits = { ...DEFAULT_LIMITS, ...options.limits };
  const now = options.now ?? (() => new Date());
  const log = options.log;
  const live = new Set<Live>();
  const perKey = new Map<string, number>();
  const outcomes = new Map<string, Promise<SessionOutcome>>();
  const sockets = new Set<Socket>();
  let accepting = true;

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: limits.maxFrameBytes,
    perMessageDeflate: false,
    // Browsers send the key as a subprotocol and fail the handshake unless one is chosen: never echo the key.
    handleProtocols: (protocols) => {
      if (protocols.has(REALTIME_SUBPROTOCOL)) return REALTIME_SUBPROTOCOL;
      for (const p of protocols) if (!p.startsWith(KEY_SUBPROTOCOL_PREFIX)) return p;
      return false;
    },
  });

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && (path === "/healthz" || path === "/health")) {
      const body = JSON.stringify({ status: accepting ? "ok" : "draining", sessions: live.size });
      res.writeHead(accepting ? 200 : 503, { "content-type": "application/json" }).end(body);
      return;
    }
    const upgradeNeeded = path === REALTIME_PATH;
    res
      .writeHead(upgradeNeeded ? 426 : 404, { "content-type": "application/json", ...(upgradeNeeded ? { upgrade: "websocket" } : {}) })
      .end(httpError(upgradeNeeded ? `${REALTIME_PATH} takes WebSocket connections only` : `no route ${path}`, upgradeNeeded ? "upgrade_required" : "not_found"));
  });
  server.on("connection", (socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
  });

  server.on("upgrade", (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on("error", () => undefined);
    void (async () => {
      const url = new URL(req.url ?? "/", "http://gateway");
      if (url.pathname !== REALTIME_PATH) return refuse(socket, 404, `no route ${url.pathname}; connect to ${REALTIME_PATH}`, "not_found");
      if (!accepting) return refuse(socket, 503, "the gateway is shutting down; reconnect", "unavailable");
      const key = presentedKey(req);
      if (!key) return refuse(socket, 401, `missing API key: send Authorization: Bearer <key> or the subprotocol ${KEY_SUBPROTOCOL_PREFIX}<key>`, "missing_api_key");
      let keys: readonly string[];
      try {
        keys = await options.keys();
      } catch (error) {
        log.error("gateway keys unavailable", { error: reasonOf(error) });
        return refuse(socket, 503, "the gateway cannot check keys right now; retry", "unavailable");
      }
      if (!keys.some((k) => sameKey(k, key))) return refuse(socket, 401, "invalid API key", "invalid_api_key");
      const keyId = keyIdOf(key);
      if (live.size >= limits.maxSessions) return refuse(socket, 503, "the gateway is at its session limit; retry shortly", "too_many_sessions");
      if ((perKey.get(keyId) ?? 0) >= limits.maxSessionsPerKey) {
        return refuse(socket, 429, `this key already has ${limits.maxSessionsPerKey} open sessions`, "too_many_sessions_for_key");
      }
      wss.handleUpgrade(req, socket, head, (ws) => accept(ws, url, keyId));
    })().catch((error: unknown) => {
      log.error("upgrade failed", { error: reasonOf(error) });
      refuse(socket, 500, "internal error", "server_error");
    });
  });

  function accept(ws: WebSocket, url: URL, keyId: string): void {
    const send = (event: ServerEvent) => {
      if (ws.readyState !== WebSocket.OPEN) return;
      // A client that stops reading loses partial transcripts, never final ones.
      if (event.type === "conversation.item.input_audio_transcription.delta" && ws.bufferedAmount > 1024 * 1024) return;
      ws.send(serialize(event));
    };
    const format = url.searchParams.get("input_audio_format") ?? AUDIO_FORMAT;
    if (!isSupportedAudioFormat(format)) {
      send(errorEvent(unsupportedFormat(format, "input_audio_format")));
      ws.close(1008, "unsupported input_audio_format");
      return;
    }
    const model = url.searchParams.get("model") || options.defaultModel;
    if (model.length > 200) {
      send(errorEvent({ code: "invalid_value", message: "model: name too long", param: "model" }));
      ws.close(1008, "invalid model");
      return;
    }

    const entry: Live = { socket: ws, keyId };
    live.add(entry);
    perKey.set(keyId, (perKey.get(keyId) ?? 0) + 1);
    const sessionId = `sess_${randomBytes(12).toString("hex")}`;
    const queued: Array<{ data: Buffer; binary: boolean }> = [];
    let closedBy: CloseReason | undefined;
    let idleTimer: NodeJS.Timeout | undefined;
    let alive = true;

    const resetIdle = () => {
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => {
        send(errorEvent({ code: "idle_timeout", message: `no message for ${limits.idleTimeoutSeconds} s: the session is closed and its transcript is being prepared` }));
        closedBy = "idle_timeout";
        ws.close(1000, "idle timeout");
      }, limits.idleTimeoutSeconds * 1000);
    };
    // Pings find connections that died without a close frame (a laptop lid, a dropped network).
    const pinger = setInterval(() => {
      if (!alive) return ws.terminate();
      alive = false;
      ws.ping();
    }, 20_000);
    ws.on("pong", () => (alive = true));
    resetIdle();

    const onFrame = (data: Buffer, binary: boolean) => {
      resetIdle();
      if (!entry.session) return void queued.push({ data, binary });
      if (binary) entry.session.rejectBinary();
      else entry.session.handle(data.toString("utf8"));
    };
    ws.on("message", (data: Buffer | ArrayBuffer | Buffer[], binary) => onFrame(Buffer.isBuffer(data) ? data : Buffer.from(data as ArrayBuffer), binary));
    ws.on("error", (error) => log.warn("client socket error", { sessionId, error: error.message }));

    const opened = RealtimeSession.open({
      id: sessionId,
      keyId,
      model,
      limits,
      recorder: options.recorder,
      openUpstream: options.openUpstream,
      fallbackUpstream: options.fallbackUpstream,
      send,
      close: (code, reason) => {
        closedBy = code === 1008 ? "session_limit" : closedBy;
        ws.close(code, reason);
      },
      log,
      now,
      onEnded: options.onSessionEnd,
    });
    opened.then(
      (session) => {
        entry.session = session;
        log.info("realtime session started", { sessionId, keyId, model, upstream: session.view().upstream });
        send({ type: "session.created", session: session.view() });
        for (const frame of queued.splice(0)) onFrame(frame.data, frame.binary);
        if (ws.readyState !== WebSocket.OPEN) finish();
      },
      (error: unknown) => {
        log.error("session could not start", { sessionId, error: reasonOf(error) });
        send(errorEvent({ code: "session_unavailable", message: "the session could not be started; retry shortly" }, "server_error"));
        ws.close(1011, "session could not start");
        release();
      },
    );

    let released = false;
    function release() {
      if (released) return;
      released = true;
      clearTimeout(idleTimer);
      clearInterval(pinger);
      live.delete(entry);
      const left = (perKey.get(keyId) ?? 1) - 1;
      if (left > 0) perKey.set(keyId, left);
      else perKey.delete(keyId);
    }

    let finished = false;
    function finish() {
      if (finished || !entry.session) return;
      finished = true;
      const outcome = entry.session.end(closedBy ?? "disconnected");
      outcomes.set(sessionId, outcome);
      outcome
        .catch((error: unknown) => log.error("session not submitted", { sessionId, error: reasonOf(error) }))
        .finally(() => {
          release();
          // Forget outcomes after a while: a long-running gateway must not grow with every session.
          setTimeout(() => outcomes.delete(sessionId), 10 * 60_000).unref();
        });
    }

    ws.on("close", (code) => {
      clearTimeout(idleTimer);
      clearInterval(pinger);
      // 1000/1001 from the client is a goodbye; anything else (1006: no close frame) is a dropped connection.
      closedBy ??= code === 1000 || code === 1001 ? "client_closed" : "disconnected";
      if (entry.session) finish();
      // A session still opening finishes once it has opened (see above).
    });
    (entry as Live & { shutdown?: () => void }).shutdown = () => {
      closedBy = "server_shutdown";
      ws.close(1012, "gateway restarting; reconnect");
    };
  }

  await new Promise<void>((resolve) => server.listen(options.port, options.host ?? "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  const host = options.host && options.host !== "0.0.0.0" && options.host !== "::" ? options.host : "127.0.0.1";

  return {
    url: `ws://${host}:${port}${REALTIME_PATH}`,
    port,
    sessions: () => live.size,
    outcome: (sessionId) => outcomes.get(sessionId),
    async close() {
      accepting = false;
      for (const entry of [...live]) (entry as Live & { shutdown?: () => void }).shutdown?.();
      // Closing handshakes settle quickly; sessions then finish their submission.
      const deadline = Date.now() + 60_000;
      while (live.size > 0 && Date.now() < deadline) await sleep(50);
      await Promise.allSettled([...outcomes.values()]);
      wss.close();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** Authorization: Bearer <key>, or the browser form: subprotocol openai-insecure-api-key.<key>. */
export function presentedKey(req: Pick<IncomingMessage, "headers">): string | undefined {
  const auth = req.headers.authorization;
  if (auth) {
    const match = /^Bearer\s+(.+)$/i.exec(auth.trim());
    if (match) return match[1].trim();
  }
  const protocols = String(req.headers["sec-websocket-protocol"] ?? "")
    .split(",")
    .map((p) => p.trim());
  const fromProtocol = protocols.find((p) => p.startsWith(KEY_SUBPROTOCOL_PREFIX));
  return fromProtocol ? fromProtocol.slice(KEY_SUBPROTOCOL_PREFIX.length) || undefined : undefined;
}

function sameKey(expected: string, given: string): boolean {
  const a = createHash("sha256").update(expected).digest();
  const b = createHash("sha256").update(given).digest();
  return timingSafeEqual(a, b);
}

/** A stable, non-reversible id for a key: what logs, limits and session items use instead of the key. */
export function keyIdOf(key: string): string {
  return `key_${createHash("sha256").update(key).digest("hex").slice(0, 12)}`;
}

function httpError(message: string, code: string): string {
  return JSON.stringify({ error: { message, type: "invalid_request_error", code } });
}

const STATUS_TEXT: Record<number, string> = {
  401: "Unauthorized",
  404: "Not Found",
  429: "Too Many Requests",
  500: "Internal Server Error",
  503: "Service Unavailable",
};

function refuse(socket: Socket, status: number, message: string, code: string): void {
  if (socket.destroyed) return;
  const body = httpError(message, code);
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\n` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n` +
      (status === 401 ? `WWW-Authenticate: Bearer realm="stt-realtime"\r\n` : "") +
      `\r\n${body}`,
  );
}
