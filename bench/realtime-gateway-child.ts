/**
 * The realtime gateway in its own process, so that its CPU time and memory are its own: started the way
 * `stt up` starts it (realtime/local.ts), on a stack whose emulators run in another process and which
 * runs no batch pipeline (bench/lib/stack-on-emulators.ts), with STT_REALTIME_BATCH_JOB off. It reports CPU (process.cpuUsage), RSS
 * (sampled every 100 ms: the peak since the baseline), heap after a forced GC, and event-loop delay over IPC.
 */
import { monitorEventLoopDelay } from "node:perf_hooks";
import { quietLog } from "../local/stack.js";
import { startLocalGateway } from "../realtime/local.js";
import type { UpstreamMode } from "../realtime/upstream/select.js";
import { childArgs, fatal, serve } from "./lib/child.js";
import { stackOnEmulators, type RunningEmulators } from "./lib/stack-on-emulators.js";

export interface GatewayChildArgs {
  emulators: RunningEmulators;
  provider: { baseUrl: string; apiKey: string; model?: string };
  mode: UpstreamMode;
  upstreamUrl?: string;
  keys: string[];
}

export interface GatewayChildReady {
  url: string;
}

/** Since the last `mark`. */
export interface GatewaySample {
  cpuMs: { user: number; system: number };
  wallMs: number;
  rssMb: { atMark: number; now: number; peak: number };
  heapUsedMb: { atMark: number; now: number };
  /** Event-loop delay (ms): how late timers and socket reads ran. */
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  sessions: number;
}

const MB = 2 ** 20;
/** Present when started with --expose-gc (the benchmark does). */
const gc = (globalThis as { gc?: () => void }).gc;

async function main(): Promise<void> {
  const args = childArgs<GatewayChildArgs>();
  const stack = stackOnEmulators(args.emulators, args.provider);
  const gateway = await startLocalGateway(stack, {
    port: 0,
    keys: args.keys,
    mode: args.mode,
    upstreamUrl: args.upstreamUrl,
    // Only the live side is measured: a session ends CLOSED with its parts stored, no batch job.
    batchJob: false,
    // A fresh table has no orphans to look for.
    sweepOrphans: false,
    log: quietLog,
  });

  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  let mark = { cpu: process.cpuUsage(), at: performance.now(), rss: process.memoryUsage.rss(), heap: process.memoryUsage().heapUsed };
  let peakRss = mark.rss;
  const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage.rss())), 100);
  sampler.unref();

  serve(
    {
      mark: () => {
        // A collected heap at the baseline, so that retained() compares like with like.
        gc?.();
        delay.reset();
        const memory = process.memoryUsage();
        mark = { cpu: process.cpuUsage(), at: performance.now(), rss: memory.rss, heap: memory.heapUsed };
        peakRss = memory.rss;
      },
      sample: (): GatewaySample => {
        const cpu = process.cpuUsage(mark.cpu);
        const memory = process.memoryUsage();
        peakRss = Math.max(peakRss, memory.rss);
        const ms = (ns: number) => ns / 1e6;
        return {
          cpuMs: { user: cpu.user / 1000, system: cpu.system / 1000 },
          wallMs: performance.now() - mark.at,
          rssMb: { atMark: mark.rss / MB, now: memory.rss / MB, peak: peakRss / MB },
          heapUsedMb: { atMark: mark.heap / MB, now: memory.heapUsed / MB },
          eventLoopDelayMs: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max) },
          sessions: gateway.sessions(),
        };
      },
      /** Heap after a forced collection: what the open sessions really hold (call after sample: GC costs CPU). */
      retained: () => {
        gc?.();
        return { heapUsedMb: process.memoryUsage().heapUsed / MB, heapAtMarkMb: mark.heap / MB };
      },
    },
    { url: gateway.url } satisfies GatewayChildReady,
  );
}

main().catch(fatal);
