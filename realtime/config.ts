/**
 * The gateway's settings, by environment variable: one place for the names the CDK construct sets and
 * the entry point reads (as shared/wiring.ts does for the Lambda functions).
 */
import { DEFAULT_LIMITS, type GatewayLimits } from "./gateway.js";
import { PARTIALS_MODES, type HttpUpstreamOptions, type PartialsMode } from "./upstream/http-upstream.js";
import { pieceRules } from "./upstream/live-pieces.js";
import { DEFAULT_HTTP_UPSTREAM, UPSTREAM_MODES, type UpstreamMode } from "./upstream/select.js";

export const REALTIME_ENV = {
  port: "STT_REALTIME_PORT",
  /** Local: the accepted gateway keys, comma-separated. */
  keys: "STT_GATEWAY_KEYS",
  /** AWS: a Secrets Manager secret holding the keys (comma-separated or a JSON array). */
  keysSecretArn: "STT_GATEWAY_KEYS_SECRET_ARN",
  upstream: "STT_REALTIME_UPSTREAM",
  /** The provider's realtime URL, when it is not <base URL>/realtime on ws(s). */
  upstreamUrl: "STT_REALTIME_UPSTREAM_URL",
  idleSeconds: "STT_REALTIME_IDLE_SECONDS",
  maxSessionSeconds: "STT_REALTIME_MAX_SESSION_SECONDS",
  maxSessions: "STT_REALTIME_MAX_SESSIONS",
  maxSessionsPerKey: "STT_REALTIME_MAX_SESSIONS_PER_KEY",
  /** `on` (default): every session ends in a batch job; `off`: its parts stay in the work bucket, no job (CLOSED). */
  batchJob: "STT_REALTIME_BATCH_JOB",
  /** HTTP upstream: `pieces` (deltas, each second billed once) or `off` (one request per utterance). */
  partials: "STT_REALTIME_PARTIALS",
  /** HTTP upstream: the longest piece, so the longest wait for a delta while someone speaks. */
  pieceMaxMs: "STT_REALTIME_PIECE_MAX_MS",
} as const;

/** Settings that are gone, with what replaced them: refusing them beats silently ignoring them. */
const RETIRED_ENV: Record<string, string> = {
  STT_REALTIME_DELTA_INTERVAL_MS: "partials are pieces of the utterance now: see STT_REALTIME_PARTIALS and STT_REALTIME_PIECE_MAX_MS",
};

export const DEFAULT_REALTIME_PORT = 4568;

export interface RealtimeEnvSettings {
  mode: UpstreamMode;
  upstreamUrl?: string;
  limits: GatewayLimits;
  /** STT_REALTIME_BATCH_JOB: whether sessions end in a batch job. */
  batchJob: boolean;
  http: Pick<HttpUpstreamOptions, "partials" | "pieces">;
}

type Env = Record<string, string | undefined>;

export function realtimeSettingsFromEnv(env: Env): RealtimeEnvSettings {
  for (const [name, why] of Object.entries(RETIRED_ENV)) if (env[name]) throw new Error(`environment variable ${name} is no longer read: ${why}`);
  const mode = (env[REALTIME_ENV.upstream] || "auto") as UpstreamMode;
  const partials = (env[REALTIME_ENV.partials] || DEFAULT_HTTP_UPSTREAM.partials) as PartialsMode;
  if (!PARTIALS_MODES.includes(partials)) throw new Error(`${REALTIME_ENV.partials} must be one of ${PARTIALS_MODES.join(", ")}, not '${partials}'`);
  if (!UPSTREAM_MODES.includes(mode)) throw new Error(`${REALTIME_ENV.upstream} must be one of ${UPSTREAM_MODES.join(", ")}, not '${mode}'`);
  const num = (name: string, fallback: number) => {
    const raw = env[name];
    if (raw === undefined || raw === "") return fallback;
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`environment variable ${name} must be a positive number, not '${raw}'`);
    return value;
  };
  const batchJob = env[REALTIME_ENV.batchJob] || "on";
  if (batchJob !== "on" && batchJob !== "off") throw new Error(`${REALTIME_ENV.batchJob} must be on or off, not '${batchJob}'`);
  return {
    mode,
    batchJob: batchJob === "on",
    upstreamUrl: env[REALTIME_ENV.upstreamUrl] || undefined,
    http: {
      partials,
      pieces: pieceRules(num(REALTIME_ENV.pieceMaxMs, DEFAULT_HTTP_UPSTREAM.pieces.maxSeconds * 1000) / 1000),
    },
    limits: {
      ...DEFAULT_LIMITS,
      idleTimeoutSeconds: num(REALTIME_ENV.idleSeconds, DEFAULT_LIMITS.idleTimeoutSeconds),
      maxSessionSeconds: num(REALTIME_ENV.maxSessionSeconds, DEFAULT_LIMITS.maxSessionSeconds),
      maxSessions: num(REALTIME_ENV.maxSessions, DEFAULT_LIMITS.maxSessions),
      maxSessionsPerKey: num(REALTIME_ENV.maxSessionsPerKey, DEFAULT_LIMITS.maxSessionsPerKey),
    },
  };
}

/** Keys from a comma-separated list or a JSON array; blanks dropped. */
export function parseKeys(raw: string | undefined): string[] {
  if (!raw) return [];
  const text = raw.trim();
  if (text.startsWith("[")) {
    const list = JSON.parse(text) as unknown;
    if (!Array.isArray(list) || !list.every((k) => typeof k === "string")) throw new Error("gateway keys: expected a JSON array of strings");
    return list.map((k) => k.trim()).filter(Boolean);
  }
  return text.split(",").map((k) => k.trim()).filter(Boolean);
}
