/**
 * The transcript viewer as a person uses it, in a real browser (Debian's chromium, driven by playwright-core):
 * a short conversation through the real pipeline on the local stack, its page served by the viewer server,
 * then clicks, typing and downloads, checked against the player, the page and the stored outputs.
 */
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { chromium, type Browser, type Page } from "playwright-core";
import { buildConversation, encodeRecording, type Recording } from "../audio/conversation.js";
import { startHarness, type Harness } from "../support/harness.js";
import { syntheticTranscript } from "../support/synthetic-transcript.js";
import { s3ViewerObjects, startViewerServer, type ViewerServer } from "../../local/viewer-server.js";
import { renameSpeaker } from "../../shared/pipeline/rename-speaker.js";
import { renderTranscript } from "../../shared/domain/formats/index.js";
import { renderStaticTranscriptPage } from "../../shared/viewer/transcript-page.js";
import { clockTime } from "../../shared/viewer/html.js";
import { OUTPUT_FORMATS, type OutputFormat, type Transcript } from "../../shared/domain/types.js";
import type { JobRecord } from "../../shared/adapters/job-store.js";

const CHROMIUM = process.env.STT_CHROMIUM || "/usr/bin/chromium";
const haveChromium = existsSync(CHROMIUM);
if (!haveChromium && !process.env.CI) {
  console.warn(`viewer browser tests skipped: no chromium at ${CHROMIUM}; apt-get install chromium (or set STT_CHROMIUM to a Chromium binary)`);
}

describe.runIf(!haveChromium && process.env.CI)("the transcript viewer under CI", () => {
  it("has a browser to test with", () => {
    throw new Error(`no chromium at ${CHROMIUM}: CI must apt-get install chromium (or set STT_CHROMIUM)`);
  });
});

/** What the tests use of the page's <audio> (the project's TypeScript has no DOM types). */
interface AudioElement {
  currentTime: number;
  paused: boolean;
  src: string;
  pause(): void;
  addEventListener(type: string, listener: () => void, options?: { once: boolean }): void;
}
const player = (page: Page) => page.locator("#audio");

/** Launches Debian's chromium (never a downloaded one); audio may play without a gesture, as after a click. */
function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ["--autoplay-policy=no-user-gesture-required", "--mute-audio"] });
}

describe.runIf(haveChromium)("the transcript viewer, in chromium", () => {
  let harness: Harness;
  let conversation: Recording;
  let viewer: ViewerServer;
  let browser: Browser;
  let job: JobRecord;
  let page: Page;
  let workDir: string;

  const output = async (format: OutputFormat): Promise<string> => {
    const out = await harness.stack.clients.s3.send(
      new GetObjectCommand({ Bucket: harness.stack.resources.buckets.output, Key: job.outputs![format] }),
    );
    return out.Body!.transformToString();
  };
  const verbose = async () => JSON.parse(await output("verbose_json")) as Transcript & { speaker_names?: Record<string, string> };

  beforeAll(async () => {
    harness = await startHarness({ chunkSeconds: 20, overlapSeconds: 4, transcriberConcurrency: 4 });
    conversation = buildConversation({ seed: 17, voices: 3, durationSeconds: 45, style: "quick-turns" });
    harness.provider.addRecording(conversation);
    workDir = mkdtempSync(join(tmpdir(), "stt-viewer-"));
    // WAV, so the browser plays and seeks the very file that was transcribed.
    const file = join(workDir, "standup.wav");
    await encodeRecording(conversation, file, "wav");
    const run = await harness.transcribe(file, {}, "verbose_json");
    expect(run.code, run.stderr).toBe(0);
    job = run.job!;
    viewer = await startViewerServer({
      jobs: harness.stack.ctx.jobs,
      objects: s3ViewerObjects(harness.stack.clients.s3),
      outputBucket: harness.stack.resources.buckets.output,
      renameSpeaker: (jobId, speakerId, name) => renameSpeaker(harness.stack.ctx, jobId, speakerId, name),
      port: 0,
    });
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
    const errors: string[] = [];
    page.on("pageerror", (error) => errors.push(error.message));
    await page.goto(viewer.jobUrl(job.jobId));
    await page.waitForSelector(".w");
    expect(errors).toEqual([]);
  }, 240_000);

  afterAll(async () => {
    await browser?.close();
    await viewer?.close();
    await harness?.close();
  });

  it("lists the job on the job list, with its status, duration and speakers", async () => {
    // Act
    const list = await browser.newPage();
    await list.goto(`${viewer.url}/`);

    // Assess
    const row = list.locator("tr", { has: list.locator(`a[href="/jobs/${job.jobId}"]`) });
    await expect.poll(() => row.count()).toBe(1);
    expect(await row.locator(".badge").textContent()).toBe("COMPLETED");
    const cells = await row.locator("td").allTextContents();
    expect(cells[3]).toBe(clockTime(job.duration!));
    expect(cells[4]).toBe(String(job.speakers!.length));
    await list.close();
  });

  it("plays from a clicked word, its start within 50 ms, and highlights the word being said", async () => {
    // Prepare: a word a few seconds in
    const transcript = await verbose();
    const index = transcript.words.findIndex((w) => w.start > 8);
    const start = transcript.words[index].start;

    // Act: listen for the seek, then click the word
    const seekedAt = player(page).evaluate(
      (audio: AudioElement) => new Promise<number>((resolve) => audio.addEventListener("seeked", () => resolve(audio.currentTime), { once: true })),
    );
    await page.locator(`.w[data-i="${index}"]`).click();

    // Assess: the player is at the word, the word is marked, and playing moves the mark on
    expect(Math.abs((await seekedAt) - start)).toBeLessThanOrEqual(0.05);
    expect(await page.locator(".w.current").getAttribute("data-i")).toBe(String(index));
    await expect.poll(() => player(page).evaluate((audio: AudioElement) => !audio.paused && audio.currentTime > 0)).toBe(true);
    await expect
      .poll(async () => Number(await page.locator(".w.current").getAttribute("data-i")), { timeout: 10_000 })
      .toBeGreaterThan(index);
    await player(page).evaluate((audio: AudioElement) => audio.pause());
  });

  it("renames a speaker inline: the page, the verbose json, the txt and the job record all say the name", async () => {
    // Prepare
    const speaker = job.speakers![1];
    const legendItem = page.locator(".legend li", { hasText: speaker });

    // Act
    await legendItem.locator("button.rename").click();
    const input = page.locator(".legend input");
    await input.fill("  Grace <Hopper>  ");
    await input.press("Enter");

    // Assess: the page
    await expect.poll(() => page.locator("#status").textContent()).toContain("is now Grace <Hopper>");
    expect(await page.locator(".legend li", { hasText: "Grace <Hopper>" }).count()).toBe(1);
    expect(await page.locator(".tl-labels span", { hasText: "Grace <Hopper>" }).count()).toBe(1);
    const headers = await page.locator(".who .name").allTextContents();
    expect(headers).toContain("Grace <Hopper>");
    expect(headers).not.toContain(speaker);
    // Assess: the outputs and the record
    const transcript = await verbose();
    expect(transcript.speaker_names).toEqual({ [speaker]: "Grace <Hopper>" });
    expect(await output("text")).toContain("Grace <Hopper>: ");
    expect((await harness.stack.ctx.jobs.get(job.jobId))?.speakerNames).toEqual({ [speaker]: "Grace <Hopper>" });
    // Assess: a fresh load shows the name, as text
    await page.reload();
    await page.waitForSelector(".w");
    expect(await page.locator(".legend li", { hasText: "Grace <Hopper>" }).count()).toBe(1);
    expect(await page.locator("hopper").count()).toBe(0);
  });

  it("refuses a bad name with the pipeline's reason, and keeps the old one", async () => {
    // Act
    const speaker = job.speakers![0];
    await page.locator(".legend li", { hasText: speaker }).locator("button.rename").click();
    await page.locator(".legend input").fill("x".repeat(100));
    await page.locator(".legend input").press("Enter");

    // Assess
    await expect.poll(() => page.locator("#status.error").count()).toBe(1);
    expect(await page.locator("#status").textContent()).toMatch(/64|long/);
    expect((await harness.stack.ctx.jobs.get(job.jobId))?.speakerNames?.[speaker]).toBeUndefined();
  });

  it("finds a word: hits marked in the text and on the timeline, next and previous", async () => {
    // Prepare: the most frequent word, counted as the page counts (whole words; the last one may be a prefix)
    const transcript = await verbose();
    const norm = (w: string) => w.toLowerCase().replace(/[^\p{L}\p{N}']+/gu, "");
    const counts = new Map<string, number>();
    for (const w of transcript.words) counts.set(norm(w.word), (counts.get(norm(w.word)) ?? 0) + 1);
    const [query] = [...counts.entries()].sort((a, b) => b[1] - a[1])[0];
    const expected = transcript.words.filter((w) => norm(w.word).startsWith(query)).length;
    expect(expected).toBeGreaterThanOrEqual(2);

    // Act
    await page.locator("#q").fill(query);

    // Assess: marked in the text, ticks on the timeline, the first one current
    await expect.poll(() => page.locator("#count").textContent()).toBe(`1 of ${expected}`);
    expect(await page.locator(".w.hit").count()).toBe(expected);
    const ticks = await page.locator(".tl-hits .tick:not(.cur)").count();
    expect(ticks).toBeGreaterThanOrEqual(1);
    expect(ticks).toBeLessThanOrEqual(expected);
    expect(await page.locator(".tl-hits .tick.cur").count()).toBe(1);
    const first = await page.locator(".w.hit-cur").getAttribute("data-i");

    // Act: next (Enter), then previous (the button)
    await page.locator("#q").press("Enter");
    await expect.poll(() => page.locator("#count").textContent()).toBe(`2 of ${expected}`);
    const second = await page.locator(".w.hit-cur").getAttribute("data-i");
    expect(Number(second)).toBeGreaterThan(Number(first));
    await page.locator("#prev").click();
    await expect.poll(() => page.locator("#count").textContent()).toBe(`1 of ${expected}`);
    expect(await page.locator(".w.hit-cur").getAttribute("data-i")).toBe(first);
  });

  it("seeks from the speaker timeline", async () => {
    // Act: click three quarters along the lanes
    const box = (await page.locator(".tl-tracks").boundingBox())!;
    await page.mouse.click(box.x + box.width * 0.75, box.y + 5);

    // Assess
    const duration = (await verbose()).duration;
    await expect
      .poll(() => player(page).evaluate((audio: AudioElement) => audio.currentTime))
      .toBeCloseTo(duration * 0.75, 0);
  });

  it("downloads each format as the output bucket holds it", async () => {
    for (const format of OUTPUT_FORMATS) {
      // Act
      const [download] = await Promise.all([page.waitForEvent("download"), page.locator(`#downloads a[data-format="${format}"]`).click()]);

      // Assess
      expect(download.suggestedFilename()).toMatch(/^standup\./);
      expect(readFileSync((await download.path())!, "utf8"), format).toBe(await output(format));
    }
  });

  it("works as a static transcript.html: audio from the fragment, downloads from the page, no rename", async () => {
    // Prepare: the page the stitcher would write, opened from a file with the recording's URL in its fragment
    const outputs = Object.fromEntries(await Promise.all(OUTPUT_FORMATS.map(async (f) => [f, await output(f)]))) as Record<OutputFormat, string>;
    const html = renderStaticTranscriptPage({ job, transcriptJson: outputs.verbose_json, outputs });
    const file = join(workDir, "transcript.html");
    writeFileSync(file, html);
    const audioUrl = `${viewer.jobUrl(job.jobId)}/audio`;
    const staticPage = await browser.newPage({ acceptDownloads: true });

    // Act
    await staticPage.goto(`${pathToFileURL(file).href}#audio=${encodeURIComponent(audioUrl)}`);
    await staticPage.waitForSelector(".w");
    const transcript = JSON.parse(outputs.verbose_json) as Transcript;
    const index = transcript.words.findIndex((w) => w.start > 20);
    await staticPage.locator(`.w[data-i="${index}"]`).click();
    const [download] = await Promise.all([staticPage.waitForEvent("download"), staticPage.locator('#downloads a[data-format="vtt"]').click()]);

    // Assess
    expect(await player(staticPage).evaluate((audio: AudioElement) => audio.src)).toBe(audioUrl);
    await expect
      .poll(() => player(staticPage).evaluate((audio: AudioElement) => audio.currentTime))
      .toBeGreaterThanOrEqual(transcript.words[index].start - 0.05);
    expect(readFileSync((await download.path())!, "utf8")).toBe(outputs.vtt);
    expect(await staticPage.locator("button.rename").count()).toBe(0);
    expect(await staticPage.locator(".legend li", { hasText: "Grace <Hopper>" }).count()).toBe(1);
    await staticPage.close();
  });

  it("smoke: a long transcript renders a window of it, and scrolls by wheel to its last word", async () => {
    // Prepare: 6000 words made up (the benchmark's 4-hour case is bench/viewer.ts)
    const long = syntheticTranscript({ seed: 9, words: 6000, speakers: 4, durationSeconds: 2400 });
    const outputs = Object.fromEntries(OUTPUT_FORMATS.map((f) => [f, renderTranscript(long, f)])) as Record<OutputFormat, string>;
    const file = join(workDir, "long.html");
    writeFileSync(file, renderStaticTranscriptPage({ job: { jobId: "0".repeat(24), source: { key: "long.wav" } }, transcriptJson: outputs.verbose_json, outputs }));
    const longPage = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await longPage.goto(pathToFileURL(file).href);
    await longPage.waitForSelector(".w");
    const stats = () =>
      longPage.locator("#transcript").evaluate((main: { scrollTop: number; scrollHeight: number; clientHeight: number }) => {
        const viewer = (globalThis as unknown as { sttViewer: { words: number; renderedWords(): number } }).sttViewer;
        return { words: viewer.words, rendered: viewer.renderedWords(), top: main.scrollTop, max: main.scrollHeight - main.clientHeight };
      });

    // Act: wheel down until the end
    const before = await stats();
    await longPage.mouse.move(640, 600);
    let after = before;
    for (let i = 0; i < 400 && after.top < after.max - 1; i++) {
      await longPage.mouse.wheel(0, 1500);
      after = await stats();
    }

    // Assess: only a window of the words is in the page, at the top and at the end, and the end is reached
    expect(before.words).toBe(long.words.length);
    expect(before.rendered).toBeLessThan(before.words / 4);
    expect(after.rendered).toBeLessThan(after.words / 4);
    expect(after.top).toBeGreaterThanOrEqual(after.max - 1);
    await expect.poll(() => longPage.locator(`.w[data-i="${long.words.length - 1}"]`).isVisible()).toBe(true);
    await longPage.close();
  });
});
