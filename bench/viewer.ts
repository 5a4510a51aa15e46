/**
 * `npm run bench:viewer [-- --write] [-- --json=PATH]`: the transcript viewer on a 4-hour transcript, measured in
 * a real browser (Debian's chromium, via playwright-core; STT_CHROMIUM overrides the path).
 *
 * The transcript is made up (test/support/synthetic-transcript.ts: 4 speakers, ~40k words, ~3000 turns of
 * realistic lengths): no pipeline runs. Its page is the one `stt up` serves, from the real viewer server over
 * in-memory jobs and objects, and the static `transcript.html` (the same page with the five outputs inside)
 * is measured for its size and load. Prints a Markdown section; `--write` puts it into BENCHMARKS.md between
 * its `viewer` markers.
 */
import { existsSync, readFileSync, writeFileSync, mkdtempSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Readable } from "node:stream";
import { chromium, type Browser, type Page } from "playwright-core";
import { FOUR_HOURS, syntheticTranscript } from "../test/support/synthetic-transcript.js";
import { renderTranscript } from "../shared/domain/formats/index.js";
import { OUTPUT_FORMATS, type OutputFormat } from "../shared/domain/types.js";
import { renderStaticTranscriptPage } from "../shared/viewer/transcript-page.js";
import { startViewerServer } from "../local/viewer-server.js";
import type { JobRecord } from "../shared/adapters/job-store.js";

/*
 * The browser globals the page-side functions below use (they run in chromium, passed by page.evaluate):
 * declared for this module only, since the project's TypeScript has no DOM library.
 */
interface ScrollBox {
  scrollTop: number;
  scrollHeight: number;
  clientHeight: number;
}
declare const window: Record<string, unknown>;
declare const document: {
  getElementById(id: string): ScrollBox | null;
  getElementsByTagName(tag: string): { length: number };
  body: { offsetHeight: number };
};
declare const requestAnimationFrame: (callback: (time: number) => void) => number;
declare const performance: {
  now(): number;
  getEntriesByName(name: string): Array<{ startTime: number }>;
  getEntriesByType(type: "navigation"): Array<{ responseEnd: number; domContentLoadedEventEnd: number }>;
};

const CHROMIUM = process.env.STT_CHROMIUM || "/usr/bin/chromium";
const WRITE = process.argv.includes("--write");
const JSON_PATH = process.argv.find((a) => a.startsWith("--json="))?.slice("--json=".length);
/** Pixels per wheel notch burst, and one frame between bursts: a fast, steady scroll. */
const WHEEL_PX = 400;
const SCROLL_PASSES = 3;
const VIEWPORT = { width: 1280, height: 800 };

interface PageFigures {
  htmlBytes: number;
  /** From navigation start. */
  responseEndMs: number;
  domContentLoadedMs: number;
  firstContentfulPaintMs: number;
  /** The transcript's first words built (`stt:rendered`) and the frame after it (`stt:painted`). */
  transcriptRenderedMs: number;
  transcriptPaintedMs: number;
  heapAfterLoadMB: number;
  domNodesAfterLoad: number;
  /** Long tasks from navigation to the transcript painted: the HTML's parse and the script's start. */
  loadLongTaskMaxMs: number;
}

function quantile(sorted: number[], q: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

/** In every page before its own scripts: long tasks (buffered) and, when asked, every frame's time. */
const INSTRUMENT = `
  // tsx compiles this file keeping function names (a __name helper): functions passed to page.evaluate need it.
  window.__name = window.__name || ((fn) => fn);
  window.__longtasks = [];
  new PerformanceObserver((list) => { for (const e of list.getEntries()) window.__longtasks.push({ start: e.startTime, duration: e.duration }); })
    .observe({ type: "longtask", buffered: true });
  window.__frames = [];
  window.__recordFrames = false;
  const frame = (t) => { if (window.__recordFrames) window.__frames.push(t); requestAnimationFrame(frame); };
  requestAnimationFrame(frame);
`;

async function loadFigures(page: Page, url: string, htmlBytes: number): Promise<PageFigures> {
  await page.goto(url);
  await page.waitForFunction(() => performance.getEntriesByName("stt:painted").length > 0, undefined, { timeout: 60_000 });
  const timing = await page.evaluate(() => {
    const nav = performance.getEntriesByType("navigation")[0];
    const mark = (name: string) => performance.getEntriesByName(name)[0]?.startTime ?? NaN;
    const fcp = performance.getEntriesByName("first-contentful-paint")[0]?.startTime ?? NaN;
    return {
      responseEndMs: nav.responseEnd,
      domContentLoadedMs: nav.domContentLoadedEventEnd,
      firstContentfulPaintMs: fcp,
      transcriptRenderedMs: mark("stt:rendered"),
      transcriptPaintedMs: mark("stt:painted"),
      domNodesAfterLoad: document.getElementsByTagName("*").length,
      loadLongTaskMaxMs: Math.max(0, ...(window.__longtasks as Array<{ duration: number }>).map((t) => t.duration)),
    };
  });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("HeapProfiler.collectGarbage");
  const heap = (await cdp.send("Runtime.getHeapUsage")) as { usedSize: number };
  await cdp.detach();
  return { htmlBytes, ...timing, heapAfterLoadMB: heap.usedSize / 1048576 };
}

interface ScrollFigures {
  wheels: number;
  seconds: number;
  scrolledPx: number;
  longTasks: number;
  longTasksOver50: number;
  longTaskMaxMs: number;
  frameP50Ms: number;
  frameP95Ms: number;
  frameMaxMs: number;
  maxRenderedWords: number;
  reachedEnd: boolean;
  /** The page's own work per window update (chunks built and dropped, layout read): `stt:window` measures. */
  windowUpdates: number;
  windowUpdateP95Ms: number;
  windowUpdateMaxMs: number;
}

/** Wheel from the top to the bottom of the transcript, one burst per frame, recording frames and long tasks. */
async function scrollFigures(page: Page): Promise<ScrollFigures> {
  const box = (await page.locator("#transcript").boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await page.evaluate(() => {
    const w = window as unknown as { __longtasks: unknown[]; __frames: number[]; __recordFrames: boolean };
    w.__longtasks = [];
    w.__frames = [];
    w.__recordFrames = true;
    (performance as unknown as { clearMeasures(name: string): void }).clearMeasures("stt:window");
  });
  const state = () =>
    page.evaluate(() => {
      const main = document.getElementById("transcript")!;
      const viewer = (window as unknown as { sttViewer: { renderedWords(): number } }).sttViewer;
      return { top: main.scrollTop, max: main.scrollHeight - main.clientHeight, rendered: viewer.renderedWords() };
    });
  const began = Date.now();
  let wheels = 0;
  let maxRendered = 0;
  let now = await state();
  let stuck = 0;
  while (now.top < now.max - 1 && stuck < 20) {
    await page.mouse.wheel(0, WHEEL_PX);
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(resolve)));
    wheels++;
    const next = await state();
    stuck = next.top === now.top ? stuck + 1 : 0;
    now = next;
    maxRendered = Math.max(maxRendered, now.rendered);
  }
  const seconds = (Date.now() - began) / 1000;
  const recorded = await page.evaluate(() => {
    const w = window as unknown as { __longtasks: Array<{ duration: number }>; __frames: number[]; __recordFrames: boolean };
    w.__recordFrames = false;
    const updates = performance.getEntriesByName("stt:window") as unknown as Array<{ duration: number }>;
    return { longtasks: w.__longtasks.map((t) => t.duration), frames: w.__frames, updates: updates.map((u) => u.duration) };
  });
  const updates = recorded.updates.sort((a, b) => a - b);
  const deltas = recorded.frames.slice(1).map((t, i) => t - recorded.frames[i]).sort((a, b) => a - b);
  return {
    wheels,
    seconds,
    scrolledPx: now.top,
    longTasks: recorded.longtasks.length,
    longTasksOver50: recorded.longtasks.filter((d) => d > 50).length,
    longTaskMaxMs: recorded.longtasks.length ? Math.max(...recorded.longtasks) : 0,
    frameP50Ms: quantile(deltas, 0.5),
    frameP95Ms: quantile(deltas, 0.95),
    frameMaxMs: deltas.length ? deltas[deltas.length - 1] : NaN,
    maxRenderedWords: maxRendered,
    reachedEnd: now.top >= now.max - 1,
    windowUpdates: updates.length,
    windowUpdateP95Ms: quantile(updates, 0.95),
    windowUpdateMaxMs: updates.length ? updates[updates.length - 1] : NaN,
  };
}

interface InteractionFigures {
  query: string;
  hits: number;
  /** The first search also lowers and strips every word once. */
  firstSearchMs: number;
  searchMs: number;
  /** One highlight update (binary search + two class changes), playing through a rendered stretch at 60 fps. */
  highlightMeanUs: number;
  /** The same, at random times anywhere in the 4 hours (mostly words not in the page). */
  highlightRandomMeanUs: number;
  /** Timeline click to a far word: its chunk built and scrolled into view, layout included. */
  revealMs: number;
}

interface TracedFigures {
  /** Renderer main-thread tasks over 50 ms of wall time in the traced pass. */
  longTasks: number;
  longestWallMs: number;
  /** The most CPU time the main thread spent in any one of them: wall time far above it is time the thread waited for a core. */
  longestTaskCpuMs: number;
  /** The most CPU time of any task in the pass. */
  maxTaskCpuMs: number;
}

/** One more pass under a Chromium trace: how much of each long task the main thread actually ran. */
async function tracedPass(page: Page, browser: Browser): Promise<TracedFigures> {
  await page.locator("#transcript").evaluate((main: ScrollBox) => (main.scrollTop = 0));
  await page.waitForTimeout(500);
  const path = join(mkdtempSync(join(tmpdir(), "stt-viewer-trace-")), "trace.json");
  await browser.startTracing(page, { path, categories: ["devtools.timeline", "disabled-by-default-devtools.timeline"] });
  await scrollFigures(page);
  await browser.stopTracing();
  type TraceEvent = { name: string; ph: string; pid: number; tid: number; dur?: number; tdur?: number; args?: { name?: string } };
  const trace = JSON.parse(readFileSync(path, "utf8")) as { traceEvents: TraceEvent[] } | TraceEvent[];
  const events = Array.isArray(trace) ? trace : trace.traceEvents;
  const mains = new Set(events.filter((e) => e.name === "thread_name" && e.args?.name === "CrRendererMain").map((e) => `${e.pid}:${e.tid}`));
  const tasks = events.filter((e) => e.ph === "X" && e.name === "RunTask" && mains.has(`${e.pid}:${e.tid}`));
  const long = tasks.filter((e) => (e.dur ?? 0) > 50_000);
  return {
    longTasks: long.length,
    longestWallMs: Math.max(0, ...long.map((e) => (e.dur ?? 0) / 1000)),
    longestTaskCpuMs: Math.max(0, ...long.map((e) => (e.tdur ?? 0) / 1000)),
    maxTaskCpuMs: Math.max(0, ...tasks.map((e) => (e.tdur ?? 0) / 1000)),
  };
}

async function interactionFigures(page: Page, query: string): Promise<InteractionFigures> {
  return page.evaluate((q) => {
    type Viewer = {
      words: number;
      search(q: string): { hits: number; ms: number };
      highlightAt(seconds: number): number;
      reveal(i: number): void;
      wordStart(i: number): number;
    };
    const viewer = (window as unknown as { sttViewer: Viewer }).sttViewer;
    const first = viewer.search(q);
    const runs: number[] = [];
    let hits = 0;
    for (let i = 0; i < 5; i++) {
      const r = viewer.search(q);
      runs.push(r.ms);
      hits = r.hits;
    }
    viewer.search("");
    runs.sort((a, b) => a - b);
    // Playing: 60 updates a second through the words around the middle.
    const middle = Math.floor(viewer.words / 2);
    viewer.reveal(middle);
    const from = viewer.wordStart(middle);
    const steps = 3000;
    let began = performance.now();
    for (let i = 0; i < steps; i++) viewer.highlightAt(from + i / 60);
    const playing = ((performance.now() - began) * 1000) / steps;
    const duration = viewer.wordStart(viewer.words - 1);
    began = performance.now();
    for (let i = 0; i < steps; i++) viewer.highlightAt(Math.random() * duration);
    const random = ((performance.now() - began) * 1000) / steps;
    // A far jump, as a timeline click makes it.
    const far = Math.floor(viewer.words * 0.9);
    began = performance.now();
    viewer.reveal(far);
    void document.body.offsetHeight;
    const reveal = performance.now() - began;
    return {
      query: q,
      hits,
      firstSearchMs: first.ms,
      searchMs: runs[Math.floor(runs.length / 2)],
      highlightMeanUs: playing,
      highlightRandomMeanUs: random,
      revealMs: reveal,
    };
  }, query);
}

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: apt-get install chromium (or set STT_CHROMIUM)`);
  const transcript = syntheticTranscript(FOUR_HOURS);
  const outputs = Object.fromEntries(OUTPUT_FORMATS.map((f) => [f, renderTranscript(transcript, f)])) as Record<OutputFormat, string>;
  const jobId = "b0b0b0b0b0b0b0b0b0b0b0b0";
  const job: JobRecord = {
    jobId,
    status: "COMPLETED",
    source: { bucket: "in", key: "board-offsite-4h.m4a" },
    options: {},
    createdAt: new Date().toISOString(),
    updatedAt: new Date().toISOString(),
    duration: transcript.duration,
    speakers: transcript.speakers,
    wordCount: transcript.words.length,
    speakerNames: { SPEAKER_00: "Ada", SPEAKER_01: "Grace" },
    outputs: Object.fromEntries(OUTPUT_FORMATS.map((f) => [f, `jobs/${jobId}/${f}`])),
  };
  const objects = new Map(OUTPUT_FORMATS.map((f) => [`jobs/${jobId}/${f}`, Buffer.from(outputs[f])]));
  const server = await startViewerServer({
    jobs: { get: async (id) => (id === jobId ? job : undefined), recentJobs: async () => [job] },
    objects: {
      head: async (_bucket, key) => (objects.has(key) ? { size: objects.get(key)!.length } : undefined),
      read: async (_bucket, key, range) => {
        const bytes = objects.get(key)!;
        return Readable.from([range ? bytes.subarray(range.start, range.end + 1) : bytes]);
      },
    },
    outputBucket: "out",
    port: 0,
  });
  const staticHtml = renderStaticTranscriptPage({ job, transcriptJson: outputs.verbose_json, outputs });
  const staticFile = join(mkdtempSync(join(tmpdir(), "stt-viewer-bench-")), "transcript.html");
  writeFileSync(staticFile, staticHtml);
  const served = await fetch(server.jobUrl(jobId)).then((r) => r.text());

  const browser = await chromium.launch({ executablePath: CHROMIUM });
  try {
    const version = browser.version();
    const newPage = async () => {
      const page = await browser.newPage({ viewport: VIEWPORT });
      await page.addInitScript(INSTRUMENT);
      page.on("pageerror", (error) => {
        throw error;
      });
      return page;
    };
    // One unmeasured load, so the browser's own first-run costs are not the page's.
    const warm = await newPage();
    await warm.goto(server.jobUrl(jobId));
    await warm.close();

    const page = await newPage();
    const load = await loadFigures(page, server.jobUrl(jobId), Buffer.byteLength(served));
    // Three passes: on a shared machine one pass can be starved by other processes; all three are reported.
    const scroll: ScrollFigures[] = [];
    for (let pass = 0; pass < SCROLL_PASSES; pass++) {
      await page.locator("#transcript").evaluate((main: ScrollBox) => (main.scrollTop = 0));
      await page.waitForTimeout(500);
      scroll.push(await scrollFigures(page));
    }
    const traced = await tracedPass(page, browser);
    const interact = await interactionFigures(page, "the");
    const rare = await interactionFigures(page, "compliance");
    await page.close();

    const staticPage = await newPage();
    const staticLoad = await loadFigures(staticPage, pathToFileURL(staticFile).href, Buffer.byteLength(staticHtml));
    await staticPage.close();

    const results = {
      when: new Date().toISOString(),
      loadAverage: loadavg()[0],
      chromium: version,
      transcript: { words: transcript.words.length, turns: transcript.segments.length, speakers: transcript.speakers.length, hours: transcript.duration / 3600 },
      served: load,
      static: staticLoad,
      scroll,
      traced,
      search: { common: interact, rare },
    };
    if (JSON_PATH) writeFileSync(JSON_PATH, JSON.stringify(results, null, 2));
    const section = report(results);
    process.stdout.write(`${section}\n`);
    if (WRITE) writeSection(section);
  } finally {
    await browser.close();
    await server.close();
  }
}

type Results = {
  when: string;
  loadAverage: number;
  chromium: string;
  transcript: { words: number; turns: number; speakers: number; hours: number };
  served: PageFigures;
  static: PageFigures;
  scroll: ScrollFigures[];
  traced: TracedFigures;
  search: { common: InteractionFigures; rare: InteractionFigures };
};

const f0 = (n: number) => n.toFixed(0);
const f1 = (n: number) => n.toFixed(1);
const mb = (bytes: number) => (bytes / 1048576).toFixed(1);

function report(r: Results): string {
  const { served, scroll } = r;
  const first = scroll[0];
  const perPass = (f: (s: ScrollFigures) => string) => scroll.map(f).join(" · ");
  const c = r.search.common;
  const lines = [
    "<!-- viewer:start -->",
    "## Viewer",
    "",
    `Command: \`npm run bench:viewer\` (${r.when.slice(0, 16).replace("T", " ")} UTC, load average ${r.loadAverage.toFixed(1)} on ${cpus().length} cores, ` +
      `Chromium ${r.chromium} headless, ${VIEWPORT.width}x${VIEWPORT.height}; ` +
      "`-- --write` puts this section here, `-- --json=PATH` keeps the raw figures).",
    `A made-up ${r.transcript.hours.toFixed(0)}-hour transcript (\`test/support/synthetic-transcript.ts\`: ${r.transcript.speakers} speakers, ` +
      `${r.transcript.words.toLocaleString("en")} words, ${r.transcript.turns.toLocaleString("en")} turns of 1-64 words), its page served by the viewer server ` +
      "as `stt up` serves it, opened in Debian's chromium through playwright-core. Times from navigation start; the scroll is " +
      `mouse-wheel bursts of ${WHEEL_PX} px, one per frame, from the top to the last word; long tasks from a \`longtask\` ` +
      "PerformanceObserver, frames from a requestAnimationFrame loop; heap after a forced GC (CDP).",
    "",
    "| measure | 4-hour transcript |",
    "|---|---|",
    `| page size (served / static \`transcript.html\` with the 5 outputs inside) | ${mb(served.htmlBytes)} MB / ${mb(r.static.htmlBytes)} MB |`,
    `| first contentful paint | ${f0(served.firstContentfulPaintMs)} ms |`,
    `| longest task while loading (served / static) | ${f0(served.loadLongTaskMaxMs)} ms / ${f0(r.static.loadLongTaskMaxMs)} ms |`,
    `| transcript's first words painted (served / static) | ${f0(served.transcriptPaintedMs)} ms / ${f0(r.static.transcriptPaintedMs)} ms (built at ${f0(served.transcriptRenderedMs)} ms; HTML received at ${f0(served.responseEndMs)} ms) |`,
    `| JS heap after load (served / static) | ${f1(served.heapAfterLoadMB)} MB / ${f1(r.static.heapAfterLoadMB)} MB |`,
    `| DOM elements after load | ${served.domNodesAfterLoad.toLocaleString("en")} (at most ${Math.max(...scroll.map((s) => s.maxRenderedWords)).toLocaleString("en")} of the ${r.transcript.words.toLocaleString("en")} words in the page while scrolling) |`,
    `| scroll top to bottom (${scroll.length} passes) | ${(first.scrolledPx / 1000).toFixed(0)}k px in ${first.wheels} wheel bursts; ${perPass((s) => `${f1(s.seconds)} s${s.reachedEnd ? "" : " (did not reach the end)"}`)} |`,
    `| long tasks during the scroll, per pass: over 50 ms (longest) | ${perPass((s) => `${s.longTasksOver50} (${s.longTasks ? `${f0(s.longTaskMaxMs)} ms` : "none"})`)} |`,
    `| a 4th pass under a Chromium trace: tasks over 50 ms of wall time; the most main-thread CPU time one of them used; the most any task used | ${r.traced.longTasks}${r.traced.longTasks ? ` (longest ${f0(r.traced.longestWallMs)} ms)` : ""}; ${r.traced.longTasks ? `${f1(r.traced.longestTaskCpuMs)} ms` : "-"}; ${f1(r.traced.maxTaskCpuMs)} ms |`,
    `| frame time during the scroll, per pass: p50 / p95 / max | ${perPass((s) => `${f1(s.frameP50Ms)} / ${f1(s.frameP95Ms)} / ${f0(s.frameMaxMs)} ms`)} |`,
    `| the page's own work per window update (build/drop chunks, measure), per pass: p95 / max | ${perPass((s) => `${f1(s.windowUpdateP95Ms)} / ${f1(s.windowUpdateMaxMs)} ms`)} (${first.windowUpdates} updates a pass) |`,
    `| search "${c.query}" (${c.hits.toLocaleString("en")} hits): first / median of 5 more | ${f1(c.firstSearchMs)} ms / ${f1(c.searchMs)} ms (marks in the text and ticks on the timeline included) |`,
    `| search "${r.search.rare.query}" (${r.search.rare.hits} hits) | ${f1(r.search.rare.searchMs)} ms |`,
    `| highlight update while playing (binary search + class swap) | ${f1(c.highlightMeanUs)} µs per frame; at random times ${f1(c.highlightRandomMeanUs)} µs |`,
    `| jump to a far word (timeline click: build its chunk, scroll, layout) | ${f1(c.revealMs)} ms |`,
    "",
    "Reading the scroll rows: when the machine is shared (a load average above its core count), the browser's main " +
      "thread is preempted, and some passes show long tasks and late frames while the page's own work per window " +
      "update (the `stt:window` measures around every IntersectionObserver callback) stays where it was. The traced " +
      "pass tells the two apart: a task's wall time against the CPU time its thread got (`tdur` in the trace).",
    "",
    "How it stays fast (`shared/viewer/client-script.ts`): the turns are grouped in chunks of about 160 words; a chunk " +
      "holds its words only while an IntersectionObserver sees it within 1.5 screens of the view, else it is an empty box " +
      "of its measured (or estimated, from its characters and the measured line metrics) height, and Chromium's scroll " +
      "anchoring keeps the view still when an estimate is corrected. The current word is found by binary search on an " +
      "Int32Array of word starts; clicks are handled by one listener per area, not one per word.",
    "<!-- viewer:end -->",
  ];
  return lines.join("\n");
}

/** Replaces the section between its markers in BENCHMARKS.md, or appends it. */
function writeSection(section: string): void {
  const path = new URL("../BENCHMARKS.md", import.meta.url);
  const text = readFileSync(path, "utf8");
  const start = text.indexOf("<!-- viewer:start -->");
  const end = text.indexOf("<!-- viewer:end -->");
  const next =
    start >= 0 && end > start
      ? text.slice(0, start) + section + text.slice(end + "<!-- viewer:end -->".length)
      : `${text.replace(/\n*$/, "\n")}\n${section}\n`;
  writeFileSync(path, next);
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exitCode = 1;
});
