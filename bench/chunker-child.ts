/**
 * One chunkRecording run in a process of its own, against emulators in
 * another: the RSS it reports is the chunker's (Node, SDK clients, PCM
 * window, segments in flight), not the emulators' copy of the recording.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { createClients } from "../shared/clients.js";
import { ffmpegPaths } from "../shared/audio/ffmpeg.js";
import { createContext } from "../shared/pipeline/context.js";
import { sharedFlacPool } from "../shared/audio/flac-pool.js";
import { chunkRecording, type ChunkOutcome } from "../shared/pipeline/chunk-recording.js";
import { DEFAULTS } from "../shared/wiring.js";
import { localConfig, type LocalResources } from "../local/resources.js";
import { childArgs, fatal, serve } from "./lib/child.js";
import { ffmpegKind, watchChildRss } from "./lib/child-rss.js";
import { peakRssMb } from "./lib/proc.js";

export interface ChunkerChildArgs {
  endpoints: { aws: string; dynamodb: string };
  resources: LocalResources;
  chunkSeconds: number;
  overlapSeconds: number;
}

export interface ChunkerRun {
  outcome: ChunkOutcome;
  /** From the call to chunkRecording to its return (head, job record, probe, decode, every segment stored and queued). */
  seconds: number;
  /** From the call to the first segment message accepted by SQS. */
  firstSegmentSeconds: number | null;
  segmentMessages: number;
  /** Peak RSS (VmHWM) of this process over its whole life, MB. */
  maxRssMb: number;
  /** RSS before the run (Node + SDK clients loaded), MB. */
  startRssMb: number;
  /** Peak RSS of ffmpeg/ffprobe children by kind, MB. */
  childPeakMb: Record<string, number>;
  childrenSampled: Record<string, number>;
  cpuSeconds: number;
}

async function main(): Promise<void> {
  const args = childArgs<ChunkerChildArgs>();
  const clients = createClients(args.endpoints);
  const { resources } = args;
  const config = localConfig(
    resources,
    { baseUrl: "http://127.0.0.1:9/v1", model: DEFAULTS.model, apiKey: async () => "unused", timeoutMs: 1000, maxAttempts: 1 },
    { chunkSeconds: args.chunkSeconds, overlapSeconds: args.overlapSeconds },
  );
  const log = new Logger({ serviceName: "stt-bench", logLevel: "SILENT" });
  const ctx = createContext(config, clients, ffmpegPaths(), log);
  // Like the modules above, the encoder workers are loaded before the run is timed: a warm Lambda
  // container has them from its previous invocation (and a cold one starts the bundled worker in ms;
  // here each worker compiles TypeScript through tsx first, which says nothing about the chunker).
  await sharedFlacPool().warm();

  let started = 0;
  let firstSegment: number | null = null;
  let segmentMessages = 0;
  clients.sqs.middlewareStack.add(
    (next, context) => async (input) => {
      const out = await next(input);
      if (context.commandName === "SendMessageBatchCommand") {
        const entries = (input.input as { Entries?: unknown[] }).Entries ?? [];
        segmentMessages += entries.length;
        firstSegment ??= performance.now() - started;
      }
      return out;
    },
    { step: "initialize", name: "benchSegmentTimer" },
  );

  serve(
    {
      run: async ({ bucket, key }: { bucket: string; key: string }): Promise<ChunkerRun> => {
        const startRssMb = process.memoryUsage().rss / 2 ** 20;
        const cpuBefore = process.cpuUsage();
        const watcher = watchChildRss(ffmpegKind);
        started = performance.now();
        const outcome = await chunkRecording(ctx, { bucket, key });
        const seconds = (performance.now() - started) / 1000;
        const peaks = watcher.stop();
        const cpu = process.cpuUsage(cpuBefore);
        return {
          outcome,
          seconds,
          firstSegmentSeconds: firstSegment === null ? null : firstSegment / 1000,
          segmentMessages,
          maxRssMb: peakRssMb(),
          startRssMb,
          childPeakMb: peaks.peakMb,
          childrenSampled: peaks.sampled,
          cpuSeconds: (cpu.user + cpu.system) / 1e6,
        };
      },
    },
    { pid: process.pid },
  );
}

main().catch(fatal);
