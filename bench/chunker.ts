/**
 * Chunker benchmarks: throughput against plain ffmpeg decoding of the same
 * object by the same presigned URL, and peak memory on long recordings. Each
 * chunker run is a fresh child process (so maxRSS is that run's), talking to
 * emulators in another child.
 */
import { createReadStream } from "node:fs";
import { Upload } from "@aws-sdk/lib-storage";
import { createClients, type PipelineClients } from "../shared/clients.js";
import { presignGet } from "../shared/adapters/object-store.js";
import { startChild, type Child } from "./lib/child.js";
import { plainDecodeSeconds, type InputFile } from "./lib/inputs.js";
import type { ChunkerChildArgs, ChunkerRun } from "./chunker-child.js";
import type { EmulatorsReady } from "./emulators-child.js";
import { median } from "./lib/stats.js";

export interface ChunkerBenchOptions {
  chunkSeconds: number;
  overlapSeconds: number;
}

export interface ThroughputResult {
  input: InputFile;
  reps: number;
  /** Medians over reps. */
  plainSeconds: number;
  chunkerSeconds: number;
  plainSpeed: number;
  chunkerSpeed: number;
  /** chunker throughput / plain decode throughput (1 = as fast as plain ffmpeg). */
  ratio: number;
  runs: Array<{ plainSeconds: number; chunker: ChunkerRun }>;
}

export interface MemoryResult {
  label: string;
  input: InputFile;
  run: ChunkerRun;
}

export class ChunkerBench {
  private constructor(
    private readonly emulators: Child<EmulatorsReady>,
    private readonly clients: PipelineClients,
    private readonly options: ChunkerBenchOptions,
  ) {}

  static async start(options: ChunkerBenchOptions): Promise<ChunkerBench> {
    const emulators = await startChild<EmulatorsReady>(new URL("./emulators-child.ts", import.meta.url), {});
    return new ChunkerBench(emulators, createClients(emulators.ready.endpoints), options);
  }

  private keyNumber = 0;

  /** Uploads a file to the input bucket under a fresh key (the chunker treats a known object as a duplicate). */
  async upload(input: InputFile): Promise<{ bucket: string; key: string }> {
    const bucket = this.emulators.ready.resources.buckets.input;
    const key = `bench/${process.pid}-${this.keyNumber++}/${input.path.split("/").pop()}`;
    await new Upload({
      client: this.clients.s3,
      params: { Bucket: bucket, Key: key, Body: createReadStream(input.path) },
      partSize: 8 * 1024 * 1024,
      queueSize: 2,
    }).done();
    return { bucket, key };
  }

  /** One chunkRecording in a fresh child process. */
  async chunk(object: { bucket: string; key: string }): Promise<ChunkerRun> {
    const args: ChunkerChildArgs = {
      endpoints: this.emulators.ready.endpoints,
      resources: this.emulators.ready.resources,
      chunkSeconds: this.options.chunkSeconds,
      overlapSeconds: this.options.overlapSeconds,
    };
    const child = await startChild<{ pid: number }>(new URL("./chunker-child.ts", import.meta.url), args);
    try {
      const run = await child.call<ChunkerRun>("run", object);
      if (run.outcome.kind !== "started") throw new Error(`chunker did not start the job: ${JSON.stringify(run.outcome)}`);
      return run;
    } finally {
      await child.stop();
    }
  }

  async throughput(input: InputFile, reps: number): Promise<ThroughputResult> {
    const object = await this.upload(input);
    const url = await presignGet(this.clients.s3, object.bucket, object.key);
    const runs: ThroughputResult["runs"] = [];
    // Alternate the two so that a noisy neighbour hurts both alike.
    for (let rep = 0; rep < reps; rep++) {
      const plainSeconds = await plainDecodeSeconds(url);
      const chunker = await this.chunk(await this.upload(input));
      runs.push({ plainSeconds, chunker });
    }
    const plainSeconds = median(runs.map((r) => r.plainSeconds));
    const chunkerSeconds = median(runs.map((r) => r.chunker.seconds));
    return {
      input,
      reps,
      plainSeconds,
      chunkerSeconds,
      plainSpeed: input.seconds / plainSeconds,
      chunkerSpeed: input.seconds / chunkerSeconds,
      ratio: plainSeconds / chunkerSeconds,
      runs,
    };
  }

  async memory(label: string, input: InputFile): Promise<MemoryResult> {
    const run = await this.chunk(await this.upload(input));
    return { label, input, run };
  }

  async emulatorsRssMb(): Promise<number> {
    return this.emulators.call<number>("rssMb");
  }

  async stop(): Promise<void> {
    this.clients.s3.destroy();
    await this.emulators.stop();
  }
}
