/** The realtime benchmark as Markdown: each figure beside its target (BENCHMARKS.md, "Realtime"). */
import type { Distribution, RealtimeBenchResult } from "./realtime.js";
import { TURN_GAP_SECONDS, TURN_SECONDS, VOICES } from "./realtime-conversations.js";

const f = (value: number | null | undefined, digits = 1) => (value === null || value === undefined || !Number.isFinite(value) ? "n/a" : value.toFixed(digits));
const met = (ok: boolean) => (ok ? "met" : "**not met**");
const LOST_WORDS_SHOWN = 20;
const dist = (d: Distribution, digits = 2) => `${f(d.p50, digits)} / ${f(d.p95, digits)} / ${f(d.max, digits)} s`;

/** Targets of issue 13: HTTP-mode billing within 1.3x of the streamed audio, a delta at least every ~1.5 s while someone speaks. */
export const TARGETS = { billedRatio: 1.3, deltaGapSeconds: 1.5 };

export function formatRealtimeReport(r: RealtimeBenchResult): string {
  const lines: string[] = [];
  const out = (line = "") => lines.push(line);
  const o = r.options;
  const load = (l: number[]) => l.map((x) => x.toFixed(2)).join(", ");
  out(`### Realtime: ${o.sessions} sessions x ${o.seconds} s through the gateway (upstream ${o.upstream})`);
  out();
  out(`Command: \`${r.command}\`, ${r.startedAt} to ${r.finishedAt}`);
  out(`Machine: ${r.machine.cpus} x ${r.machine.cpuModel}, ${f(r.machine.memoryGb, 0)} GB, Node ${r.machine.node}; load average (1, 5, 15 min) ${load(r.machine.loadBefore)} before, ${load(r.machine.loadAfter)} after`);
  out();
  out(
    `Each session streams its own generated ${VOICES}-voice conversation (turns of ${TURN_SECONDS.join("-")} s, pauses of ${TURN_GAP_SECONDS.join("-")} s) ` +
      `in 256 ms appends at ${o.speed}x; ` +
      `provider latency ${o.latency.baseSeconds} s + ${o.latency.perAudioSecond} s per audio second. Streamed ${f(r.streamedSeconds, 0)} s of audio in ` +
      `${r.utterances.count} utterances (mean ${f(r.utterances.meanSeconds)} s, longest ${f(r.utterances.maxSeconds)} s); window ${f(r.windowSeconds)} s ` +
      `(first connection to the last session answered). Upstream reported by the sessions: ${r.upstreamSeen.join(", ")}.`,
  );
  out();
  const billedOk = r.billed.provider.ratio <= TARGETS.billedRatio;
  const gapOk = r.deltaGaps.p95 <= TARGETS.deltaGapSeconds;
  const g = r.gateway;
  out("| figure | measured | target |");
  out("|---|---|---|");
  out(`| completed-event latency p50 / p95 / max (the append holding the utterance's last sample sent -> completed received) | ${dist(r.latency)} | |`);
  out(`| - end detection (-> speech_stopped received; the VAD's 500 ms hangover) p50 / p95 / max | ${dist(r.endDetection)} | |`);
  out(`| - transcription (speech_stopped -> completed: provider request and gateway) p50 / p95 / max | ${dist(r.transcription)} | |`);
  out(`| words lost (true words in no completed event) | ${r.words.lost} of ${r.words.truth} | 0: ${met(r.words.lost === 0)} |`);
  out(
    `| - inside a piece the provider stand-in misplaced (its locator heard other words there than the audio holds; ${r.locator.misplaced} of ${r.locator.placed} pieces) | ${r.words.lostByStandIn} | |`,
  );
  out(`| - elsewhere (not sent, split, or dropped by the gateway) | ${r.words.lost - r.words.lostByStandIn} | 0: ${met(r.words.lost === r.words.lostByStandIn)} |`);
  out(`| words heard twice or invented | ${r.words.extra} | |`);
  out(`| gaps between deltas while someone speaks p50 / p95 / max (speech_started -> delta -> ... -> the utterance's last audio sent) | ${dist(r.deltaGaps)} | p95 <= ~${TARGETS.deltaGapSeconds} s: ${o.upstream === "http" ? met(gapOk) : "n/a (relay: no speech events)"} |`);
  out(`| - the first (speech_started -> first delta) p50 / p95 / max | ${dist(r.firstDelta)} | |`);
  out(`| - from one delta to the next p50 / p95 / max | ${dist(r.betweenDeltas)} | |`);
  out(`| deltas per utterance (per minute of utterance audio) | ${f(r.deltas.perUtterance)} (${f(r.deltas.perUtteranceMinute, 0)}) | |`);
  out(
    `| billed audio / streamed audio, provider's count | ${f(r.billed.provider.ratio, 2)}x (${f(r.billed.provider.audioSeconds, 0)} s in ${r.billed.provider.requests} requests, up to ${r.billed.provider.maxInFlight} at once) | ${o.upstream === "http" ? `<= ${TARGETS.billedRatio}x: ${met(billedOk)}` : "(relay: the stand-in's own requests)"} |`,
  );
  const gw = r.billed.gateway;
  out(
    `| same, the gateway's own count (session items) | ${gw ? `${f(gw.ratio, 2)}x (${f(gw.audioSeconds, 0)} s, ${f(gw.requests, 0)} requests of which ${f(gw.partialRequests, 0)} partial; ${gw.sessions} sessions)` : "n/a (the session items carry no live usage)"} | |`,
  );
  out(`| gateway CPU per session | ${f(g.cpuMsPerAudioSecond, 2)} ms per audio second; ${f(g.corePercentPerSession, 2)} % of a core (all ${o.sessions}: ${f(g.corePercent, 0)} %) | |`);
  out(
    `| gateway memory per session | RSS +${f(g.rssGrowthPerSessionMb, 2)} MB (${f(g.rssMb.atMark, 0)} MB at the baseline, peak ${f(g.rssMb.peak, 0)} MB); heap after GC +${f(g.retainedHeapPerSessionMb, 2)} MB | |`,
  );
  out(`| gateway event-loop delay p50 / p99 / max | ${f(g.eventLoopDelayMs.p50, 0)} / ${f(g.eventLoopDelayMs.p99, 0)} / ${f(g.eventLoopDelayMs.max, 0)} ms | |`);
  out(`| failed / unanswered utterances; errors; sessions timed out | ${r.utterances.failed} / ${r.utterances.unanswered}; ${r.sessions.errors}; ${r.sessions.timedOut} | 0 |`);
  out();
  const c = r.cpu;
  const total = c.gateway + c.provider + c.providerFfmpeg + c.emulators + c.clients;
  out("CPU seconds over the window, per process (this machine's cores x window = what was available):");
  out();
  out("| gateway | provider stand-in | its ffmpeg | emulators | clients | total | available |");
  out("|---|---|---|---|---|---|---|");
  out(`| ${f(c.gateway)} | ${f(c.provider)} | ${f(c.providerFfmpeg)} | ${f(c.emulators)} | ${f(c.clients)} | ${f(total)} | ${f(c.available)} |`);
  out();
  if (r.words.lost > 0) {
    const shown = r.words.lostList
      .slice(0, LOST_WORDS_SHOWN)
      .map((w) => `${w.session} "${w.word}" ${f(w.start, 2)}-${f(w.end, 2)}${w.byStandIn ? "" : " (not the stand-in)"}`);
    const more = r.words.lost > shown.length ? `; the first ${shown.length}, the JSON has ${r.words.lostList.length} with what was heard near each` : "";
    out(`Lost words (session's conversation, word, seconds${more}): ${shown.join("; ")}`);
    out();
  }
  if (r.sessions.failures.length > 0) {
    const statuses = Object.entries(r.billed.provider.byStatus).map(([k, v]) => `${k}: ${v}`).join(", ");
    out(`Failed utterances: ${r.sessions.failures.join("; ")} (provider answers by status: ${statuses})`);
    out();
  }
  if (r.sessions.errors > 0) {
    out(`Errors: ${r.sessions.firstErrors.map((e) => `${e.code}: ${e.message}`).join("; ")}`);
    out();
  }
  return `${lines.join("\n")}\n`;
}
