import { FormData, request } from "undici";
import { setTimeout as sleep } from "node:timers/promises";
import { PermanentError, RetryableError, PipelineError } from "../errors.js";
import { parseProviderResponse, type ProviderTranscription } from "./parse-response.js";
import type { RequestLimiter } from "../adapters/provider-slots.js";
import { explicitLanguage } from "../domain/options/languages.js";

/** The backoff between attempts when the options set none: about base * 2^n, at most max (infra/settings.ts counts on it). */
export const DEFAULT_BACKOFF_BASE_MS = 500;
export const DEFAULT_BACKOFF_MAX_MS = 20_000;

export interface TranscriptionRequest {
  audio: Uint8Array;
  filename: string;
  audioSeconds: number;
  model: string;
  task: "transcribe" | "translate";
  language?: string;
  prompt?: string;
  temperature?: number;
  diarize: boolean;
  minSpeakers?: number;
  maxSpeakers?: number;
}

export interface ProviderClientOptions {
  baseUrl: string;
  apiKey: () => Promise<string>;
  timeoutMs: number;
  /** Attempts per call, first included: the retry budget. */
  maxAttempts: number;
  /** Backoff base; attempt n waits about base * 2^n, with full jitter. */
  backoffBaseMs?: number;
  backoffMaxMs?: number;
  /** Seeded in tests so retries repeat. */
  random?: () => number;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (info: { attempt: number; status?: number; waitMs: number; code: string }) => void;
  /**
   * After each HTTP request to the provider (one attempt, while it holds its slot), answered or not: how long
   * it took, and the error code when it failed (`provider_429`, `provider_network`, ...). For metrics.
   */
  onRequest?: (info: ProviderRequestInfo) => void;
  /** Runs each HTTP request to the provider (one attempt): a composition root puts it in a trace subsegment. */
  traceRequest?: <T>(info: Omit<ProviderRequestInfo, "latencyMs" | "code">, request: () => Promise<T>) => Promise<T>;
  /**
   * Bounds the requests at the provider, across every process that shares it (the deployment's
   * provider slots: adapters/provider-slots.ts). Held for one attempt, never for a backoff.
   */
  limiter?: RequestLimiter;
}

/** One HTTP request to the provider, as the client's hooks see it. */
export interface ProviderRequestInfo {
  model: string;
  /** 1 for the first attempt of a call. */
  attempt: number;
  /** Seconds of audio the request carries. */
  audioSeconds: number;
  latencyMs: number;
  /** The failure's code, when the request failed. */
  code?: string;
}

export interface CallBudget {
  timeoutMs?: number;
  maxAttempts?: number;
}

const PERMANENT_STATUSES = new Set([400, 401, 403, 404, 405, 413, 415, 422]);

/**
 * An OpenAI-compatible speech-to-text client (Together's /audio/transcriptions
 * and /audio/translations). Transient failures are retried here, within a
 * budget, so a rate-limited provider slows a job down instead of failing it.
 */
export class ProviderClient {
  private readonly sleep: (ms: number) => Promise<void>;
  private readonly random: () => number;

  constructor(private readonly options: ProviderClientOptions) {
    this.sleep = options.sleep ?? ((ms) => sleep(ms));
    this.random = options.random ?? Math.random;
  }

  private limited<T>(fn: () => Promise<T>): Promise<T> {
    return this.options.limiter ? this.options.limiter.run(fn) : fn();
  }

  /** `budget` overrides the client's timeout and attempts for this call (speaker probes get a short one). */
  async transcribe(req: TranscriptionRequest, budget: CallBudget = {}): Promise<ProviderTranscription> {
    const maxAttempts = budget.maxAttempts ?? this.options.maxAttempts;
    const timeoutMs = budget.timeoutMs ?? this.options.timeoutMs;
    let lastError: PipelineError | undefined;
    for (let attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        const body = await this.limited(() => this.observed(req, attempt, () => this.post(req, timeoutMs)));
        return parseProviderResponse(body, req.audioSeconds);
      } catch (error) {
        const classified = classify(error);
        if (classified.kind === "permanent" || attempt === maxAttempts) throw classified;
        lastError = classified;
        const waitMs = this.backoff(attempt, classified instanceof RetryableError ? classified.retryAfterSeconds : undefined);
        this.options.onRetry?.({ attempt, waitMs, code: classified.code });
        await this.sleep(waitMs);
      }
    }
    throw lastError ?? new RetryableError("provider_unavailable", "provider call failed");
  }

  /** One attempt, traced and timed when the options ask for it. */
  private async observed(req: TranscriptionRequest, attempt: number, post: () => Promise<string>): Promise<string> {
    const { onRequest, traceRequest } = this.options;
    const info = { model: req.model, attempt, audioSeconds: req.audioSeconds };
    const started = performance.now();
    let code: string | undefined;
    try {
      return await (traceRequest ? traceRequest(info, post) : post());
    } catch (error) {
      code = classify(error).code;
      throw error;
    } finally {
      onRequest?.({ ...info, latencyMs: performance.now() - started, code });
    }
  }

  private backoff(attempt: number, retryAfterSeconds?: number): number {
    const base = this.options.backoffBaseMs ?? DEFAULT_BACKOFF_BASE_MS;
    const max = this.options.backoffMaxMs ?? DEFAULT_BACKOFF_MAX_MS;
    const exponential = Math.min(max, base * 2 ** (attempt - 1));
    const jittered = exponential / 2 + this.random() * (exponential / 2);
    // Retry-After is the provider telling us when capacity returns: never come back sooner.
    return Math.max(jittered, (retryAfterSeconds ?? 0) * 1000);
  }

  private async post(req: TranscriptionRequest, timeoutMs: number): Promise<string> {
    const form = new FormData();
    form.append("file", new Blob([req.audio], { type: mimeOf(req.filename) }), req.filename);
    form.append("model", req.model);
    form.append("response_format", "verbose_json");
    form.append("timestamp_granularities[]", "word");
    form.append("timestamp_granularities[]", "segment");
    const language = explicitLanguage(req.language);
    if (language) form.append("language", language);
    if (req.prompt) form.append("prompt", req.prompt);
    if (req.temperature !== undefined) form.append("temperature", String(req.temperature));
    if (req.diarize && req.task === "transcribe") {
      form.append("diarize", "true");
      if (req.minSpeakers) form.append("min_speakers", String(req.minSpeakers));
      if (req.maxSpeakers) form.append("max_speakers", String(req.maxSpeakers));
    }
    const path = req.task === "translate" ? "audio/translations" : "audio/transcriptions";
    const url = `${this.options.baseUrl.replace(/\/+$/, "")}/${path}`;
    const key = await this.options.apiKey();
    const res = await request(url, {
      method: "POST",
      body: form,
      headers: { authorization: `Bearer ${key}` },
      headersTimeout: timeoutMs,
      bodyTimeout: timeoutMs,
    });
    const text = await res.body.text();
    if (res.statusCode >= 200 && res.statusCode < 300) return text;
    throw errorForStatus(res.statusCode, text, res.headers["retry-after"]);
  }
}

function errorForStatus(status: number, body: string, retryAfter: string | string[] | undefined): PipelineError {
  const message = providerMessage(body) ?? `HTTP ${status}`;
  if (status === 429 || status >= 500 || status === 408) {
    return new RetryableError(`provider_${status}`, `provider answered ${status}: ${message}`, {
      retryAfterSeconds: parseRetryAfter(Array.isArray(retryAfter) ? retryAfter[0] : retryAfter),
    });
  }
  if (PERMANENT_STATUSES.has(status) || (status >= 400 && status < 500)) {
    return new PermanentError(`provider_${status}`, `provider rejected the request (${status}): ${message}`);
  }
  return new RetryableError(`provider_${status}`, `provider answered ${status}: ${message}`);
}

/** Together's errors are {error:{message,type,param,code}}; others send {message} or {detail}. */
function providerMessage(body: string): string | undefined {
  try {
    const json = JSON.parse(body) as { error?: { message?: string } | string; message?: string; detail?: string };
    if (typeof json.error === "string") return json.error;
    return json.error?.message ?? json.message ?? json.detail;
  } catch {
    return body.trim().slice(0, 200) || undefined;
  }
}

export function parseRetryAfter(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return Math.max(0, seconds);
  const date = Date.parse(value);
  return Number.isFinite(date) ? Math.max(0, (date - Date.now()) / 1000) : undefined;
}

/** Configuration mistakes (a malformed base URL) never heal by waiting. */
const PERMANENT_CLIENT_CODES = new Set(["UND_ERR_INVALID_ARG", "ERR_INVALID_URL", "ERR_INVALID_ARG_TYPE"]);

function classify(error: unknown): PipelineError {
  if (error instanceof PipelineError) return error;
  const code = (error as { code?: string }).code ?? "";
  if (PERMANENT_CLIENT_CODES.has(code)) {
    return new PermanentError("provider_config", `provider request could not be made (${code}): check STT_BASE_URL`, { cause: error });
  }
  // Timeouts and dropped connections are the network's fault, not the request's.
  return new RetryableError("provider_network", `provider unreachable (${code || (error as Error).message})`, { cause: error });
}

function mimeOf(filename: string): string {
  if (filename.endsWith(".flac")) return "audio/flac";
  if (filename.endsWith(".wav")) return "audio/wav";
  if (filename.endsWith(".mp3")) return "audio/mpeg";
  return "application/octet-stream";
}
