/**
 * Recordings by URL on the local stack: a `.url.json` pointer (and `stt transcribe https://…`) names a
 * recording on a local https server, whose self-signed certificate is made for this run and trusted through
 * the stack's test-only CA setting (TLS checks stay on: a second server with a certificate nobody trusts is
 * refused). The stack may reach that one server by its allow list; everything else the rules refuse, even
 * another port of the same loopback range, and every refusal is a FAILED job with its one-line reason while
 * the other jobs carry on.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PutObjectCommand } from "@aws-sdk/client-s3";
import { GetCommand } from "@aws-sdk/lib-dynamodb";
import { buildConversation, type Recording } from "../audio/conversation.js";
import { encodeToBytes } from "../audio/write-audio.js";
import { startHarness, type Harness } from "../support/harness.js";
import { scoreTranscript } from "../support/score.js";
import { sessionOn, type StackSession } from "../../cli/stack-session.js";
import { readOutput, uploadUrlPointer } from "../../cli/submit.js";
import type { JobRecord } from "../../shared/adapters/job-store.js";
import { chunkRecording } from "../../shared/pipeline/chunk-recording.js";
import { copyUrlRecording } from "../../shared/sources/url-source.js";
import type { Transcript } from "../../shared/domain/types.js";
import { wiring } from "../../shared/wiring.js";

const MAX_BYTES = 3 * 1024 * 1024;

interface TestServer {
  server: Server;
  origin: string;
  /** Requests by path. */
  hits: Map<string, number>;
}

let harness: Harness;
let session: StackSession;
let good: TestServer;
let untrusted: TestServer;
let elsewhere: TestServer;
/** An allowed host:port where nothing listens: a connection refused is retried, then fails the job. */
let closedPort: number;
let talk: Recording;
let other: Recording;
const files = new Map<string, Buffer>();

/** A self-signed certificate for the loopback addresses, made with openssl for this run. */
function selfSigned(dir: string, name: string): { key: string; cert: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.crt`);
  execFileSync("openssl", [
    "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
    "-subj", `/CN=stt-test-${name}`, "-addext", "subjectAltName=IP:127.0.0.1,IP:127.0.0.2,DNS:localhost",
    "-keyout", key, "-out", cert,
  ], { stdio: "ignore" });
  return { key: readFileSync(key, "utf8"), cert: readFileSync(cert, "utf8") };
}

async function serve(tls: { key: string; cert: string }, host: string): Promise<TestServer> {
  const hits = new Map<string, number>();
  const server = createServer(tls, (req, res) => {
    const path = (req.url ?? "/").split("?")[0];
    hits.set(path, (hits.get(path) ?? 0) + 1);
    const file = files.get(path);
    if (file) {
      res.writeHead(200, { "content-type": "audio/wav", "content-length": file.length });
      return res.end(file);
    }
    const redirect = REDIRECTS[path];
    if (redirect) {
      res.writeHead(302, { location: redirect() });
      return res.end();
    }
    if (path === "/big") {
      // Says how big it is: refused before a byte of the body is read.
      res.writeHead(200, { "content-type": "audio/wav", "content-length": MAX_BYTES + 1024 });
      return res.end();
    }
    if (path === "/big-chunked") {
      // Does not say: refused once the counted bytes pass the limit.
      res.writeHead(200, { "content-type": "audio/wav" });
      const chunk = Buffer.alloc(256 * 1024, 1);
      let sent = 0;
      const pump = () => {
        while (sent < MAX_BYTES * 2) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once("drain", pump);
        }
        res.end();
      };
      res.on("error", () => undefined);
      return pump();
    }
    res.writeHead(404).end("not here");
  });
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  return { server, origin: `https://${host}:${port}`, hits };
}

const REDIRECTS: Record<string, () => string> = {
  "/to-metadata": () => "https://169.254.169.254/latest/meta-data/iam/security-credentials/",
  "/to-other-loopback": () => `${elsewhere.origin}/talk.wav`,
  "/to-talk": () => "/talk.wav?hop=2",
};

beforeAll(async () => {
  const certDir = mkdtempSync(join(tmpdir(), "stt-url-certs-"));
  const trusted = selfSigned(certDir, "trusted");
  good = await serve(trusted, "127.0.0.1");
  untrusted = await serve(selfSigned(certDir, "untrusted"), "127.0.0.1");
  elsewhere = await serve(trusted, "127.0.0.2");
  const closed = await serve(trusted, "127.0.0.1");
  closedPort = (closed.server.address() as AddressInfo).port;
  await new Promise((resolve) => closed.server.close(resolve));
  talk = buildConversation({ seed: 61, voices: 2, durationSeconds: 30 });
  other = buildConversation({ seed: 62, voices: 2, durationSeconds: 24 });
  files.set("/talk.wav", await encodeToBytes(talk, "wav"));
  files.set("/other.wav", await encodeToBytes(other, "wav"));
  harness = await startHarness({
    chunkSeconds: 20,
    overlapSeconds: 4,
    transcriberConcurrency: 4,
    maxReceiveCount: 3,
    urlSources: {
      // The good server and the untrusted one (so that its refusal is the certificate's); not 127.0.0.2.
      allow: [
        ...[good.origin, untrusted.origin].map((origin) => new URL(origin).host),
        `localhost:${new URL(good.origin).port}`,
        `127.0.0.1:${closedPort}`,
      ],
      trustedCa: [trusted.cert],
      maxBytes: MAX_BYTES,
    },
  });
  harness.provider.addRecording(talk);
  harness.provider.addRecording(other);
  session = sessionOn(harness.stack);
}, 120_000);

afterAll(async () => {
  await harness?.close();
  for (const s of [good, untrusted, elsewhere]) s?.server.close();
});

/** Drops a pointer object as any user would, and finds the job the chunker made of it. */
async function dropPointer(name: string, body: string): Promise<{ key: string; jobId: string }> {
  const key = `by-url/${name}.url.json`;
  const bucket = session.resources.buckets.input;
  await session.clients.s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: "application/json" }));
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    const [job] = await session.jobs.jobsForSource(bucket, key, wiring.table.sourceIndex.name);
    if (job) return { key, jobId: job.jobId };
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`no job for ${key}`);
}

async function ended(jobId: string, timeoutMs = 120_000): Promise<JobRecord> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const job = await session.jobs.get(jobId);
    if (job && (job.status === "COMPLETED" || job.status === "FAILED")) return job;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`job ${jobId} did not end`);
}

describe("recordings by URL on the local stack", () => {
  it("a pointer to a WAV on an https server completes with the right words, fetched once", async () => {
    // Prepare
    const url = `${good.origin}/talk.wav?token=secret-signature`;

    // Act
    const { key, jobId } = await dropPointer("talk", JSON.stringify({ url, options: { language: "en", "max-speakers": 2 } }));
    const job = await ended(jobId);

    // Assess: the transcript
    expect(job.status, job.error).toBe("COMPLETED");
    const transcript = JSON.parse(await readOutput(session, job, "verbose_json")) as Transcript;
    expect(scoreTranscript(talk, transcript).wer).toBe(0);
    expect(job.options).toMatchObject({ language: "en", maxSpeakers: 2 });
    // Assess: the job's source is the pointer, with the URL it named, without its query string
    expect(job.source).toMatchObject({ bucket: session.resources.buckets.input, key });
    const item = await harness.stack.clients.dynamo.send(new GetCommand({ TableName: session.resources.table, Key: { pk: `JOB#${jobId}`, sk: "JOB" } }));
    expect(item.Item?.source).toMatchObject({ key, url: `${good.origin}/talk.wav?…` });
    expect(JSON.stringify(item.Item)).not.toContain("secret-signature");
    expect(good.hits.get("/talk.wav")).toBe(1);

    // Act: the same event delivered again, and the copy asked for again
    const again = await chunkRecording(harness.stack.ctx, { bucket: session.resources.buckets.input, key });
    const copy = await copyUrlRecording(harness.stack.ctx, jobId, url);

    // Assess: one job, one fetch
    expect(again).toEqual({ kind: "duplicate", jobId });
    expect(copy.bucket).toBe(session.resources.buckets.work);
    expect(good.hits.get("/talk.wav")).toBe(1);
  });

  it("`stt transcribe https://…` goes through the CLI's submit path, redirects included", async () => {
    // Act
    // By name: the host is resolved, checked, and the socket pinned to what was checked (its lookup).
    const run = await harness.transcribe(`${good.origin.replace("127.0.0.1", "localhost")}/to-talk`, { language: "en" }, "verbose_json");

    // Assess
    expect(run.code, run.stderr).toBe(0);
    expect(run.job?.source.key).toMatch(/^uploads\/.*\/to-talk\.url\.json$/);
    expect(scoreTranscript(talk, JSON.parse(run.stdout) as Transcript).wer).toBe(0);
  });

  it("refuses what the rules refuse, each a FAILED job with its reason, while a good job carries on", async () => {
    // Prepare
    const cases: Array<{ name: string; body: string; code: string; reason: string | RegExp }> = [
      { name: "metadata", body: JSON.stringify({ url: `${good.origin}/to-metadata` }), code: "url_refused", reason: "url: redirect to a private address refused (169.254.169.254)" },
      { name: "loopback", body: JSON.stringify({ url: `${good.origin}/to-other-loopback` }), code: "url_refused", reason: "url: redirect to a private address refused (127.0.0.2)" },
      { name: "direct-loopback", body: JSON.stringify({ url: `${elsewhere.origin}/talk.wav` }), code: "url_refused", reason: "url: 127.0.0.2 is a private address" },
      { name: "http", body: JSON.stringify({ url: `http://${new URL(good.origin).host}/talk.wav` }), code: "url_refused", reason: "url: only https is accepted" },
      { name: "big", body: JSON.stringify({ url: `${good.origin}/big` }), code: "url_too_large", reason: `url: larger than 3 MB (Content-Length ${MAX_BYTES + 1024} bytes)` },
      { name: "big-chunked", body: JSON.stringify({ url: `${good.origin}/big-chunked` }), code: "url_too_large", reason: "url: larger than 3 MB" },
      { name: "missing", body: JSON.stringify({ url: `${good.origin}/missing.wav?x=1` }), code: "url_http", reason: `url: HTTP 404 from ${new URL(good.origin).host}` },
      { name: "untrusted", body: JSON.stringify({ url: `${untrusted.origin}/talk.wav` }), code: "url_tls", reason: /^url: the TLS certificate of 127\.0\.0\.1:\d+ is not trusted \(\w+\)$/ },
      {
        // Retryable (the server may come back): the chunker's retries, then the dead-letter path, say why.
        name: "refused-connection",
        body: JSON.stringify({ url: `https://127.0.0.1:${closedPort}/talk.wav` }),
        code: "chunker_failed",
        reason: `could not split the recording: url: could not fetch from 127.0.0.1:${closedPort} (ECONNREFUSED)`,
      },
      { name: "bad-json", body: "{ url: nope", code: "bad_url_pointer", reason: /^url pointer: not valid JSON/ },
      { name: "no-url", body: JSON.stringify({ options: { language: "en" } }), code: "bad_url_pointer", reason: 'url pointer: missing "url"' },
      { name: "bad-option", body: JSON.stringify({ url: `${good.origin}/talk.wav`, options: { "max-speakers": 0 } }), code: "invalid_options", reason: /max-speakers '0'/ },
      { name: "unknown-option", body: JSON.stringify({ url: `${good.origin}/talk.wav`, options: { speakerz: 2 } }), code: "bad_url_pointer", reason: /unknown option 'speakerz'/ },
    ];
    const talkFetches = good.hits.get("/talk.wav") ?? 0;

    // Act: the bad ones and a good one, all at once
    const goodRun = dropPointer("other", JSON.stringify({ url: `${good.origin}/other.wav` })).then(({ jobId }) => ended(jobId));
    const jobs = await Promise.all(cases.map(async (c) => ended((await dropPointer(`bad-${c.name}`, c.body)).jobId)));
    const carriedOn = await goodRun;

    // Assess
    for (const [i, c] of cases.entries()) {
      expect({ name: c.name, status: jobs[i].status, code: jobs[i].errorCode }).toEqual({ name: c.name, status: "FAILED", code: c.code });
      expect(jobs[i].error).toMatch(typeof c.reason === "string" ? new RegExp(`^${c.reason.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`) : c.reason);
    }
    expect(carriedOn.status, carriedOn.error).toBe("COMPLETED");
    expect(scoreTranscript(other, JSON.parse(await readOutput(session, carriedOn, "verbose_json")) as Transcript).wer).toBe(0);
    // Nothing refused by its address was ever asked for; refused pointers fetched nothing.
    expect([...elsewhere.hits.values()].reduce((a, b) => a + b, 0)).toBe(0);
    expect(good.hits.get("/talk.wav")).toBe(talkFetches);
  });

  it("the emulators keep working after the refusals: a pointer written by the CLI's helper completes", async () => {
    // Act
    const { jobId } = await uploadUrlPointer(session, `${good.origin}/other.wav?again=1`, { "max-speakers": "2" });
    const job = await ended(jobId);

    // Assess
    expect(job.status, job.error).toBe("COMPLETED");
    expect(job.options).toMatchObject({ maxSpeakers: 2 });
  });
});
