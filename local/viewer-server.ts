/**
 * The transcript viewer of the local stack (`stt up`): a page per job on node:http, bound to 127.0.0.1.
 *
 *   GET  /                                   recent jobs (?status=COMPLETED|FAILED|RUNNING|CHUNKING)
 *   GET  /jobs/<jobId>                       the transcript page (shared/viewer/transcript-page.ts), or the job's status
 *   GET  /jobs/<jobId>/audio                 the job's source recording, with Range support
 *   GET  /jobs/<jobId>/download/<format>     an output file, as an attachment
 *   POST /api/jobs/<jobId>/speakers/<id>     { "name": "Ada" | null }: renames a speaker in every output
 *
 * Only this machine can reach it, but any web page open in a browser here can send it requests: every
 * request must name this server in Host (a DNS-rebinding page would name its own host), and the POST, the
 * one request that changes anything, must also come from this origin (Origin, Sec-Fetch-Site) and carry
 * the token only this server's pages hold. Ids are checked against strict patterns before any lookup.
 */
import { randomBytes, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { GetObjectCommand, HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { JobRecord, JobStatus } from "../shared/adapters/job-store.js";
import { JOB_STATUSES } from "../shared/domain/jobs/job-event.js";
import { OUTPUT_FORMATS, type OutputFormat } from "../shared/domain/types.js";
import { PipelineError } from "../shared/errors.js";
import { DEFAULT_VIEWER_PORT, isJobId, isSpeakerId, viewerJobUrl } from "../shared/viewer/urls.js";
import { renderErrorPage, renderJobListPage, renderJobStatusPage, speakerNamesOf } from "../shared/viewer/job-list-page.js";
import { downloadBase, renderTranscriptPage, VIEWER_DOWNLOADS, type ViewerTranscript } from "../shared/viewer/transcript-page.js";
import type { Log } from "../shared/pipeline/context.js";
import { OUTPUT_FILES } from "../shared/pipeline/stitch-job.js";

export { DEFAULT_VIEWER_PORT };
/** Jobs on the list page. */
const LIST_LIMIT = 100;
/** A rename's JSON body is a name: anything bigger is not one. */
const MAX_BODY_BYTES = 4096;

/** The job table as the viewer reads it (JobStore). */
export interface ViewerJobs {
  get(jobId: string): Promise<JobRecord | undefined>;
  recentJobs(opts: { limit: number; status?: JobStatus }): Promise<JobRecord[]>;
}

/** Objects in the buckets: S3 (s3ViewerObjects), or in memory in the unit tests. */
export interface ViewerObjects {
  /** Size and stored content type, or undefined when the object does not exist. */
  head(bucket: string, key: string): Promise<{ size: number; contentType?: string } | undefined>;
  /** The object's bytes from `range.start` to `range.end` inclusive, or all of them. */
  read(bucket: string, key: string, range?: { start: number; end: number }): Promise<Readable>;
}

export interface ViewerServerOptions {
  jobs: ViewerJobs;
  objects: ViewerObjects;
  outputBucket: string;
  /** Stores a speaker's name (null: none) and re-renders the job's outputs; throws PermanentError for bad input. */
  renameSpeaker?: (jobId: string, speakerId: string, name: string | null) => Promise<JobRecord>;
  /** Default 4569; 0 picks a free port. */
  port?: number;
  log?: Log;
}

export interface ViewerServer {
  /** `http://127.0.0.1:<port>` */
  url: string;
  port: number;
  /** What a page sends with a rename (in `x-stt-token`). */
  token: string;
  /** The job's page. */
  jobUrl(jobId: string): string;
  close(): Promise<void>;
}

/** The viewer's reads over S3. */
export function s3ViewerObjects(s3: S3Client): ViewerObjects {
  return {
    async head(bucket, key) {
      try {
        const out = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { size: out.ContentLength ?? 0, contentType: out.ContentType };
      } catch (error) {
        const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
        if (status === 404 || (error as Error).name === "NotFound" || (error as Error).name === "NoSuchKey") return undefined;
        throw error;
      }
    },
    async read(bucket, key, range) {
      const out = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: key, Range: range ? `bytes=${range.start}-${range.end}` : undefined }),
      );
      if (!out.Body) throw new Error(`empty body for s3://${bucket}/${key}`);
      return out.Body as Readable;
    },
  };
}

/** The media types browsers play, by extension: uploads often carry none (or application/octet-stream). */
const MEDIA_TYPES: Record<string, string> = {
  wav: "audio/wav",
  mp3: "audio/mpeg",
  m4a: "audio/mp4",
  aac: "audio/aac",
  flac: "audio/flac",
  ogg: "audio/ogg",
  oga: "audio/ogg",
  opus: "audio/ogg",
  weba: "audio/webm",
  webm: "video/webm",
  mp4: "video/mp4",
  m4v: "video/mp4",
  mov: "video/quicktime",
};

export function mediaType(stored: string | undefined, key: string): string {
  if (stored && /^(audio|video)\//.test(stored)) return stored;
  const extension = /\.([A-Za-z0-9]+)$/.exec(key)?.[1]?.toLowerCase() ?? "";
  return MEDIA_TYPES[extension] ?? "application/octet-stream";
}

/**
 * One `bytes=` range of an object of `size` bytes (RFC 9110 14.1.2): undefined when the header is absent
 * or not a single byte range (the whole object is sent, as the RFC allows), "unsatisfiable" past the end.
 */
export function parseRange(header: string | undefined, size: number): { start: number; end: number } | "unsatisfiable" | undefined {
  if (!header) return undefined;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === "" && match[2] === "")) return undefined;
  if (match[1] === "") {
    const suffix = Number(match[2]);
    if (suffix === 0 || size === 0) return "unsatisfiable";
    return { start: Math.max(0, size - suffix), end: size - 1 };
  }
  const start = Number(match[1]);
  const end = match[2] === "" ? size - 1 : Math.min(Number(match[2]), size - 1);
  if (start >= size || end < start) return "unsatisfiable";
  return { start, end };
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const ERROR_TITLES: Record<number, string> = { 400: "Bad request", 403: "Refused", 404: "Not found", 405: "Bad request", 421: "Refused" };

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-resource-policy": "same-origin",
};

export async function startViewerServer(options: ViewerServerOptions): Promise<ViewerServer> {
  const token = randomBytes(24).toString("base64url");
  let origins = new Set<string>();
  let hosts = new Set<string>();

  const server = createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      const status = error instanceof HttpError ? error.status : 500;
      if (status === 500) options.log?.error("viewer request failed", { url: req.url, error: (error as Error).message });
      if (res.headersSent) {
        res.destroy();
        return;
      }
      const message = error instanceof HttpError ? error.message : "the viewer could not answer this request";
      if (req.url?.startsWith("/api/")) sendJson(res, status, { error: message });
      else sendHtml(res, status, renderErrorPage(ERROR_TITLES[status] ?? "Something went wrong", message));
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    // A page on another site that resolved its own name to 127.0.0.1 sends its own name here.
    if (!hosts.has(req.headers.host ?? "")) throw new HttpError(421, "this server answers only to its own address");
    const url = new URL(req.url ?? "/", "http://viewer.invalid");
    const path = url.pathname;
    const method = req.method ?? "GET";

    if (path === "/") {
      allow(method, ["GET", "HEAD"]);
      const status = url.searchParams.get("status") ?? undefined;
      if (status !== undefined && !(JOB_STATUSES as readonly string[]).includes(status)) throw new HttpError(400, `unknown status ${status}`);
      const jobs = await options.jobs.recentJobs({ limit: LIST_LIMIT, status: status as JobStatus | undefined });
      return sendHtml(res, 200, renderJobListPage({ jobs, status: status as JobStatus | undefined, limit: LIST_LIMIT }), method);
    }
    let match = /^\/jobs\/([^/]+)(?:\/(audio|download\/([^/]+)))?$/.exec(path);
    if (match) {
      allow(method, ["GET", "HEAD"]);
      const job = await jobFor(match[1]);
      if (match[2] === "audio") return sendAudio(req, res, job, method);
      if (match[3] !== undefined) return sendDownload(res, job, match[3], method);
      return sendJobPage(res, job, method);
    }
    match = /^\/api\/jobs\/([^/]+)\/speakers\/([^/]+)$/.exec(path);
    if (match) {
      allow(method, ["POST"]);
      let speakerId: string;
      try {
        speakerId = decodeURIComponent(match[2]);
      } catch {
        throw new HttpError(400, "that is not a speaker id");
      }
      return rename(req, res, match[1], speakerId);
    }
    throw new HttpError(404, `nothing at ${path}`);
  }

  function allow(method: string, methods: string[]): void {
    if (!methods.includes(method)) throw new HttpError(405, `${method} is not allowed here`);
  }

  async function jobFor(jobId: string): Promise<JobRecord> {
    if (!isJobId(jobId)) throw new HttpError(400, "that is not a job id");
    const job = await options.jobs.get(jobId);
    if (!job) throw new HttpError(404, `no job ${jobId}`);
    return job;
  }

  async function sendJobPage(res: ServerResponse, job: JobRecord, method: string): Promise<void> {
    const key = job.outputs?.verbose_json;
    if (job.status !== "COMPLETED" || !key) return sendHtml(res, 200, renderJobStatusPage(job), method);
    const transcript = JSON.parse(await readText(options.outputBucket, key)) as ViewerTranscript;
    const base = `/jobs/${job.jobId}`;
    const html = renderTranscriptPage({
      job: { jobId: job.jobId, source: job.source, speakerNames: speakerNamesOf(job) },
      transcript,
      mode: {
        kind: "server",
        audioUrl: `${base}/audio`,
        downloads: Object.fromEntries(OUTPUT_FORMATS.map((f) => [f, `${base}/download/${f}`])) as Record<OutputFormat, string>,
        renameUrl: options.renameSpeaker ? `/api/jobs/${job.jobId}/speakers/` : "",
        token,
        homeUrl: "/",
      },
    });
    sendHtml(res, 200, html, method);
  }

  async function readText(bucket: string, key: string): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of await options.objects.read(bucket, key)) chunks.push(Buffer.from(chunk as Uint8Array));
    return Buffer.concat(chunks).toString("utf8");
  }

  async function sendAudio(req: IncomingMessage, res: ServerResponse, job: JobRecord, method: string): Promise<void> {
    const { bucket, key } = job.source;
    const head = await options.objects.head(bucket, key);
    if (!head) throw new HttpError(404, "the recording is no longer in the input bucket");
    const range = parseRange(req.headers.range, head.size);
    const headers: Record<string, string | number> = {
      ...SECURITY_HEADERS,
      "content-type": mediaType(head.contentType, key),
      "accept-ranges": "bytes",
      "cache-control": "private, max-age=300",
    };
    if (range === "unsatisfiable") {
      res.writeHead(416, { ...headers, "content-range": `bytes */${head.size}` }).end();
      return;
    }
    if (range) {
      res.writeHead(206, { ...headers, "content-range": `bytes ${range.start}-${range.end}/${head.size}`, "content-length": range.end - range.start + 1 });
    } else {
      res.writeHead(200, { ...headers, "content-length": head.size });
    }
    if (method === "HEAD" || head.size === 0) {
      res.end();
      return;
    }
    await stream(await options.objects.read(bucket, key, range ?? { start: 0, end: head.size - 1 }), res);
  }

  async function sendDownload(res: ServerResponse, job: JobRecord, format: string, method: string): Promise<void> {
    if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) throw new HttpError(400, `unknown format ${format}`);
    const key = job.outputs?.[format];
    if (job.status !== "COMPLETED" || !key) throw new HttpError(404, `job ${job.jobId} has no ${format} output`);
    const head = await options.objects.head(options.outputBucket, key);
    if (!head) throw new HttpError(404, `the ${format} output of job ${job.jobId} is missing`);
    const file = downloadBase(job.source.key) + VIEWER_DOWNLOADS[format as OutputFormat].suffix;
    res.writeHead(200, {
      ...SECURITY_HEADERS,
      "content-type": OUTPUT_FILES[format as OutputFormat].contentType,
      "content-length": head.size,
      "content-disposition": `attachment; filename="${file.replace(/"/g, "_")}"`,
      "cache-control": "no-store",
    });
    if (method === "HEAD") {
      res.end();
      return;
    }
    await stream(await options.objects.read(options.outputBucket, key), res);
  }

  async function rename(req: IncomingMessage, res: ServerResponse, jobId: string, speakerId: string): Promise<void> {
    const origin = req.headers.origin;
    if (origin !== undefined && !origins.has(origin)) throw new HttpError(403, "cross-origin requests are refused");
    const site = req.headers["sec-fetch-site"];
    if (site !== undefined && site !== "same-origin") throw new HttpError(403, "cross-site requests are refused");
    const sent = Buffer.from(String(req.headers["x-stt-token"] ?? ""));
    const expected = Buffer.from(token);
    if (sent.length !== expected.length || !timingSafeEqual(sent, expected)) throw new HttpError(403, "missing or wrong viewer token");
    if (!/^application\/json\b/i.test(req.headers["content-type"] ?? "")) throw new HttpError(415, "send JSON: { \"name\": ... }");
    if (!options.renameSpeaker) throw new HttpError(501, "renaming speakers is not available on this server");
    if (!isJobId(jobId)) throw new HttpError(400, "that is not a job id");
    if (!isSpeakerId(speakerId)) throw new HttpError(400, "that is not a speaker id");
    const body = await readBody(req);
    let name: unknown;
    try {
      name = (JSON.parse(body) as { name?: unknown }).name;
    } catch {
      throw new HttpError(400, "the body is not JSON");
    }
    if (name !== null && typeof name !== "string") throw new HttpError(400, "name must be a string, or null to remove it");
    const trimmed = typeof name === "string" && name.trim() ? name.trim() : null;
    let job: JobRecord;
    try {
      job = await options.renameSpeaker(jobId, speakerId, trimmed);
    } catch (error) {
      // Bad input, or a job that cannot be renamed (unknown, not completed, no such speaker): the reason as is.
      if (error instanceof PipelineError && error.kind === "permanent") {
        throw new HttpError(error.code === "job_not_found" || error.code === "unknown_speaker" ? 404 : 400, error.message);
      }
      // Another rename of the job moved it on meanwhile: trying again is right.
      if (error instanceof PipelineError) throw new HttpError(409, error.message);
      throw error;
    }
    sendJson(res, 200, { jobId, speakerId, speakerNames: speakerNamesOf(job) });
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? DEFAULT_VIEWER_PORT, "127.0.0.1", () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  hosts = new Set([`127.0.0.1:${port}`, `localhost:${port}`]);
  origins = new Set([...hosts].map((host) => `http://${host}`));
  const url = `http://127.0.0.1:${port}`;
  return {
    url,
    port,
    token,
    jobUrl: (jobId) => viewerJobUrl(url, jobId),
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, "the body is too large");
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Copies an object to the response; a player that stops reading (it seeks, or the page closes) is not an error. */
async function stream(body: Readable, res: ServerResponse): Promise<void> {
  try {
    await pipeline(body, res);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "ERR_STREAM_PREMATURE_CLOSE" && code !== "ECONNRESET" && code !== "EPIPE") throw error;
    body.destroy();
  }
}

function sendHtml(res: ServerResponse, status: number, html: string, method = "GET"): void {
  const body = Buffer.from(html, "utf8");
  res.writeHead(status, {
    ...SECURITY_HEADERS,
    "content-type": "text/html; charset=utf-8",
    "content-length": body.length,
    "cache-control": "no-store",
    "content-security-policy": "frame-ancestors 'none'",
  });
  res.end(method === "HEAD" ? undefined : body);
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  const body = Buffer.from(JSON.stringify(value), "utf8");
  res.writeHead(status, { ...SECURITY_HEADERS, "content-type": "application/json", "content-length": body.length, "cache-control": "no-store" });
  res.end(body);
}
