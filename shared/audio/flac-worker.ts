/**
 * Worker-thread entry of FlacEncoderPool (flac-pool.ts): encodes one segment's
 * PCM per message, off the thread that drains the decoder's pipe. Bundled for
 * Lambda as its own file next to the handler (flac-worker.mjs, see
 * infra/constructs/pipeline-function.ts); run from source through
 * ts-worker.mjs under tsx.
 */
import { parentPort } from "node:worker_threads";
import { encodeFlacPcm } from "./flac-encoder.js";
import type { EncodeRequest, WorkerMessage } from "./flac-pool.js";

const port = parentPort;
if (!port) throw new Error("flac-worker.ts runs as a worker thread (see flac-pool.ts)");

port.on("message", (request: EncodeRequest) => {
  let reply: WorkerMessage;
  try {
    const flac = encodeFlacPcm(Buffer.from(request.pcm, request.byteOffset, request.byteLength));
    const out = flac.buffer as ArrayBuffer;
    reply = { kind: "encoded", id: request.id, flac: out, byteOffset: flac.byteOffset, byteLength: flac.byteLength, pcm: request.pcm };
  } catch (error) {
    reply = { kind: "failed", id: request.id, error: error instanceof Error ? error.message : String(error), pcm: request.pcm };
  }
  // The encoder's output buffer is its own (never a pooled slab): hand it over instead of copying it, and
  // the PCM's back for the pool to fill with the next segment.
  port.postMessage(reply, reply.kind === "encoded" ? [reply.flac, reply.pcm] : [reply.pcm]);
});
port.postMessage({ kind: "ready" } satisfies WorkerMessage);
