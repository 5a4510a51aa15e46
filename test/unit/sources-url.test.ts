/**
 * Recordings by URL (shared/sources/): the address rules, the pointer's schema, the redirect loop and its
 * limits on an injected network, the socket's pinned lookup, and the copy that is fetched once per job.
 */
import { describe, expect, it } from "vitest";
import { addressAllowed, addressKind, parseHostPort, parseIpv6 } from "../../shared/sources/url-address.js";
import { isUrlPointerKey, parseUrlPointer, redactUrl, urlArgumentKind, urlPointerJson } from "../../shared/sources/url-pointer.js";
import { formatBytes, openUrl, pinnedLookup, type FetchDeps, type HopResponse, type UrlFetchSettings } from "../../shared/sources/url-fetch.js";
import type { UrlSourceStore } from "../../shared/adapters/url-source-store.js";
import { copyUrlRecording, urlCopyKey } from "../../shared/sources/url-source.js";
import { parseJobOptions } from "../../shared/domain/options/options.js";
import { PipelineError } from "../../shared/errors.js";
import { resolveSettings } from "../../infra/settings.js";
import { DEFAULTS, ENV } from "../../shared/wiring.js";
import { configFromEnv } from "../../shared/config.js";
import { memoryPipeline } from "../support/memory-context.js";

describe("address rules", () => {
  it.each([
    // IPv4
    ["8.8.8.8", undefined],
    ["1.1.1.1", undefined],
    ["93.184.216.34", undefined],
    ["0.0.0.0", "unspecified"],
    ["0.1.2.3", "unspecified"],
    ["10.0.0.5", "private"],
    ["10.255.255.255", "private"],
    ["100.63.255.255", undefined],
    ["100.64.0.1", "shared"],
    ["100.127.255.255", "shared"],
    ["100.128.0.0", undefined],
    ["127.0.0.1", "loopback"],
    ["127.0.0.2", "loopback"],
    ["169.254.169.254", "link-local"],
    ["169.254.0.1", "link-local"],
    ["172.15.255.255", undefined],
    ["172.16.0.1", "private"],
    ["172.31.255.255", "private"],
    ["172.32.0.0", undefined],
    ["192.168.1.1", "private"],
    ["192.0.2.1", "documentation"],
    ["198.18.0.1", "reserved"],
    ["224.0.0.1", "multicast"],
    ["239.255.255.250", "multicast"],
    ["240.0.0.1", "reserved"],
    ["255.255.255.255", "reserved"],
    // IPv6
    ["2606:4700:4700::1111", undefined],
    ["2a00:1450:4001:81b::200e", undefined],
    ["::", "unspecified"],
    ["::1", "loopback"],
    ["0:0:0:0:0:0:0:1", "loopback"],
    ["fc00::1", "unique-local"],
    ["fd12:3456:789a::1", "unique-local"],
    ["fe80::1", "link-local"],
    ["fe80::1%eth0", "link-local"],
    ["febf::1", "link-local"],
    ["fec0::1", "reserved"],
    ["ff02::1", "multicast"],
    ["2001:db8::1", "documentation"],
    ["2001::1", "reserved"],
    ["100::1", "reserved"],
    ["[::1]", "loopback"],
    // IPv4 inside IPv6: what is reached is the IPv4 address
    ["::ffff:10.0.0.5", "private"],
    ["::ffff:127.0.0.1", "loopback"],
    ["::ffff:169.254.169.254", "link-local"],
    ["::ffff:a9fe:a9fe", "link-local"],
    ["0:0:0:0:0:ffff:7f00:1", "loopback"],
    ["::ffff:8.8.8.8", undefined],
    ["::10.0.0.5", "reserved"],
    ["64:ff9b::a9fe:a9fe", "link-local"],
    ["64:ff9b::8.8.8.8", undefined],
    ["2002:c0a8:0101::1", "private"],
    ["2002:0808:0808::1", undefined],
    // not an address at all
    ["example.com", "reserved"],
  ])("%s -> %s", (address, kind) => {
    // Act + Assess
    expect(addressKind(address)).toBe(kind);
  });

  it("expands IPv6 forms to eight groups", () => {
    expect(parseIpv6("::ffff:10.0.0.5")).toEqual([0, 0, 0, 0, 0, 0xffff, 0x0a00, 0x0005]);
    expect(parseIpv6("fe80::1%lo")).toEqual([0xfe80, 0, 0, 0, 0, 0, 0, 1]);
    expect(parseIpv6("1::2:3")).toEqual([1, 0, 0, 0, 0, 0, 2, 3]);
    expect(parseIpv6("10.0.0.1")).toBeUndefined();
  });

  it("lets an allow list open a non-public host:port, and only that port", () => {
    // Prepare
    const allow = [parseHostPort("127.0.0.1:8443"), parseHostPort("localhost:9443")];

    // Act + Assess
    expect(addressAllowed("127.0.0.1", { host: "127.0.0.1", port: 8443 }, allow)).toBe(true);
    expect(addressAllowed("127.0.0.1", { host: "127.0.0.1", port: 8444 }, allow)).toBe(false);
    expect(addressAllowed("127.0.0.2", { host: "127.0.0.2", port: 8443 }, allow)).toBe(false);
    expect(addressAllowed("::1", { host: "localhost", port: 9443 }, allow)).toBe(true);
    expect(addressAllowed("169.254.169.254", { host: "169.254.169.254", port: 443 }, allow)).toBe(false);
    expect(addressAllowed("8.8.8.8", { host: "dns.google", port: 443 })).toBe(true);
    expect(parseHostPort("[::1]:443")).toEqual({ host: "::1", port: 443 });
    expect(() => parseHostPort("localhost")).toThrow(/host:port/);
  });
});

describe("the pointer object", () => {
  const parse = (value: unknown) => parseUrlPointer(Buffer.from(typeof value === "string" ? value : JSON.stringify(value)));

  it("reads the URL and the options as metadata strings, which the metadata parser then reads", () => {
    // Act
    const parsed = parse({ url: " https://example.com/talk.mp3?sig=abc ", options: { language: "en", "max-speakers": 2, diarize: true, speakers: ["ann", "bob"] } });

    // Assess
    expect(parsed).toEqual({
      ok: true,
      pointer: { url: "https://example.com/talk.mp3?sig=abc", options: { language: "en", "max-speakers": "2", diarize: "true", speakers: "ann,bob" } },
    });
    const options = parseJobOptions(parsed.ok ? parsed.pointer.options : {});
    expect(options).toMatchObject({ ok: true, options: { language: "en", maxSpeakers: 2, speakers: ["ann", "bob"] } });
  });

  it.each([
    ["{not json", /^url pointer: not valid JSON \(/],
    [[1, 2], /^url pointer: not a JSON object/],
    [{}, /^url pointer: missing "url"$/],
    [{ url: 42 }, /"url" must be a non-empty string/],
    [{ url: "example.com/talk.mp3" }, /"url" is not an absolute URL/],
    [{ url: "https://x/" + "a".repeat(5000) }, /longer than 4096/],
    [{ url: "https://x/a.mp3", extra: 1 }, /unknown key 'extra'/],
    [{ url: "https://x/a.mp3", options: "en" }, /"options" must be an object/],
    [{ url: "https://x/a.mp3", options: { max_speakers: 2 } }, /unknown option 'max_speakers'; options are language, /],
    [{ url: "https://x/a.mp3", options: { language: { code: "en" } } }, /option 'language' must be a string/],
    ["x".repeat(70_000), /larger than 64 KB/],
  ])("refuses %j with a reason", (value, reason) => {
    // Act
    const parsed = parse(value);

    // Assess
    expect(parsed.ok).toBe(false);
    expect(parsed.ok ? "" : parsed.reason).toMatch(reason);
  });

  it("leaves bad option values to the metadata parser, whose reasons name the key", () => {
    // Act
    const parsed = parse({ url: "https://x/a.mp3", options: { "max-speakers": 0 } });

    // Assess
    expect(parsed.ok).toBe(true);
    expect(parseJobOptions(parsed.ok ? parsed.pointer.options : {})).toMatchObject({ ok: false, reason: expect.stringMatching(/max-speakers '0'/) });
  });

  it("is known by its key's ending; the CLI writes one the chunker reads back", () => {
    expect(isUrlPointerKey("a/talk.url.json")).toBe(true);
    expect(isUrlPointerKey("a/TALK.URL.JSON")).toBe(true);
    expect(isUrlPointerKey("a/talk.json")).toBe(false);
    expect(parse(urlPointerJson("https://x/a.mp3", { language: "en" }))).toEqual({ ok: true, pointer: { url: "https://x/a.mp3", options: { language: "en" } } });
    expect(urlArgumentKind("https://x/a.mp3")).toBe("https");
    expect(urlArgumentKind("http://x/a.mp3")).toBe("other-url");
    expect(urlArgumentKind("./talk.mp3")).toBe("path");
    expect(urlArgumentKind("C:\\talk.mp3")).toBe("path");
  });

  it("is logged without its query string or credentials", () => {
    expect(redactUrl("https://user:pw@example.com:8443/a/talk.mp3?X-Amz-Signature=abc#t=1")).toBe("https://example.com:8443/a/talk.mp3?…");
    expect(redactUrl("https://example.com/talk.mp3")).toBe("https://example.com/talk.mp3");
    expect(redactUrl("nonsense")).toBe("(not a URL)");
  });
});

/** A network of named hosts answering with canned responses, and a log of what was connected to. */
class FakeNetwork implements FetchDeps {
  readonly requested: Array<{ url: string; addresses: readonly string[] }> = [];
  constructor(
    private readonly dns: Record<string, string[]>,
    private readonly routes: Record<string, { status: number; headers?: Record<string, string>; body?: Uint8Array[] }>,
  ) {}

  async resolve(host: string): Promise<string[]> {
    const found = this.dns[host];
    if (!found) throw Object.assign(new Error("not found"), { code: "ENOTFOUND" });
    return found;
  }

  async request(url: URL, addresses: readonly string[]): Promise<HopResponse> {
    this.requested.push({ url: url.href, addresses });
    const route = this.routes[url.href] ?? { status: 404 };
    const headers = Object.fromEntries(Object.entries(route.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
    return {
      status: route.status,
      header: (name) => headers[name.toLowerCase()],
      body: (async function* () {
        yield* route.body ?? [];
      })(),
      discard: () => undefined,
    };
  }
}

const SETTINGS: UrlFetchSettings = { maxBytes: 1000 };

async function readAll(raw: string, net: FetchDeps, settings = SETTINGS): Promise<Buffer> {
  const opened = await openUrl(raw, settings, net);
  try {
    const chunks: Uint8Array[] = [];
    for await (const chunk of opened.body) chunks.push(chunk);
    return Buffer.concat(chunks);
  } finally {
    await opened.close();
  }
}

async function refusal(promise: Promise<unknown>): Promise<PipelineError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(PipelineError);
  return error as PipelineError;
}

describe("the fetch: redirects, addresses and limits", () => {
  const bytes = (n: number) => new Uint8Array(n).fill(7);

  it("follows redirects by hand, each hop resolved and checked, and connects to the checked addresses", async () => {
    // Prepare
    const net = new FakeNetwork(
      { "a.example": ["93.184.216.34"], "cdn.example": ["2606:4700::1", "104.16.0.1"] },
      {
        "https://a.example/talk.mp3?sig=1": { status: 302, headers: { Location: "https://cdn.example/x/talk.mp3" } },
        "https://cdn.example/x/talk.mp3": { status: 307, headers: { Location: "/y/talk.mp3" } },
        "https://cdn.example/y/talk.mp3": { status: 200, headers: { "Content-Length": "300" }, body: [bytes(100), bytes(200)] },
      },
    );

    // Act
    const body = await readAll("https://a.example/talk.mp3?sig=1", net);

    // Assess
    expect(body.length).toBe(300);
    expect(net.requested).toEqual([
      { url: "https://a.example/talk.mp3?sig=1", addresses: ["93.184.216.34"] },
      { url: "https://cdn.example/x/talk.mp3", addresses: ["2606:4700::1", "104.16.0.1"] },
      { url: "https://cdn.example/y/talk.mp3", addresses: ["2606:4700::1", "104.16.0.1"] },
    ]);
  });

  it.each([
    ["http://a.example/talk.mp3", "url_refused", "url: only https is accepted"],
    ["ftp://a.example/talk.mp3", "url_refused", "url: only https is accepted"],
    ["https://user:pw@a.example/talk.mp3", "url_invalid", "url: credentials in the URL are not accepted"],
    ["https://private.example/talk.mp3", "url_refused", "url: private.example resolves to a private address (10.0.0.5)"],
    ["https://mixed.example/talk.mp3", "url_refused", "url: mixed.example resolves to a private address (fd00::5)"],
    ["https://169.254.169.254/latest/meta-data/", "url_refused", "url: 169.254.169.254 is a private address"],
    ["https://[::ffff:127.0.0.1]/x", "url_refused", "url: ::ffff:7f00:1 is a private address"],
    ["https://nowhere.example/x", "url_dns", "url: nowhere.example does not resolve"],
    ["https://a.example/to-metadata", "url_refused", "url: redirect to a private address refused (169.254.169.254)"],
    ["https://a.example/to-private-name", "url_refused", "url: redirect to a private address refused (private.example → 10.0.0.5)"],
    ["https://a.example/to-http", "url_refused", "url: redirect to a non-https URL refused (http://a.example/talk.mp3?…)"],
    ["https://a.example/loop", "url_redirects", "url: more than 5 redirects"],
    ["https://a.example/no-location", "url_http", "url: HTTP 302 without a Location"],
    ["https://a.example/missing", "url_http", "url: HTTP 404 from a.example"],
    ["https://a.example/forbidden", "url_http", "url: HTTP 403 from a.example"],
    ["https://a.example/declared-big", "url_too_large", "url: larger than 1000 bytes (Content-Length 1900 bytes)"],
    ["https://a.example/big", "url_too_large", "url: larger than 1000 bytes"],
    ["https://a.example/empty", "empty_file", "url: the response is empty (0 bytes)"],
    ["https://a.example/empty-chunked", "empty_file", "url: the response is empty (0 bytes)"],
  ])("%s: %s, %s", async (raw, code, reason) => {
    // Prepare
    const net = new FakeNetwork(
      { "a.example": ["93.184.216.34"], "private.example": ["10.0.0.5"], "mixed.example": ["93.184.216.34", "fd00::5"] },
      {
        "https://a.example/to-metadata": { status: 301, headers: { location: "https://169.254.169.254/latest/meta-data/" } },
        "https://a.example/to-private-name": { status: 308, headers: { location: "https://private.example/" } },
        "https://a.example/to-http": { status: 302, headers: { location: "http://a.example/talk.mp3?sig=secret" } },
        "https://a.example/loop": { status: 302, headers: { location: "/loop" } },
        "https://a.example/no-location": { status: 302 },
        "https://a.example/forbidden": { status: 403 },
        "https://a.example/declared-big": { status: 200, headers: { "content-length": "1900" } },
        "https://a.example/big": { status: 200, body: [bytes(600), bytes(600)] },
        "https://a.example/empty": { status: 200, headers: { "content-length": "0" } },
        "https://a.example/empty-chunked": { status: 200 },
      },
    );

    // Act
    const error = await refusal(readAll(raw, net));

    // Assess
    expect(error.kind).toBe("permanent");
    expect(error.code).toBe(code);
    expect(error.message).toBe(reason);
    expect(error.message).not.toContain("secret");
    // Nothing refused by address was ever connected to.
    expect(net.requested.map((r) => r.addresses.join()).join()).not.toMatch(/10\.0\.0\.5|169\.254|fd00|127\./);
  });

  it("retries what a server's bad moment causes (5xx, 429), through the chunker's retries", async () => {
    // Prepare
    const net = new FakeNetwork({ "a.example": ["93.184.216.34"] }, { "https://a.example/busy": { status: 503 }, "https://a.example/slow": { status: 429 } });

    // Act + Assess
    expect(await refusal(readAll("https://a.example/busy", net))).toMatchObject({ kind: "retryable", message: "url: HTTP 503 from a.example" });
    expect(await refusal(readAll("https://a.example/slow", net))).toMatchObject({ kind: "retryable", message: "url: HTTP 429 from a.example" });
  });

  it("lets the local allow list open its host:port, but not a redirect elsewhere", async () => {
    // Prepare
    const net = new FakeNetwork(
      { localhost: ["127.0.0.1"] },
      {
        "https://localhost:8443/talk.wav": { status: 200, body: [bytes(10)] },
        "https://localhost:8443/away": { status: 302, headers: { location: "https://127.0.0.2:9443/talk.wav" } },
        "https://localhost:8443/other-port": { status: 302, headers: { location: "https://127.0.0.1:9443/talk.wav" } },
      },
    );
    const settings = { maxBytes: 1000, allow: [parseHostPort("127.0.0.1:8443")] };

    // Act + Assess
    expect((await readAll("https://localhost:8443/talk.wav", net, settings)).length).toBe(10);
    expect((await refusal(readAll("https://localhost:8443/away", net, settings))).message).toBe("url: redirect to a private address refused (127.0.0.2)");
    expect((await refusal(readAll("https://localhost:8443/other-port", net, settings))).message).toBe("url: redirect to a private address refused (127.0.0.1)");
  });

  it("stops a download that takes longer than its whole budget", async () => {
    // Prepare: a body that never ends
    const net: FetchDeps = {
      resolve: async () => ["93.184.216.34"],
      request: async (_url, _addresses, signal) => ({
        status: 200,
        header: () => undefined,
        body: (async function* () {
          while (true) {
            await new Promise((r) => setTimeout(r, 20));
            if (signal.aborted) throw Object.assign(new Error("aborted"), { name: "AbortError" });
            yield new Uint8Array(1);
          }
        })(),
        discard: () => undefined,
      }),
    };

    // Act
    const error = await refusal(readAll("https://a.example/forever", net, { maxBytes: 1e9, totalTimeoutMs: 200 }));

    // Assess
    expect(error).toMatchObject({ kind: "permanent", code: "url_timeout", message: "url: the download took longer than 0.2 s" });
  });

  it("writes sizes as the limit is set", () => {
    expect(formatBytes(DEFAULTS.urlMaxBytes)).toBe("2 GB");
    expect(formatBytes(5 * 1024 * 1024)).toBe("5 MB");
    expect(formatBytes(1500)).toBe("1.5 KB");
    expect(formatBytes(12)).toBe("12 bytes");
  });
});

describe("the socket's lookup", () => {
  const call = (lookup: ReturnType<typeof pinnedLookup>, host: string, options: object) =>
    new Promise<{ error?: Error; result: unknown[] }>((resolve) =>
      (lookup as unknown as (h: string, o: object, cb: (...a: unknown[]) => void) => void)(host, options, (error, ...result) =>
        resolve({ error: (error as Error) ?? undefined, result }),
      ),
    );
  const publicOnly = (address: string) => addressKind(address) === undefined;

  it("answers with the checked addresses only, in the form asked for", async () => {
    // Prepare
    const lookup = pinnedLookup(new Map([["cdn.example", ["2606:4700::1", "104.16.0.1"]]]), publicOnly);

    // Act + Assess
    expect(await call(lookup, "cdn.example", { all: true })).toEqual({
      result: [[{ address: "2606:4700::1", family: 6 }, { address: "104.16.0.1", family: 4 }]],
    });
    expect(await call(lookup, "cdn.example", { family: 4 })).toEqual({ result: ["104.16.0.1", 4] });
  });

  it("refuses a host that was not checked, and a pinned address that is not allowed", async () => {
    // Prepare
    const lookup = pinnedLookup(new Map([["evil.example", ["10.0.0.5"]]]), publicOnly);

    // Act
    const unchecked = await call(lookup, "other.example", { all: true });
    const privateOne = await call(lookup, "evil.example", { all: true });

    // Assess
    expect(unchecked.error?.message).toBe("url: other.example was not checked before connecting");
    expect(privateOne.error?.message).toBe("url: evil.example resolves to a private address (10.0.0.5)");
  });
});

describe("the copy in the work bucket", () => {
  class FakeStore implements UrlSourceStore {
    readonly copies = new Map<string, number>();
    async readPointer(): Promise<Uint8Array> {
      return new Uint8Array();
    }
    async copySize(key: string) {
      return this.copies.get(key);
    }
    async putCopy(key: string, body: AsyncIterable<Uint8Array>) {
      let bytes = 0;
      for await (const chunk of body) bytes += chunk.length;
      this.copies.set(key, bytes);
      return bytes;
    }
  }

  it("is fetched once per job: a redelivered event uses the stored copy", async () => {
    // Prepare
    const pipeline = memoryPipeline();
    const store = new FakeStore();
    let opened = 0;
    const deps = {
      store,
      settings: SETTINGS,
      open: async (url: string) => {
        opened++;
        return { url: new URL(url), body: (async function* () { yield new Uint8Array(42); })(), close: async () => undefined };
      },
    };

    try {
      // Act
      const first = await copyUrlRecording(pipeline.ctx, "job1", "https://a.example/talk.mp3", deps);
      const again = await copyUrlRecording(pipeline.ctx, "job1", "https://a.example/talk.mp3", deps);

      // Assess
      expect(opened).toBe(1);
      expect(first).toEqual({ bucket: pipeline.ctx.config.workBucket, key: urlCopyKey("job1"), size: 42 });
      expect(again).toEqual(first);
    } finally {
      pipeline.dispose();
    }
  });
});

describe("the stack setting", () => {
  it("reaches the chunker as STT_URL_MAX_BYTES; no variable opens private addresses or adds a CA", () => {
    // Prepare
    const env = Object.fromEntries(
      ["inputBucket", "workBucket", "outputBucket", "segmentsQueueUrl", "stitchQueueUrl", "table", "topicArn"].map((name) => [ENV[name as keyof typeof ENV], "x"]),
    );

    // Act
    const configured = configFromEnv({ ...env, [ENV.urlMaxBytes]: "1048576", STT_URL_ALLOW: "127.0.0.1:443" });
    const defaulted = configFromEnv(env);

    // Assess
    expect(configured.urlSources).toEqual({ maxBytes: 1048576 });
    expect(defaulted.urlSources).toEqual({ maxBytes: DEFAULTS.urlMaxBytes });
  });

  it("defaults to 2 GB and is bounded", () => {
    expect(resolveSettings().urlMaxBytes).toBe(2 * 1024 ** 3);
    expect(() => resolveSettings({ urlMaxBytes: 1000 })).toThrow(/urlMaxBytes must be an integer in \[1048576, 21474836480\]/);
  });
});
