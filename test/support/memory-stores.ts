import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { JobEvent } from "../../shared/adapters/notifier.js";
import type { OutputStore } from "../../shared/adapters/output-store.js";
import type { SourceHead, SourceStore } from "../../shared/adapters/source-store.js";
import type { UrlSourceStore } from "../../shared/adapters/url-source-store.js";
import type { WorkQueues } from "../../shared/adapters/work-queues.js";
import type { WorkStore } from "../../shared/adapters/work-store.js";
import type { JobNotifier } from "../../shared/pipeline/context.js";
import type { SegmentMessage, StitchMessage } from "../../shared/pipeline/messages.js";

/**
 * In-memory adapters for the ports of shared/pipeline/context.ts: what the steps' unit tests run on instead
 * of S3, SQS and SNS. They answer as the S3/SQS adapters do where a step can tell (a missing object throws
 * NoSuchKey, queued messages go through JSON), and keep what was written for the test to assess.
 */

export interface StoredObject {
  body: Uint8Array;
  contentType?: string;
}

/**
 * Files ffmpeg and ffprobe can read: the in-memory stores' answer to "a presigned URL". One folder per
 * context, removed by `dispose`.
 */
export class TempFiles {
  private dir: string | undefined;
  private count = 0;

  write(name: string, bytes: Uint8Array): string {
    this.dir ??= mkdtempSync(join(tmpdir(), "stt-unit-"));
    const path = join(this.dir, `${this.count++}-${name.replace(/[^A-Za-z0-9._-]/g, "_")}`);
    writeFileSync(path, bytes);
    return path;
  }

  dispose(): void {
    if (this.dir) rmSync(this.dir, { recursive: true, force: true });
    this.dir = undefined;
  }
}

const noSuchKey = (key: string) => Object.assign(new Error(`NoSuchKey: ${key}`), { name: "NoSuchKey" });

/** One bucket: the work bucket (WorkStore) or the output bucket (OutputStore). */
export class MemoryBucket implements WorkStore, OutputStore {
  readonly objects = new Map<string, StoredObject>();
  /** Every write, in order, by key: to tell a step that wrote nothing from one that rewrote the same bytes. */
  readonly writes: string[] = [];

  constructor(private readonly files = new TempFiles()) {}

  /** Test inspection: an object's text (UTF-8), or undefined. */
  text(key: string): string | undefined {
    const found = this.objects.get(key);
    return found && Buffer.from(found.body).toString("utf8");
  }

  /** Test inspection: an object's JSON. */
  json<T = unknown>(key: string): T {
    const text = this.text(key);
    if (text === undefined) throw noSuchKey(key);
    return JSON.parse(text) as T;
  }

  async getBytes(key: string): Promise<Uint8Array> {
    const found = this.objects.get(key);
    if (!found) throw noSuchKey(key);
    return new Uint8Array(found.body);
  }

  async getBytesIfExists(key: string): Promise<Uint8Array | undefined> {
    return this.objects.has(key) ? this.getBytes(key) : undefined;
  }

  async getText(key: string): Promise<string> {
    return Buffer.from(await this.getBytes(key)).toString("utf8");
  }

  async getJson<T>(key: string): Promise<T> {
    return JSON.parse(Buffer.from(await this.getBytes(key)).toString("utf8")) as T;
  }

  async getJsonIfExists<T>(key: string): Promise<T | undefined> {
    return this.objects.has(key) ? this.getJson<T>(key) : undefined;
  }

  async exists(key: string): Promise<boolean> {
    return this.objects.has(key);
  }

  async putJson(key: string, value: unknown): Promise<void> {
    this.store(key, Buffer.from(JSON.stringify(value)), "application/json");
  }

  async putBytes(key: string, body: Uint8Array, contentType?: string): Promise<void> {
    this.store(key, body, contentType);
  }

  async put(key: string, body: string, contentType: string): Promise<void> {
    this.store(key, Buffer.from(body, "utf8"), contentType);
  }

  async putStream(key: string, body: AsyncIterable<unknown>, contentType: string): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of body) chunks.push(Buffer.from(chunk as Uint8Array));
    this.store(key, Buffer.concat(chunks), contentType);
  }

  async readUrl(key: string): Promise<string> {
    return this.files.write(key, await this.getBytes(key));
  }

  async listKeys(prefix: string): Promise<string[]> {
    return [...this.objects.keys()].filter((key) => key.startsWith(prefix)).sort();
  }

  /** Every delete, in order, by key. */
  readonly deletes: string[] = [];

  async deleteKeys(keys: readonly string[]): Promise<void> {
    for (const key of keys) {
      this.objects.delete(key);
      this.deletes.push(key);
    }
  }

  private store(key: string, body: Uint8Array, contentType?: string): void {
    // A copy: the caller may reuse its buffer (the chunker's PCM buffers are recycled).
    this.objects.set(key, { body: new Uint8Array(body), contentType });
    this.writes.push(key);
  }
}

export interface SourceObjectInput {
  bucket: string;
  key: string;
  body: Uint8Array;
  /** User metadata, as S3 returns it (lower-case keys without x-amz-meta-). */
  metadata?: Record<string, string>;
  versionId?: string;
}

/** Uploaded recordings, in any bucket. */
export class MemorySources implements SourceStore {
  private readonly objects = new Map<string, SourceObjectInput>();

  constructor(private readonly files = new TempFiles()) {}

  /** An upload; returns its ETag (an MD5 in quotes, as S3 gives it). */
  put(object: SourceObjectInput): string {
    this.objects.set(`${object.bucket}/${object.key}`, { ...object, body: new Uint8Array(object.body) });
    return etagOf(object.body);
  }

  delete(bucket: string, key: string): void {
    this.objects.delete(`${bucket}/${key}`);
  }

  async head(object: { bucket: string; key: string; versionId?: string }): Promise<SourceHead | undefined> {
    const found = this.objects.get(`${object.bucket}/${object.key}`);
    if (!found) return undefined;
    return { versionId: found.versionId, etag: etagOf(found.body), size: found.body.byteLength, metadata: { ...(found.metadata ?? {}) } };
  }

  async readUrl(object: { bucket: string; key: string }): Promise<string> {
    return this.files.write(object.key.split("/").pop() ?? "source", this.bytes(object));
  }

  /** An upload's bytes (throws NoSuchKey). */
  bytes(object: { bucket: string; key: string }): Uint8Array {
    const found = this.objects.get(`${object.bucket}/${object.key}`);
    if (!found) throw noSuchKey(object.key);
    return found.body;
  }
}

/** Recordings by URL: pointers among the uploads, copies in the work bucket. */
export class MemoryUrlSources implements UrlSourceStore {
  constructor(
    private readonly sources: MemorySources,
    private readonly work: MemoryBucket,
  ) {}

  async readPointer(object: { bucket: string; key: string }, maxBytes: number): Promise<Uint8Array> {
    return this.sources.bytes(object).slice(0, maxBytes + 1);
  }

  async copySize(key: string): Promise<number | undefined> {
    return this.work.objects.get(key)?.body.byteLength;
  }

  async putCopy(key: string, body: AsyncIterable<Uint8Array>): Promise<number> {
    await this.work.putStream(key, body, "application/octet-stream");
    return this.work.objects.get(key)?.body.byteLength ?? 0;
  }
}

const etagOf = (body: Uint8Array) => `"${createHash("md5").update(body).digest("hex")}"`;

/** The segments and stitch queues: what was sent, in order, as the consumer would parse it. */
export class MemoryQueues implements WorkQueues {
  readonly segments: SegmentMessage[] = [];
  readonly stitches: StitchMessage[] = [];
  /** How many sendSegments calls were made (the chunker batches its messages). */
  segmentSends = 0;
  /** Set by a test: runs before each send, and may throw to make it fail. */
  beforeSend?: (kind: "segments" | "stitch", messages: ReadonlyArray<SegmentMessage | StitchMessage>) => void | Promise<void>;

  async sendSegments(messages: SegmentMessage[]): Promise<void> {
    await this.beforeSend?.("segments", messages);
    this.segmentSends++;
    this.segments.push(...messages.map(wire));
  }

  async sendStitch(message: StitchMessage): Promise<void> {
    await this.beforeSend?.("stitch", [message]);
    this.stitches.push(wire(message));
  }
}

const wire = <T>(message: T): T => JSON.parse(JSON.stringify(message)) as T;

/** Job events, as subscribers would receive them. */
export class RecordingNotifier implements JobNotifier {
  readonly events: JobEvent[] = [];
  /** Set by a test: the next publish fails with it (an SNS outage), once. */
  failNext?: Error;

  async publish(event: JobEvent): Promise<void> {
    const failure = this.failNext;
    this.failNext = undefined;
    if (failure) throw failure;
    this.events.push(wire(event));
  }
}
