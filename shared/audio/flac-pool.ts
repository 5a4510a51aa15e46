import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";
import pLimit, { type LimitFunction } from "p-limit";
import { encodeFlacPcm } from "./flac-encoder.js";

/** One segment to encode; the PCM's memory moves to the worker when it can. */
export interface EncodeRequest {
  id: number;
  pcm: ArrayBuffer;
  byteOffset: number;
  byteLength: number;
}

/** What a worker posts: `ready` once it listens, then one reply per request, in order. */
export type WorkerMessage =
  | { kind: "ready" }
  | { kind: "encoded"; id: number; flac: ArrayBuffer; byteOffset: number; byteLength: number; pcm: ArrayBuffer }
  | { kind: "failed"; id: number; error: string; pcm: ArrayBuffer };

interface Slot {
  worker: Worker;
  /** The worker listens: jobs go only to started workers, so a worker that never starts holds none. */
  started: boolean;
  /** Taken by one encode for its job (p-limit lets no more encodes run than there are slots). */
  taken: boolean;
  /** The job posted to the worker, until its reply. */
  job: { resolve: (flac: Buffer) => void; reject: (error: Error) => void } | null;
  /** Settles when the worker listens (or is gone). */
  ready: Promise<void>;
}

/**
 * FLAC encoding (flac-encoder.ts) on worker threads. The chunker's main
 * thread drains ffmpeg's pipe; encoding a segment there (tens of ms) leaves
 * the pipe full and ffmpeg stopped for as long, so decoding and encoding took
 * turns on one core. Here they overlap: the main thread hands each segment's
 * PCM over (transferred, not copied) and gets the FLAC bytes back, and the
 * PCM buffer too, for the next segment's PCM (`pcmBuffer`): fresh memory for
 * every segment costs page faults, ~1.5 ms per 4 MB segment.
 *
 * At most one job per worker runs at once (p-limit, `size`); the others wait
 * their turn in order. Workers start on first use and stay for the life of
 * the process (a warm Lambda container reuses them); they are unreferenced
 * while idle, so they never keep a process alive. If a worker cannot start at
 * all (an environment without the worker file), encoding falls back to the
 * calling thread and `degraded` says why.
 */
export class FlacEncoderPool {
  private readonly slots: Slot[] = [];
  private readonly limit: LimitFunction;
  private nextId = 0;
  private closed = false;
  /** PCM buffers back from the workers, for pcmBuffer. */
  private readonly spare: ArrayBuffer[] = [];
  /** Buffers this pool handed out: whole ArrayBuffers of ours, safe to transfer. */
  private readonly lent = new WeakSet<ArrayBuffer>();
  /** Why encoding runs in process instead of on workers, once a worker failed to start. */
  degraded: string | null = null;

  constructor(
    readonly size: number = defaultPoolSize(),
    /** The worker's code: this module's own by default (tests point elsewhere). */
    private readonly entry: () => WorkerEntry = workerEntry,
  ) {
    if (!(size >= 1)) throw new RangeError("a pool needs at least one worker");
    this.limit = pLimit(size);
  }

  /**
   * A buffer of `bytes` bytes to fill with a segment's PCM and pass to
   * `encode`: a recycled one when there is one. Its contents are garbage.
   */
  pcmBuffer(bytes: number): Buffer {
    const index = this.spare.findIndex((b) => b.byteLength >= bytes);
    const buffer = index >= 0 ? this.spare.splice(index, 1)[0] : this.allocate(bytes);
    return Buffer.from(buffer, 0, bytes);
  }

  /**
   * Encodes 16 kHz mono s16le PCM to FLAC. The PCM's memory is moved to the
   * worker when it is a pcmBuffer or owns its whole ArrayBuffer: the caller
   * must not use it afterwards.
   */
  async encode(pcm: Buffer): Promise<Buffer> {
    if (this.closed) throw closedError();
    if (this.degraded) {
      const flac = encodeFlacPcm(pcm);
      this.recycle(pcm.buffer);
      return flac;
    }
    const buffer = pcm.buffer;
    // Never transfer memory that may be shared with other Buffers (Node's 8 KB allocation pool).
    const movable =
      buffer instanceof ArrayBuffer && pcm.byteOffset === 0 && (this.lent.has(buffer) || pcm.byteLength === buffer.byteLength);
    let source = pcm;
    if (!movable) {
      source = Buffer.from(this.allocate(pcm.byteLength), 0, pcm.byteLength);
      pcm.copy(source);
    }
    const request: EncodeRequest = {
      id: this.nextId++,
      pcm: source.buffer as ArrayBuffer,
      byteOffset: source.byteOffset,
      byteLength: source.byteLength,
    };
    return this.limit(() => this.run(request));
  }

  /** Starts the workers now (while the decoder starts, say), so that the first segment does not wait for one. */
  async warm(): Promise<void> {
    while (!this.closed && !this.degraded && this.slots.length < this.size) this.spawn();
    await Promise.all(this.slots.map((slot) => slot.ready));
  }

  /** Stops the workers; jobs not yet finished are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const error = closedError();
    // Jobs still waiting for a worker find the pool closed when their turn comes.
    await Promise.all(
      this.slots.splice(0).map((slot) => {
        slot.job?.reject(error);
        slot.job = null;
        return slot.worker.terminate();
      }),
    );
  }

  /** One job, on a worker of its own while it runs (or in process, once no worker can start). */
  private async run(request: EncodeRequest): Promise<Buffer> {
    const slot = await this.takeSlot();
    if (!slot) return this.inProcess(request);
    return new Promise<Buffer>((resolve, reject) => {
      slot.job = { resolve, reject };
      slot.worker.ref();
      slot.worker.postMessage(request, [request.pcm]);
    });
  }

  /**
   * A started worker for one job: an idle one, else one starting that nobody took, else a new one. With no
   * more jobs running than `size`, one of the three is always there. Undefined once encoding is degraded.
   */
  private async takeSlot(): Promise<Slot | undefined> {
    for (;;) {
      if (this.closed) throw closedError();
      if (this.degraded) return undefined;
      const slot = this.slots.find((s) => !s.taken && s.started) ?? this.slots.find((s) => !s.taken) ?? this.spawn();
      if (!slot) return undefined;
      slot.taken = true;
      await slot.ready;
      if (slot.started && this.slots.includes(slot) && !this.closed) return slot;
      // Gone before it took the job (stopped, or never started: then `degraded` says so): look again.
      slot.taken = false;
    }
  }

  private spawn(): Slot | undefined {
    let worker: Worker;
    try {
      const { url, options } = this.entry();
      worker = new Worker(url, options);
    } catch (error) {
      this.degraded = `FLAC worker could not start (${(error as Error).message}); encoding in process`;
      return undefined;
    }
    // Idle workers never keep the process alive; run refs one while it has a job.
    worker.unref();
    let markReady!: () => void;
    const slot: Slot = { worker, started: false, taken: false, job: null, ready: new Promise<void>((resolve) => (markReady = resolve)) };
    worker.on("message", (message: WorkerMessage) => {
      if (message.kind === "ready") {
        slot.started = true;
        markReady();
        return;
      }
      const job = slot.job;
      slot.job = null;
      slot.taken = false;
      worker.unref();
      this.recycle(message.pcm);
      if (!job) return;
      if (message.kind === "encoded") job.resolve(Buffer.from(message.flac, message.byteOffset, message.byteLength));
      else job.reject(new Error(`FLAC encoding failed: ${message.error}`));
    });
    const lost = (error: Error) => {
      markReady();
      const index = this.slots.indexOf(slot);
      if (index < 0) return;
      this.slots.splice(index, 1);
      const job = slot.job;
      slot.job = null;
      // A worker that never listened had no job: encode here from now on. One that did took its job down with it.
      if (!slot.started && !this.closed) this.degraded = `FLAC worker could not start (${error.message}); encoding in process`;
      job?.reject(new Error(`FLAC worker stopped: ${error.message}`));
    };
    worker.on("error", lost);
    worker.on("exit", (code) => lost(new Error(`exit code ${code}`)));
    this.slots.push(slot);
    return slot;
  }

  private inProcess(request: EncodeRequest): Buffer {
    const { pcm, byteOffset, byteLength } = request;
    try {
      return encodeFlacPcm(Buffer.from(pcm, byteOffset, byteLength));
    } finally {
      this.recycle(pcm);
    }
  }

  /** Whole MiB, so that a buffer fits the next segment too (their lengths vary by a few seconds). */
  private allocate(bytes: number): ArrayBuffer {
    const buffer = new ArrayBuffer(Math.max(MIB, Math.ceil(bytes / MIB) * MIB));
    this.lent.add(buffer);
    return buffer;
  }

  private recycle(buffer: ArrayBufferLike): void {
    if (!(buffer instanceof ArrayBuffer) || !this.lent.has(buffer) || buffer.byteLength === 0) return;
    this.spare.push(buffer);
    // Keep the largest few: about as many as segments in flight.
    if (this.spare.length > MAX_SPARE_BUFFERS) {
      this.spare.sort((a, b) => b.byteLength - a.byteLength);
      this.spare.length = MAX_SPARE_BUFFERS;
    }
  }
}

function closedError(): Error {
  return new Error("FLAC encoder pool is closed");
}

/**
 * One worker per core beyond the decoder's (ffmpeg's), at most two. One keeps
 * up with the decoder: it encodes a minute of audio in ~12 ms where ffmpeg
 * takes ~20 ms to decode it (and on 2 cores a second one measured no faster).
 */
export function defaultPoolSize(): number {
  return Math.max(1, Math.min(2, availableParallelism() - 1));
}

/**
 * Where the worker's code is. Bundled (Lambda), this module is part of the
 * handler's index.mjs and the worker is the flac-worker.mjs bundled beside it;
 * from source (tsx, vitest) it is flac-worker.ts, started through
 * ts-worker.mjs because Node 20 does not run TypeScript workers by itself.
 */
export interface WorkerEntry {
  url: URL;
  options: ConstructorParameters<typeof Worker>[1];
}

function workerEntry(): WorkerEntry {
  const here = import.meta.url;
  if (/\.[cm]?ts$/.test(new URL(here).pathname)) {
    return { url: new URL("./ts-worker.mjs", here), options: { workerData: { tsEntry: new URL("./flac-worker.ts", here).href } } };
  }
  return { url: new URL(`./${FLAC_WORKER.bundle}`, here), options: {} };
}

const MIB = 1 << 20;
const MAX_SPARE_BUFFERS = 6;

/**
 * The worker's entry (from the repository root) and its file name in a
 * handler's bundle, beside index.mjs: infra/constructs/pipeline-function.ts
 * bundles the one into the other for the functions that encode.
 */
export const FLAC_WORKER = { source: "shared/audio/flac-worker.ts", bundle: "flac-worker.mjs" } as const;

let shared: FlacEncoderPool | undefined;

/** The process's pool, started on first use. */
export function sharedFlacPool(): FlacEncoderPool {
  shared ??= new FlacEncoderPool();
  return shared;
}
