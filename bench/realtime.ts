/**
 * `npm run bench:realtime`: concurrent realtime sessions through the gateway, each streaming its own
 * generated conversation at real-time speed, and what they cost and saw.
 *
 *   --sessions=50        concurrent sessions
 *   --seconds=60         audio per session
 *   --upstream=http      http (the gateway's VAD; utterances go to the provider's HTTP API, in pieces)
 *                        or realtime (relay to the stand-in's realtime endpoint, test/provider-realtime)
 *   --speed=1            times real time
 *   --latency=0.5,0.04   the provider's modelled latency: base seconds, seconds per audio second
 *   --json=PATH          raw results (default bench/results/realtime-latest.json)
 *
 * Four processes, so that each one's CPU and memory are its own: the emulators (bench/emulators-child.ts),
 * the ground-truth provider (bench/realtime-provider-child.ts), the gateway (bench/realtime-gateway-child.ts,
 * wired as `stt up` wires it, with STT_REALTIME_BATCH_JOB off and no batch pipeline), and the clients here.
 * The provider's counters are read once every session has all its transcripts and before any session
 * closes, so they hold live transcription only, whatever a closing session goes on to do.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, totalmem } from "node:os";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { buildConversation, type Recording } from "../test/audio/conversation.js";
import type { ProviderStats } from "../test/provider/provider-stats.js";
import { getSessionItem } from "../realtime/session-recorder.js";
import { createClients } from "../shared/clients.js";
import { DEFAULTS } from "../shared/wiring.js";
import type { EmulatorsReady } from "./emulators-child.js";
import { startChild, type Child } from "./lib/child.js";
import { cpuSeconds } from "./lib/proc.js";
import { max, percentile, sum } from "./lib/stats.js";
import { startClient, type ClientLog, type RunningClient } from "./realtime-client.js";
import { realtimeConversation } from "./realtime-conversations.js";
import type { GatewayChildArgs, GatewayChildReady, GatewaySample } from "./realtime-gateway-child.js";
import type { LocatorAudit, RealtimeProviderChildArgs, RealtimeProviderChildReady } from "./realtime-provider-child.js";
import { formatRealtimeReport } from "./realtime-report.js";
import { scoreSession } from "./realtime-score.js";

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

export type RealtimeUpstream = "http" | "realtime";

export interface RealtimeBenchOptions {
  sessions: number;
  seconds: number;
  upstream: RealtimeUpstream;
  speed: number;
  /** The provider's processing time per request. */
  latency: { baseSeconds: number; perAudioSecond: number };
  /** Session i streams the conversation of seed firstSeed + i. */
  firstSeed: number;
  /** One short session first, unmeasured (JIT, connections), before the gateway's baseline is taken. */
  warmUp: boolean;
}

/** The latency model of `npm run bench` (bench/run.ts): a request costs 0.5 s plus 0.04 s per second of its audio. */
export const DEFAULT_LATENCY = { baseSeconds: 0.5, perAudioSecond: 0.04 };

export const DEFAULT_OPTIONS: RealtimeBenchOptions = {
  sessions: 50,
  seconds: 60,
  upstream: "http",
  speed: 1,
  latency: DEFAULT_LATENCY,
  firstSeed: 1000,
  warmUp: true,
};

const WARM_UP_SECONDS = 12;
/** Sessions start this far apart in all, so their appends do not all land in the same millisecond. */
const START_SPREAD_MS = 2000;

export interface Distribution {
  count: number;
  p50: number;
  p95: number;
  max: number;
}

export interface RealtimeBenchResult {
  command: string;
  startedAt: string;
  finishedAt: string;
  machine: { cpus: number; cpuModel: string; memoryGb: number; node: string; loadBefore: number[]; loadAfter: number[] };
  options: RealtimeBenchOptions;
  upstreamSeen: string[];
  sessions: {
    started: number;
    timedOut: number;
    errors: number;
    firstErrors: Array<{ code?: string; message?: string }>;
    /** Why utterances failed (the gateway's failed events), the first few. */
    failures: string[];
  };
  /** Audio streamed by all sessions, seconds. */
  streamedSeconds: number;
  /** First connection -> every session answered, seconds. */
  windowSeconds: number;
  utterances: { count: number; failed: number; unanswered: number; meanSeconds: number; maxSeconds: number };
  latency: Distribution;
  endDetection: Distribution;
  transcription: Distribution;
  deltaGaps: Distribution;
  firstDelta: Distribution;
  betweenDeltas: Distribution;
  deltas: { perUtterance: number; perUtteranceMinute: number; total: number };
  words: {
    truth: number;
    lost: number;
    /** Of the lost words, those inside an upload the provider stand-in misplaced (it heard other words there than the audio holds). */
    lostByStandIn: number;
    extra: number;
    /** The first 100, with the words completed events put within 1.5 s of each ("word@seconds"). */
    lostList: Array<{ session: string; word: string; start: number; end: number; byStandIn: boolean; heardNearby: string }>;
  };
  /** The stand-in's locator checked against exact placement of each upload. */
  locator: { uploads: number; placed: number; misplaced: number; /** The first 200. */ misplacedList: LocatorAudit["misplaced"] };
  billed: {
    provider: { audioSeconds: number; requests: number; ratio: number; maxInFlight: number; byStatus: Record<string, number> };
    /** What the gateway itself reports on the session items, when it does. */
    gateway: { audioSeconds: number; requests: number; partialRequests: number; ratio: number; sessions: number } | null;
  };
  gateway: GatewaySample & {
    cpuMsPerAudioSecond: number;
    corePercentPerSession: number;
    corePercent: number;
    rssGrowthPerSessionMb: number;
    /** Heap after a forced GC with every session still open, minus the same at the baseline, per session. */
    retainedHeapPerSessionMb: number;
  };
  /** CPU seconds over the window, per process (the provider's without its locator audit), and what the machine had (cores x window). */
  cpu: { gateway: number; provider: number; providerFfmpeg: number; emulators: number; clients: number; available: number };
}

export async function runRealtimeBench(
  options: RealtimeBenchOptions,
  log: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
  command = "npm run bench:realtime",
): Promise<RealtimeBenchResult> {
  const startedAt = new Date().toISOString();
  const loadBefore = loadavg();
  const specs = Array.from({ length: options.sessions }, (_, i) => realtimeConversation(options.firstSeed + i, options.seconds));
  const warmUpSpec = realtimeConversation(options.firstSeed - 1, WARM_UP_SECONDS);
  const recordings = specs.map(buildConversation);
  // One key per client, so the deployed per-key limit (20 open sessions) stays as it is.
  const keys = Array.from({ length: options.sessions + 1 }, (_, i) => `bench-key-${i}`);

  const children: Array<Child<unknown>> = [];
  const clients: RunningClient[] = [];
  let dynamo: ReturnType<typeof createClients>["dynamo"] | undefined;
  try {
    log(`realtime: starting the emulators, the provider (${options.sessions + 1} recordings) and the gateway (${options.upstream}) ...`);
    const emulators = await startChild<EmulatorsReady>(new URL("./emulators-child.ts", import.meta.url), { visibilityTimeoutSeconds: 300 });
    children.push(emulators);
    const provider = await startChild<RealtimeProviderChildReady>(new URL("./realtime-provider-child.ts", import.meta.url), {
      recordings: [...specs, warmUpSpec],
      options: { latency: options.latency },
      realtime: options.upstream === "realtime",
    } satisfies RealtimeProviderChildArgs);
    children.push(provider);
    const gateway = await startChild<GatewayChildReady>(
      new URL("./realtime-gateway-child.ts", import.meta.url),
      {
        emulators: emulators.ready,
        provider: { baseUrl: provider.ready.url, apiKey: provider.ready.apiKey, model: DEFAULTS.model },
        mode: options.upstream,
        upstreamUrl: provider.ready.realtimeUrl,
        keys,
      } satisfies GatewayChildArgs,
      { nodeArgs: ["--expose-gc"] },
    );
    children.push(gateway);
    dynamo = createClients(emulators.ready.endpoints).dynamo;
    const table = emulators.ready.resources.table;
    const client = (samples: Int16Array, key: string) =>
      startClient({
        url: gateway.ready.url,
        key,
        samples,
        speed: options.speed,
        // A relay's events do not say how many utterances are still on their way: wait for a quiet moment.
        quietMs: options.upstream === "realtime" ? 2000 : 250,
        answerTimeoutMs: 60_000 + 10_000 / options.speed,
      });

    if (options.warmUp) {
      log("realtime: one warm-up session ...");
      const warm = client(buildConversation(warmUpSpec).samples, keys[options.sessions]);
      const warmLog = await warm.done;
      await warm.close();
      await sessionsEnded(dynamo, table, [warmLog.sessionId], 60_000);
    }
    await waitForIdleProvider(provider);
    await provider.call("resetStats");

    log(`realtime: ${options.sessions} sessions x ${options.seconds} s at ${options.speed}x ...`);
    await gateway.call("mark");
    const before = { provider: cpuSeconds(provider.pid), emulators: cpuSeconds(emulators.pid), clients: process.cpuUsage() };
    const windowStart = performance.now();
    const logs = await Promise.all(
      recordings.map(async (recording, i) => {
        await new Promise((r) => setTimeout(r, (i * START_SPREAD_MS) / options.sessions));
        const running = client(recording.samples, keys[i]);
        clients.push(running);
        return running.done;
      }),
    );
    const sample = await gateway.call<GatewaySample>("sample");
    const after = { provider: cpuSeconds(provider.pid), emulators: cpuSeconds(emulators.pid), clients: process.cpuUsage(before.clients) };
    const windowSeconds = (performance.now() - windowStart) / 1000;
    const retained = await gateway.call<RetainedHeap>("retained");
    await waitForIdleProvider(provider);
    const stats = await provider.call<ProviderStats>("stats");
    const audit = await provider.call<LocatorAudit>("audit");

    log("realtime: closing the sessions and reading what the gateway recorded ...");
    await Promise.all(clients.map((c) => c.close()));
    const items = await sessionsEnded(dynamo, table, logs.map((l) => l.sessionId).filter(Boolean), 120_000);

    const cpu = {
      gateway: (sample.cpuMs.user + sample.cpuMs.system) / 1000,
      provider: after.provider.own - before.provider.own - audit.auditMs / 1000,
      providerFfmpeg: after.provider.children - before.provider.children,
      emulators: after.emulators.own - before.emulators.own,
      clients: (after.clients.user + after.clients.system) / 1e6,
      available: cpus().length * windowSeconds,
    };
    const machine = { cpus: cpus().length, cpuModel: cpus()[0]?.model ?? "unknown", memoryGb: totalmem() / 2 ** 30, node: process.version, loadBefore, loadAfter: loadavg() };
    return summarise({
      meta: { command, startedAt, finishedAt: new Date().toISOString(), machine, options },
      sessions: logs.map((l, i) => ({ log: l, recording: recordings[i], label: `seed ${specs[i].seed}` })),
      stats,
      audit,
      sample,
      retained,
      items,
      cpu,
      windowSeconds,
    });
  } finally {
    await Promise.allSettled(clients.map((c) => c.close()));
    for (const child of children.reverse()) await child.stop();
    dynamo?.destroy();
  }
}

interface RetainedHeap {
  heapUsedMb: number;
  heapAtMarkMb: number;
}

/** Partial requests of items that already ended may still be at the provider: they count too. */
async function waitForIdleProvider(provider: Child<unknown>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && (await provider.call<ProviderStats>("stats")).inFlight > 0) await new Promise((r) => setTimeout(r, 50));
}

/** The session items once the gateway has finished them (no longer STREAMING). */
async function sessionsEnded(
  dynamo: ReturnType<typeof createClients>["dynamo"],
  table: string,
  sessionIds: string[],
  timeoutMs: number,
): Promise<Array<Record<string, unknown>>> {
  const deadline = Date.now() + timeoutMs;
  const found = new Map<string, Record<string, unknown>>();
  while (found.size < sessionIds.length && Date.now() < deadline) {
    for (const id of sessionIds) {
      if (found.has(id)) continue;
      const item = await getSessionItem(dynamo, table, id);
      if (item && item.status !== "STREAMING") found.set(id, item as unknown as Record<string, unknown>);
    }
    if (found.size < sessionIds.length) await new Promise((r) => setTimeout(r, 250));
  }
  return [...found.values()];
}

function distribution(values: number[]): Distribution {
  return { count: values.length, p50: percentile(values, 50), p95: percentile(values, 95), max: values.length ? max(values) : NaN };
}

/** The gateway's own account of a session's live cost (the session item's live* fields), when it gives one. */
function liveUsageOf(item: Record<string, unknown>): { audioSeconds: number; requests: number; partialRequests: number } | null {
  const number = (name: string) => (typeof item[name] === "number" ? (item[name] as number) : undefined);
  const audioSeconds = number("liveAudioSecondsBilled");
  if (audioSeconds === undefined) return null;
  return { audioSeconds, requests: number("liveRequests") ?? NaN, partialRequests: number("livePartialRequests") ?? NaN };
}

/** Whether more than half of the word (the provider's edge rule) was in an upload the stand-in misplaced. */
function misplacedAt(audit: LocatorAudit, recordingId: string, word: { start: number; end: number }): boolean {
  return audit.misplaced.some((upload) =>
    upload.placements.some((p) => p.recordingId === recordingId && (Math.min(p.end, word.end) - Math.max(p.start, word.start)) * 2 > word.end - word.start),
  );
}

function summarise(input: {
  meta: Pick<RealtimeBenchResult, "command" | "startedAt" | "finishedAt" | "machine" | "options">;
  sessions: Array<{ log: ClientLog; recording: Recording; label: string }>;
  stats: ProviderStats;
  audit: LocatorAudit;
  sample: GatewaySample;
  retained: RetainedHeap;
  items: Array<Record<string, unknown>>;
  cpu: RealtimeBenchResult["cpu"];
  windowSeconds: number;
}): RealtimeBenchResult {
  const { meta, sessions, stats, audit, sample, retained, items, cpu, windowSeconds } = input;
  const logs = sessions.map((s) => s.log);
  const scores = sessions.map((s) => scoreSession(s.log, s.recording.words, s.label));
  const all = <K extends "latency" | "endDetection" | "transcription" | "deltaGaps" | "firstDelta" | "betweenDeltas" | "deltasPerItem" | "itemSeconds">(key: K) =>
    scores.flatMap((s) => s[key]);
  const streamedSeconds = sum(logs.map((l) => l.audioSeconds));
  const itemSeconds = all("itemSeconds");
  const deltas = sum(all("deltasPerItem"));
  const usages = items.map(liveUsageOf).filter((u) => u !== null);
  const cpuMs = sample.cpuMs.user + sample.cpuMs.system;
  const errors = logs.flatMap((l) => l.errors);
  const lost = scores.flatMap((score, i) =>
    score.lost.map((word, k) => ({
      session: score.label,
      word: word.word,
      start: word.start,
      end: word.end,
      byStandIn: misplacedAt(audit, sessions[i].recording.id, word),
      heardNearby: score.heardNearLost[k],
    })),
  );
  return {
    ...meta,
    upstreamSeen: [...new Set(logs.map((l) => l.upstream))],
    sessions: {
      started: logs.filter((l) => l.sessionId).length,
      timedOut: logs.filter((l) => l.timedOut).length,
      errors: errors.length,
      firstErrors: errors.slice(0, 5),
      failures: sessions
        .flatMap(({ log, label }) => log.items.flatMap((it) => (it.failed ? [`${label}, ${it.start}-${it.end} s: ${it.failed}`] : [])))
        .slice(0, 5),
    },
    streamedSeconds,
    windowSeconds,
    utterances: {
      count: itemSeconds.length,
      failed: sum(scores.map((s) => s.failed)),
      unanswered: sum(scores.map((s) => s.unanswered)),
      meanSeconds: sum(itemSeconds) / Math.max(1, itemSeconds.length),
      maxSeconds: itemSeconds.length ? max(itemSeconds) : NaN,
    },
    latency: distribution(all("latency")),
    endDetection: distribution(all("endDetection")),
    transcription: distribution(all("transcription")),
    deltaGaps: distribution(all("deltaGaps")),
    firstDelta: distribution(all("firstDelta")),
    betweenDeltas: distribution(all("betweenDeltas")),
    deltas: { total: deltas, perUtterance: deltas / Math.max(1, itemSeconds.length), perUtteranceMinute: (deltas / Math.max(1e-9, sum(itemSeconds))) * 60 },
    words: {
      truth: sum(scores.map((s) => s.trueWords)),
      lost: lost.length,
      lostByStandIn: lost.filter((l) => l.byStandIn).length,
      extra: sum(scores.map((s) => s.extra.length)),
      lostList: lost.slice(0, 100),
    },
    locator: { uploads: audit.uploads, placed: audit.placed, misplaced: audit.misplaced.length, misplacedList: audit.misplaced.slice(0, 200) },
    billed: {
      provider: {
        audioSeconds: stats.audioSecondsBilled,
        requests: stats.requests,
        ratio: stats.audioSecondsBilled / streamedSeconds,
        maxInFlight: stats.maxInFlight,
        byStatus: stats.byStatus,
      },
      gateway: usages.length
        ? {
            audioSeconds: sum(usages.map((u) => u.audioSeconds)),
            requests: sum(usages.map((u) => u.requests)),
            partialRequests: sum(usages.map((u) => u.partialRequests)),
            ratio: sum(usages.map((u) => u.audioSeconds)) / streamedSeconds,
            sessions: usages.length,
          }
        : null,
    },
    gateway: {
      ...sample,
      cpuMsPerAudioSecond: cpuMs / streamedSeconds,
      corePercent: (cpuMs / sample.wallMs) * 100,
      corePercentPerSession: (cpuMs / sample.wallMs / meta.options.sessions) * 100,
      rssGrowthPerSessionMb: (sample.rssMb.peak - sample.rssMb.atMark) / meta.options.sessions,
      retainedHeapPerSessionMb: (retained.heapUsedMb - retained.heapAtMarkMb) / meta.options.sessions,
    },
    cpu,
  };
}

export function parseRealtimeArgs(argv: string[]): { options: RealtimeBenchOptions; json: string } {
  const value = (name: string) => argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const number = (name: string, fallback: number) => {
    const raw = value(name);
    if (raw === undefined) return fallback;
    const parsed = Number(raw);
    if (!Number.isFinite(parsed) || parsed <= 0) throw new Error(`--${name} must be a positive number, not '${raw}'`);
    return parsed;
  };
  const upstream = value("upstream") ?? DEFAULT_OPTIONS.upstream;
  if (upstream !== "http" && upstream !== "realtime") throw new Error(`--upstream must be http or realtime, not '${upstream}'`);
  const latencyRaw = value("latency");
  const latency = latencyRaw
    ? (([baseSeconds, perAudioSecond]) => ({ baseSeconds, perAudioSecond }))(latencyRaw.split(",").map(Number))
    : DEFAULT_OPTIONS.latency;
  if (!(latency.baseSeconds >= 0 && latency.perAudioSecond >= 0)) throw new Error(`--latency must be BASE,PER_SECOND (seconds), not '${latencyRaw}'`);
  return {
    options: {
      ...DEFAULT_OPTIONS,
      sessions: Math.round(number("sessions", DEFAULT_OPTIONS.sessions)),
      seconds: number("seconds", DEFAULT_OPTIONS.seconds),
      speed: number("speed", DEFAULT_OPTIONS.speed),
      upstream,
      latency,
      warmUp: !argv.includes("--no-warm-up"),
    },
    json: value("json") ?? fileURLToPath(new URL("./results/realtime-latest.json", import.meta.url)),
  };
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const { options, json } = parseRealtimeArgs(argv);
  const started = performance.now();
  const command = `npm run bench:realtime${argv.length ? ` -- ${argv.join(" ")}` : ""}`;
  const result = await runRealtimeBench(options, undefined, command);
  mkdirSync(dirname(json), { recursive: true });
  writeFileSync(json, JSON.stringify(result, null, 2));
  process.stdout.write(formatRealtimeReport(result));
  process.stderr.write(`\nrealtime bench finished in ${((performance.now() - started) / 60000).toFixed(1)} min; raw results in ${json}\n`);
  if (result.words.lost > 0) process.exitCode = 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
