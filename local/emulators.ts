import { mkdirSync } from "node:fs";
import type { Server } from "node:http";
import { createRequire } from "node:module";
import { startFauxqs, type MessageSpyReader, type SpyMessage } from "fauxqs";

const require = createRequire(import.meta.url);
// dynalite ships CommonJS without types.
const dynalite = require("dynalite") as (options: Record<string, unknown>) => Server;

export interface Emulators {
  /** fauxqs: S3, SQS and SNS on one endpoint. */
  awsEndpoint: string;
  dynamodbEndpoint: string;
  stop(): Promise<void>;
}

/** One object created in a bucket: what an S3 ObjectCreated notification names. */
export interface ObjectCreated {
  bucket: string;
  key: string;
}

/** Emulators this process runs, so it also hears what fauxqs does. */
export interface LocalEmulators extends Emulators {
  /**
   * Every object created in `bucket`, once per request that created it (PutObject, CompleteMultipartUpload,
   * the target of CopyObject), in the order fauxqs stored them, as S3 event notifications report them: the
   * same bytes uploaded twice are two events. Ends when `signal` aborts.
   */
  objectsCreated(bucket: string, signal: AbortSignal): AsyncIterable<ObjectCreated>;
  /** Every object deleted from `bucket`, once per request that deleted it, as S3 ObjectRemoved notifications report them. */
  objectsRemoved(bucket: string, signal: AbortSignal): AsyncIterable<ObjectCreated>;
}

export interface EmulatorOptions {
  awsPort?: number;
  dynamodbPort?: number;
  /** Folder for dynalite's LevelDB files; omitted = in memory. */
  dynamodbPath?: string;
}

/**
 * fauxqs's message spy keeps its latest events in a buffer, where an event not yet taken is found again. The
 * next is taken the moment the previous one is handed out, so only events recorded within one synchronous
 * step could be pushed out before they are taken: a few (a batch send records ten); this leaves room for many.
 */
const SPY_BUFFER = 2000;

/** Starts the real emulators from npm in this process: fauxqs (in memory) and dynalite (on disk when a path is given). */
export async function startEmulators(options: EmulatorOptions = {}): Promise<LocalEmulators> {
  const fauxqs = await startFauxqs({
    port: options.awsPort ?? 0,
    logger: false,
    host: "127.0.0.1",
    // fauxqs has no bucket notifications; its spy reports every upload, which is what they would send.
    messageSpies: { bufferSize: SPY_BUFFER },
  });
  if (options.dynamodbPath) mkdirSync(options.dynamodbPath, { recursive: true });
  const db = dynalite({ path: options.dynamodbPath, createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve, reject) => {
    db.once("error", reject);
    db.listen(options.dynamodbPort ?? 0, "127.0.0.1", () => resolve());
  });
  const address = db.address();
  const dynamodbPort = typeof address === "object" && address ? address.port : 0;
  return {
    awsEndpoint: `http://127.0.0.1:${fauxqs.port}`,
    dynamodbEndpoint: `http://127.0.0.1:${dynamodbPort}`,
    objectsCreated: (bucket, signal) => uploadsTo(fauxqs.spy, bucket, signal),
    objectsRemoved: (bucket, signal) => uploadsTo(fauxqs.spy, bucket, signal, "deleted"),
    async stop() {
      await fauxqs.stop();
      await new Promise<void>((resolve) => db.close(() => resolve()));
    },
  };
}

async function* uploadsTo(
  spy: MessageSpyReader,
  bucket: string,
  signal: AbortSignal,
  status: "uploaded" | "deleted" = "uploaded",
): AsyncGenerator<ObjectCreated> {
  // Spy events are objects of their own: the ones handed out already are known by identity.
  const taken = new WeakSet<SpyMessage>();
  const isNew = (m: SpyMessage) => m.service === "s3" && m.status === status && m.bucket === bucket && !taken.has(m);
  const aborted = new Promise<undefined>((resolve) => {
    if (signal.aborted) resolve(undefined);
    else signal.addEventListener("abort", () => resolve(undefined), { once: true });
  });
  while (!signal.aborted) {
    // A waiter left when the signal aborts stays with the spy until fauxqs stops; it is never resolved.
    const next = await Promise.race([spy.waitForMessage(isNew), aborted]);
    if (!next || next.service !== "s3") return;
    taken.add(next);
    yield { bucket: next.bucket, key: next.key };
  }
}
