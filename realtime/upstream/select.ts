/**
 * Which upstream a session gets. `realtime` relays to the provider's realtime endpoint, `http` transcribes
 * utterances through its HTTP API, `auto` tries the realtime endpoint first and falls back to HTTP when
 * the provider has none (remembered for a while, so sessions do not each pay the failed handshake).
 */
import type { ProviderClient } from "../../shared/provider/client.js";
import type { Log } from "../../shared/pipeline/context.js";
import type { UpstreamFactory } from "../session.js";
import { HttpUpstream, type HttpUpstreamOptions } from "./http-upstream.js";
import { DEFAULT_PIECE_RULES } from "./live-pieces.js";
import { RelayUpstream, UpstreamUnavailable, connectRealtime } from "./relay-upstream.js";

export type UpstreamMode = "auto" | "realtime" | "http";
export const UPSTREAM_MODES: readonly UpstreamMode[] = ["auto", "realtime", "http"];

export interface UpstreamSettings {
  mode: UpstreamMode;
  /** The provider's realtime WebSocket URL (ws:// or wss://, path included). */
  realtimeUrl: string;
  apiKey: () => Promise<string>;
  provider: ProviderClient;
  http: Omit<HttpUpstreamOptions, "provider" | "startSample">;
  connectTimeoutMs: number;
  /** After the realtime endpoint was found missing, `auto` uses HTTP for this long before trying again. */
  recheckMs: number;
  log: Log;
}

export const DEFAULT_HTTP_UPSTREAM: UpstreamSettings["http"] = {
  partials: "pieces",
  pieces: DEFAULT_PIECE_RULES,
  maxUtteranceSeconds: 30,
  maxConcurrent: 4,
};

export function upstreamFactories(settings: UpstreamSettings): { open: UpstreamFactory; fallback: UpstreamFactory } {
  let realtimeMissingUntil = 0;
  const http: UpstreamFactory = async (live, listener, ids, startSample) =>
    new HttpUpstream(live, listener, ids, { ...settings.http, provider: settings.provider, startSample });
  const relay: UpstreamFactory = async (live, listener, ids) => {
    const { socket, early } = await connectRealtime({
      url: settings.realtimeUrl,
      apiKey: await settings.apiKey(),
      model: live.model,
      connectTimeoutMs: settings.connectTimeoutMs,
    });
    return new RelayUpstream(socket, early, live, listener, ids);
  };
  const open: UpstreamFactory = async (live, listener, ids, startSample) => {
    if (settings.mode === "http") return http(live, listener, ids, startSample);
    if (settings.mode === "realtime") return relay(live, listener, ids, startSample);
    if (Date.now() < realtimeMissingUntil) return http(live, listener, ids, startSample);
    try {
      return await relay(live, listener, ids, startSample);
    } catch (error) {
      if (!(error instanceof UpstreamUnavailable)) throw error;
      realtimeMissingUntil = Date.now() + settings.recheckMs;
      settings.log.info("provider realtime endpoint unavailable; using the HTTP API", { reason: error.message, status: error.status });
      return http(live, listener, ids, startSample);
    }
  };
  return { open, fallback: http };
}
