import { lookup as dnsLookup } from "node:dns/promises";
import { isIP, type LookupFunction } from "node:net";
import { rootCertificates } from "node:tls";
import { Agent, request } from "undici";
import { PermanentError, PipelineError, RetryableError } from "../errors.js";
import { addressAllowed, addressKind, type HostPort } from "./url-address.js";
import { redactUrl } from "./url-pointer.js";

/**
 * Opening a user's URL from inside the deployment, safely. The rules, each checked on every hop:
 * - only https;
 * - only public addresses (url-address.ts): the host is resolved first, every address it resolves to is
 *   checked, and the connection is pinned to those checked addresses (the socket's lookup returns them and
 *   nothing else), so a DNS answer that changes between the check and the connect (rebinding) cannot swap in
 *   a private one. An IP literal is checked as it stands (no lookup happens for it);
 * - redirects are followed by hand, at most MAX_REDIRECTS, each new URL held to the same rules;
 * - bounded size (Content-Length first, then every byte counted) and time (connect, headers, an idle body,
 *   and the whole download).
 * Each refusal is a PermanentError with a one-line reason that names the host but never the query string.
 */

export interface UrlFetchSettings {
  /** The most bytes the body may have. */
  maxBytes: number;
  /**
   * Non-public host:port pairs that may be reached anyway. Only the local stack sets it (tests serve their
   * recordings from 127.0.0.1); the environment contract has no variable for it, so a deployment cannot.
   */
  allow?: readonly HostPort[];
  /** Extra trusted CA certificates (PEM), added to Node's own: the local tests' self-signed server. */
  trustedCa?: readonly string[];
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  /** The longest the body may go without a byte. */
  bodyTimeoutMs?: number;
  /** The whole download, redirects included. */
  totalTimeoutMs?: number;
}

export const MAX_REDIRECTS = 5;

export const URL_FETCH_TIMEOUTS = {
  connectTimeoutMs: 10_000,
  headersTimeoutMs: 30_000,
  bodyTimeoutMs: 60_000,
  // The copy shares the chunker's 900 s with decoding the copy: 2 GiB in 10 minutes is 3.6 MB/s, well under
  // what a Lambda gets from a healthy server.
  totalTimeoutMs: 600_000,
} as const;

/** One hop's answer, as the redirect loop needs it. */
export interface HopResponse {
  status: number;
  header(name: string): string | undefined;
  body: AsyncIterable<Uint8Array>;
  /** Drops the body unread (a redirect's, an error's). */
  discard(): void;
}

/** The network, injected so the redirect loop and the rules are tested without one. */
export interface FetchDeps {
  /** Every address `host` resolves to. */
  resolve(host: string): Promise<string[]>;
  /** A GET of `url`, connecting only to `addresses` (already checked). */
  request(url: URL, addresses: readonly string[], signal: AbortSignal): Promise<HopResponse>;
  close?(): Promise<void>;
}

export interface OpenedUrl {
  /** Where the body came from, after redirects. */
  url: URL;
  contentLength?: number;
  /** The body, counted: iterating throws a permanent error past `maxBytes` (or on an empty body). */
  body: AsyncIterable<Uint8Array>;
  /** Releases the connection and the timers; call it when done with the body, read or not. */
  close(): Promise<void>;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

/** Opens `raw` under the rules above; the body is read by the caller. */
export async function openUrl(raw: string, settings: UrlFetchSettings, deps: FetchDeps = networkDeps(settings)): Promise<OpenedUrl> {
  const totalMs = settings.totalTimeoutMs ?? URL_FETCH_TIMEOUTS.totalTimeoutMs;
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new PermanentError("url_timeout", `url: the download took longer than ${seconds(totalMs)} s`)), totalMs);
  timer.unref?.();
  const close = async () => {
    clearTimeout(timer);
    await deps.close?.();
  };
  let current: URL | undefined;
  try {
    current = parseUrl(raw);
    for (let hop = 0; ; hop++) {
      checkScheme(current, hop);
      const addresses = await checkedAddresses(current, hop, settings, deps);
      const response = await deps.request(current, addresses, deadline.signal);
      if (REDIRECTS.has(response.status)) {
        response.discard();
        const location = response.header("location");
        if (!location) throw new PermanentError("url_http", `url: HTTP ${response.status} without a Location`);
        if (hop >= MAX_REDIRECTS) throw new PermanentError("url_redirects", `url: more than ${MAX_REDIRECTS} redirects`);
        if (!URL.canParse(location, current.href)) throw new PermanentError("url_redirects", "url: redirect to something that is not a URL");
        current = new URL(location, current);
        continue;
      }
      if (response.status !== 200) {
        response.discard();
        throw httpError(response.status, current);
      }
      const lengthHeader = response.header("content-length");
      const contentLength = lengthHeader !== undefined && /^\d+$/.test(lengthHeader) ? Number(lengthHeader) : undefined;
      if (contentLength !== undefined && contentLength > settings.maxBytes) {
        response.discard();
        throw tooLarge(settings.maxBytes, `Content-Length ${contentLength} bytes`);
      }
      if (contentLength === 0) {
        response.discard();
        throw new PermanentError("empty_file", "url: the response is empty (0 bytes)");
      }
      return { url: current, contentLength, body: counted(response.body, settings, current, deadline.signal), close };
    }
  } catch (error) {
    await close();
    throw fetchError(error, current?.href ?? raw, settings, deadline.signal);
  }
}

function parseUrl(raw: string): URL {
  if (!URL.canParse(raw)) throw new PermanentError("url_invalid", "url: not an absolute URL");
  const url = new URL(raw);
  if (url.username || url.password) throw new PermanentError("url_invalid", "url: credentials in the URL are not accepted");
  return url;
}

function checkScheme(url: URL, hop: number): void {
  if (url.protocol === "https:") return;
  throw new PermanentError(
    "url_refused",
    hop === 0 ? "url: only https is accepted" : `url: redirect to a non-https URL refused (${redactUrl(url)})`,
  );
}

function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, "").toLowerCase();
}

function portOf(url: URL): number {
  return Number(url.port || 443);
}

/** The addresses a hop may connect to: every one the host resolves to, each allowed, or a refusal. */
async function checkedAddresses(url: URL, hop: number, settings: UrlFetchSettings, deps: FetchDeps): Promise<string[]> {
  const host = hostOf(url);
  let addresses: string[];
  if (isIP(host)) {
    addresses = [host];
  } else {
    try {
      addresses = await deps.resolve(host);
    } catch (error) {
      throw dnsError(error, host);
    }
    if (addresses.length === 0) throw new PermanentError("url_dns", `url: ${host} does not resolve`);
  }
  const refused = addresses.find((address) => !addressAllowed(address, { host, port: portOf(url) }, settings.allow));
  if (refused === undefined) return addresses;
  const which = refused === host ? refused : `${host} → ${refused}`;
  throw new PermanentError(
    "url_refused",
    hop > 0
      ? `url: redirect to a private address refused (${which})`
      : refused === host
        ? `url: ${host} is a private address`
        : `url: ${host} resolves to a private address (${refused})`,
  );
}

function httpError(status: number, url: URL): PipelineError {
  const reason = `url: HTTP ${status} from ${url.host}`;
  // A server's bad moment passes; the chunker's retries (Lambda's, for the S3 event) try again.
  if (status === 429 || status >= 500) return new RetryableError("url_http", reason);
  return new PermanentError("url_http", reason);
}

function tooLarge(maxBytes: number, detail?: string): PermanentError {
  return new PermanentError("url_too_large", `url: larger than ${formatBytes(maxBytes)}${detail ? ` (${detail})` : ""}`);
}

/** The body, counted against the limit, with the network's errors turned into reasons. */
async function* counted(body: AsyncIterable<Uint8Array>, settings: UrlFetchSettings, url: URL, signal: AbortSignal): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  try {
    for await (const chunk of body) {
      bytes += chunk.length;
      if (bytes > settings.maxBytes) throw tooLarge(settings.maxBytes);
      yield chunk;
    }
  } catch (error) {
    throw fetchError(error, url.href, settings, signal);
  }
  if (bytes === 0) throw new PermanentError("empty_file", "url: the response is empty (0 bytes)");
}

/** Any error of a fetch as a PipelineError whose message names the host at most. */
export function fetchError(error: unknown, raw: string, settings: UrlFetchSettings, signal?: AbortSignal): PipelineError {
  if (signal?.aborted && signal.reason instanceof PipelineError) return signal.reason;
  for (let e: unknown = error, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if (e instanceof PipelineError) return e;
  }
  const host = URL.canParse(raw) ? new URL(raw).host : "the host";
  const code = String((error as { code?: unknown }).code ?? (error as Error).name ?? "error");
  switch (code) {
    case "UND_ERR_CONNECT_TIMEOUT":
      return new RetryableError("url_unreachable", `url: connecting to ${host} timed out`);
    case "UND_ERR_HEADERS_TIMEOUT":
      return new RetryableError("url_timeout", `url: ${host} sent no response within ${seconds(settings.headersTimeoutMs ?? URL_FETCH_TIMEOUTS.headersTimeoutMs)} s`);
    case "UND_ERR_BODY_TIMEOUT":
      return new RetryableError("url_timeout", `url: the download from ${host} stalled for ${seconds(settings.bodyTimeoutMs ?? URL_FETCH_TIMEOUTS.bodyTimeoutMs)} s`);
  }
  if (/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|ERR_SSL/.test(code)) {
    return new PermanentError("url_tls", `url: the TLS certificate of ${host} is not trusted (${code})`);
  }
  return new RetryableError("url_unreachable", `url: could not fetch from ${host} (${code})`);
}

function dnsError(error: unknown, host: string): PipelineError {
  const code = String((error as { code?: unknown }).code ?? "");
  if (code === "ENOTFOUND" || code === "ENODATA") return new PermanentError("url_dns", `url: ${host} does not resolve`);
  return new RetryableError("url_dns", `url: resolving ${host} failed (${code || "error"})`);
}

function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}

/** 2147483648 -> "2 GB", 5242880 -> "5 MB" (powers of 1024, as the limit is set). */
export function formatBytes(bytes: number): string {
  const units = ["bytes", "KB", "MB", "GB", "TB"];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : Math.round(value * 10) / 10} ${units[unit]}`;
}

/**
 * The socket's lookup: the addresses checked for the hop's host and nothing else, each checked again, so
 * the connection goes where the rules said it may. A host not checked for this hop is refused.
 */
export function pinnedLookup(pins: ReadonlyMap<string, readonly string[]>, allowed: (address: string, host: string) => boolean): LookupFunction {
  return ((hostname: string, options: { all?: boolean; family?: number | string }, callback: (...args: unknown[]) => void) => {
    const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
    const family = options?.family === "IPv4" ? 4 : options?.family === "IPv6" ? 6 : Number(options?.family ?? 0);
    const pinned = (pins.get(host) ?? []).filter((address) => !family || isIP(address) === family);
    const refused = pinned.find((address) => !allowed(address, host));
    if (refused !== undefined || pinned.length === 0) {
      const reason =
        refused !== undefined
          ? `url: ${host} resolves to a private address (${refused})`
          : `url: ${host} was not checked before connecting`;
      return callback(Object.assign(new PermanentError("url_refused", reason), { code: "ESTTREFUSED" }));
    }
    const entries = pinned.map((address) => ({ address, family: isIP(address) }));
    if (options?.all) return callback(null, entries);
    return callback(null, entries[0].address, entries[0].family);
  }) as LookupFunction;
}

/** The real network: DNS through the system resolver, requests through one undici Agent per download. */
export function networkDeps(settings: UrlFetchSettings): FetchDeps {
  const pins = new Map<string, readonly string[]>();
  const allowed = (address: string, host: string) => addressKind(address) === undefined || pinAllowed(address, host);
  // Pins were checked with the port; the lookup does not know it, so a pinned non-public address passes only
  // if some allow entry names it (the port was held to the rule when it was pinned).
  const pinAllowed = (address: string, host: string) =>
    (settings.allow ?? []).some((entry) => entry.host === address.toLowerCase() || entry.host === host);
  const agent = new Agent({
    connect: {
      timeout: settings.connectTimeoutMs ?? URL_FETCH_TIMEOUTS.connectTimeoutMs,
      lookup: pinnedLookup(pins, allowed),
      ...(settings.trustedCa?.length ? { ca: [...rootCertificates, ...settings.trustedCa] } : {}),
    },
    headersTimeout: settings.headersTimeoutMs ?? URL_FETCH_TIMEOUTS.headersTimeoutMs,
    bodyTimeout: settings.bodyTimeoutMs ?? URL_FETCH_TIMEOUTS.bodyTimeoutMs,
  });
  return {
    async resolve(host) {
      const found = await dnsLookup(host, { all: true, verbatim: true });
      return found.map((entry) => entry.address);
    },
    async request(url, addresses, signal) {
      pins.set(hostOf(url), addresses);
      const response = await request(url, {
        dispatcher: agent,
        method: "GET",
        // No compression: the limit counts the bytes that are stored, and ffprobe reads them as they are.
        headers: { "user-agent": "stt-url-source/1", accept: "*/*", "accept-encoding": "identity" },
        signal,
      });
      // A body dropped unread (a redirect's) or abandoned past the limit errors as it is destroyed: that is
      // expected, and the reader sees the errors that matter through its iterator.
      response.body.on("error", () => undefined);
      return {
        status: response.statusCode,
        header(name) {
          const value = response.headers[name.toLowerCase()];
          return Array.isArray(value) ? value[0] : value;
        },
        body: response.body,
        discard: () => response.body.destroy(),
      };
    },
    // Destroyed, not closed: a body abandoned past the limit must not keep the download waiting.
    close: () => agent.destroy(),
  };
}
