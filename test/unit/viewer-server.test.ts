/** The viewer server's routes and guards, on in-memory jobs and objects (the browser tests use the real stack). */
import { request } from "node:http";
import { Readable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRange, startViewerServer, type ViewerObjects, type ViewerServer } from "../../local/viewer-server.js";
import type { JobRecord } from "../../shared/adapters/job-store.js";
import { PermanentError } from "../../shared/errors.js";

const JOB = "0123456789abcdef01234567";
const AUDIO = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 256));

const job: JobRecord = {
  jobId: JOB,
  status: "COMPLETED",
  source: { bucket: "in", key: "calls/board meeting.wav" },
  options: {},
  createdAt: "2026-01-02T03:04:05.000Z",
  updatedAt: "2026-01-02T03:04:05.000Z",
  duration: 4,
  speakers: ["SPEAKER_00"],
  outputs: { verbose_json: "jobs/x/transcript.verbose.json", text: "jobs/x/transcript.txt" },
};
const objects = new Map<string, Buffer>([
  ["in/calls/board meeting.wav", AUDIO],
  ["out/jobs/x/transcript.verbose.json", Buffer.from(JSON.stringify({ duration: 4, words: [{ word: "Hi", start: 1, end: 1.5, speaker_id: "SPEAKER_00" }], segments: [{ start: 1, end: 1.5, text: "Hi", speaker_id: "SPEAKER_00" }], speakers: ["SPEAKER_00"] }))],
  ["out/jobs/x/transcript.txt", Buffer.from("SPEAKER_00: Hi\n")],
]);
const memoryObjects: ViewerObjects = {
  async head(bucket, key) {
    const bytes = objects.get(`${bucket}/${key}`);
    return bytes ? { size: bytes.length } : undefined;
  },
  async read(bucket, key, range) {
    const bytes = objects.get(`${bucket}/${key}`)!;
    return Readable.from([range ? bytes.subarray(range.start, range.end + 1) : bytes]);
  },
};

let server: ViewerServer;
const renames: Array<[string, string, string | null]> = [];

beforeAll(async () => {
  server = await startViewerServer({
    jobs: {
      get: async (jobId) => (jobId === JOB ? job : undefined),
      recentJobs: async ({ status }) => (status && status !== job.status ? [] : [job]),
    },
    objects: memoryObjects,
    outputBucket: "out",
    port: 0,
    async renameSpeaker(jobId, speakerId, name) {
      if (speakerId !== "SPEAKER_00") throw new PermanentError("unknown_speaker", `job ${jobId} has no speaker ${speakerId}`);
      if (name && name.length > 64) throw new PermanentError("bad_name", "a speaker name has at most 64 characters");
      renames.push([jobId, speakerId, name]);
      const speakerNames: Record<string, string> = name ? { [speakerId]: name } : {};
      return { ...job, speakerNames };
    },
  });
});

afterAll(async () => {
  await server?.close();
});

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw request, so that Host and Origin can be anything a browser or an attacker might send. */
function send(path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: "127.0.0.1", port: server.port, path, method: options.method ?? "GET", headers: { host: `127.0.0.1:${server.port}`, ...options.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode!, headers: res.headers, body: Buffer.concat(chunks) }));
      },
    );
    req.on("error", reject);
    req.end(options.body);
  });
}

const rename = (speaker: string, body: unknown, headers: Record<string, string> = {}) =>
  send(`/api/jobs/${JOB}/speakers/${speaker}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-stt-token": server.token, origin: server.url, "sec-fetch-site": "same-origin", ...headers },
    body: JSON.stringify(body),
  });

describe("the viewer's pages", () => {
  it("lists jobs, and serves a completed job's transcript page with the names and the token", async () => {
    // Act
    const list = await send("/");
    const failed = await send("/?status=FAILED");
    const page = await send(`/jobs/${JOB}`);

    // Assess
    expect(list.status).toBe(200);
    expect(list.body.toString()).toContain(`href="/jobs/${JOB}"`);
    expect(failed.body.toString()).not.toContain(`href="/jobs/${JOB}"`);
    expect(page.status).toBe(200);
    expect(page.headers["content-type"]).toBe("text/html; charset=utf-8");
    expect(page.headers["x-frame-options"]).toBe("DENY");
    expect(page.body.toString()).toContain(server.token);
    expect(page.body.toString()).toContain("<h1>board meeting.wav</h1>");
  });

  it("answers 404 for an unknown job, and 400 for what is not a job id, before any lookup", async () => {
    // Act
    const unknown = await send("/jobs/ffffffffffffffffffffffff");
    const bad = await Promise.all(["/jobs/..%2F..%2Fetc", "/jobs/ABC", `/jobs/${JOB}0`, "/jobs/<script>/audio"].map((path) => send(path)));
    const format = await send(`/jobs/${JOB}/download/exe`);
    const nothing = await send("/etc/passwd");
    const status = await send("/?status=DONE");

    // Assess
    expect(unknown.status).toBe(404);
    expect(unknown.body.toString()).toContain("no job ffffffffffffffffffffffff");
    expect(bad.map((a) => a.status)).toEqual([400, 400, 400, 400]);
    expect(format.status).toBe(400);
    expect(nothing.status).toBe(404);
    expect(status.status).toBe(400);
  });

  it("answers only to its own address (no DNS rebinding), and only GET where nothing changes", async () => {
    // Act
    const rebound = await send("/", { headers: { host: `evil.example:${server.port}` } });
    const localhost = await send("/", { headers: { host: `localhost:${server.port}` } });
    const post = await send(`/jobs/${JOB}`, { method: "POST" });

    // Assess
    expect(rebound.status).toBe(421);
    expect(localhost.status).toBe(200);
    expect(post.status).toBe(405);
  });
});

describe("the recording", () => {
  it("answers a Range request with 206 and exactly those bytes, typed by the file's extension", async () => {
    // Act
    const part = await send(`/jobs/${JOB}/audio`, { headers: { range: "bytes=100-199" } });
    const open = await send(`/jobs/${JOB}/audio`, { headers: { range: "bytes=900-" } });
    const suffix = await send(`/jobs/${JOB}/audio`, { headers: { range: "bytes=-10" } });
    const whole = await send(`/jobs/${JOB}/audio`);
    const past = await send(`/jobs/${JOB}/audio`, { headers: { range: "bytes=5000-" } });

    // Assess
    expect(part.status).toBe(206);
    expect(part.headers["content-range"]).toBe("bytes 100-199/1000");
    expect(part.headers["content-type"]).toBe("audio/wav");
    expect(part.headers["accept-ranges"]).toBe("bytes");
    expect(part.body).toEqual(AUDIO.subarray(100, 200));
    expect(open.body).toEqual(AUDIO.subarray(900));
    expect(suffix.headers["content-range"]).toBe("bytes 990-999/1000");
    expect(whole.status).toBe(200);
    expect(whole.headers["content-length"]).toBe("1000");
    expect(whole.body).toEqual(AUDIO);
    expect(past.status).toBe(416);
    expect(past.headers["content-range"]).toBe("bytes */1000");
  });

  it("parses ranges as RFC 9110 says, ignoring what is not one byte range", () => {
    expect(parseRange("bytes=0-0", 10)).toEqual({ start: 0, end: 0 });
    expect(parseRange("bytes=5-100", 10)).toEqual({ start: 5, end: 9 });
    expect(parseRange("bytes=-100", 10)).toEqual({ start: 0, end: 9 });
    expect(parseRange("bytes=0-1,5-6", 10)).toBeUndefined();
    expect(parseRange("items=0-1", 10)).toBeUndefined();
    expect(parseRange("bytes=7-3", 10)).toBe("unsatisfiable");
    expect(parseRange("bytes=-0", 10)).toBe("unsatisfiable");
    expect(parseRange("bytes=0-", 0)).toBe("unsatisfiable");
  });
});

describe("downloads", () => {
  it("sends an output as an attachment named after the recording; a format the job lacks is 404", async () => {
    // Act
    const text = await send(`/jobs/${JOB}/download/text`);
    const srt = await send(`/jobs/${JOB}/download/srt`);

    // Assess
    expect(text.status).toBe(200);
    expect(text.headers["content-disposition"]).toBe('attachment; filename="board meeting.txt"');
    expect(text.headers["content-type"]).toBe("text/plain; charset=utf-8");
    expect(text.body.toString()).toBe("SPEAKER_00: Hi\n");
    expect(srt.status).toBe(404);
  });
});

describe("renaming a speaker", () => {
  it("stores a trimmed name through renameSpeaker and answers with the record's names", async () => {
    // Act
    const answer = await rename("SPEAKER_00", { name: "  Ada  " });
    const cleared = await rename("SPEAKER_00", { name: null });

    // Assess
    expect(answer.status).toBe(200);
    expect(JSON.parse(answer.body.toString())).toEqual({ jobId: JOB, speakerId: "SPEAKER_00", speakerNames: { SPEAKER_00: "Ada" } });
    expect(JSON.parse(cleared.body.toString()).speakerNames).toEqual({});
    expect(renames.slice(-2)).toEqual([
      [JOB, "SPEAKER_00", "Ada"],
      [JOB, "SPEAKER_00", null],
    ]);
  });

  it("refuses cross-origin and cross-site requests, a missing or wrong token, and what is not JSON", async () => {
    // Prepare
    const before = renames.length;

    // Act
    const answers = await Promise.all([
      rename("SPEAKER_00", { name: "Eve" }, { origin: "https://evil.example" }),
      rename("SPEAKER_00", { name: "Eve" }, { origin: "null" }),
      rename("SPEAKER_00", { name: "Eve" }, { "sec-fetch-site": "cross-site" }),
      rename("SPEAKER_00", { name: "Eve" }, { "x-stt-token": "" }),
      rename("SPEAKER_00", { name: "Eve" }, { "x-stt-token": `${server.token.slice(1)}x` }),
      rename("SPEAKER_00", { name: "Eve" }, { "content-type": "text/plain" }),
      rename("SPEAKER_00", { name: "Eve" }, { host: "evil.example" }),
    ]);

    // Assess
    expect(answers.map((a) => a.status)).toEqual([403, 403, 403, 403, 403, 415, 421]);
    expect(renames.length).toBe(before);
  });

  it("refuses bad ids and bad names with the reason, as JSON", async () => {
    // Act
    const badSpeaker = await rename("SPEAKER_00%3Cx%3E", { name: "Ada" });
    const badJob = await send("/api/jobs/123/speakers/SPEAKER_00", {
      method: "POST",
      headers: { "content-type": "application/json", "x-stt-token": server.token },
      body: "{}",
    });
    const unknown = await rename("SPEAKER_07", { name: "Ada" });
    const long = await rename("SPEAKER_00", { name: "x".repeat(80) });
    const notString = await rename("SPEAKER_00", { name: 42 });
    const huge = await rename("SPEAKER_00", { name: "x".repeat(10_000) });

    // Assess
    expect(badSpeaker.status).toBe(400);
    expect(JSON.parse(badSpeaker.body.toString())).toEqual({ error: "that is not a speaker id" });
    expect(badJob.status).toBe(400);
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.body.toString()).error).toContain("has no speaker SPEAKER_07");
    expect(long.status).toBe(400);
    expect(JSON.parse(long.body.toString()).error).toBe("a speaker name has at most 64 characters");
    expect(notString.status).toBe(400);
    expect(huge.status).toBe(413);
  });
});
