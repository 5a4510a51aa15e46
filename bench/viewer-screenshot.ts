process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

/**
 * `npm run screenshot:viewer`: docs/viewer.png, the README's picture of the transcript viewer. A generated
 * 3-voice conversation goes through the real pipeline on a private local stack (the ground-truth provider, as
 * in the tests), its page is opened in Debian's chromium from the viewer server, the speakers are named through
 * the page as a person would, a word is searched and one clicked; then the window is captured.
 */
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { buildConversation, encodeRecording } from "../test/audio/conversation.js";
import { startHarness } from "../test/support/harness.js";
import { s3ViewerObjects, startViewerServer } from "../local/viewer-server.js";
import { renameSpeaker } from "../shared/pipeline/rename-speaker.js";

const CHROMIUM = process.env.STT_CHROMIUM || "/usr/bin/chromium";
const OUT = new URL("../docs/viewer.png", import.meta.url);
const NAMES = ["Ada Lovelace", "Grace Hopper", "Alan Turing"];

async function main(): Promise<void> {
  if (!existsSync(CHROMIUM)) throw new Error(`no chromium at ${CHROMIUM}: apt-get install chromium (or set STT_CHROMIUM)`);
  const harness = await startHarness({ chunkSeconds: 30, overlapSeconds: 4, transcriberConcurrency: 4 });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--mute-audio", "--autoplay-policy=no-user-gesture-required"] });
  try {
    const conversation = buildConversation({ seed: 42, voices: 3, durationSeconds: 150, style: "meeting" });
    harness.provider.addRecording(conversation);
    const file = join(mkdtempSync(join(tmpdir(), "stt-shot-")), "product-review.wav");
    await encodeRecording(conversation, file, "wav");
    const run = await harness.transcribe(file, {}, "text");
    if (run.code !== 0 || !run.job) throw new Error(`the job failed: ${run.stderr}`);
    const job = run.job;
    const viewer = await startViewerServer({
      jobs: harness.stack.ctx.jobs,
      objects: s3ViewerObjects(harness.stack.clients.s3),
      outputBucket: harness.stack.resources.buckets.output,
      renameSpeaker: (jobId, speakerId, name) => renameSpeaker(harness.stack.ctx, jobId, speakerId, name),
      port: 0,
    });
    try {
      const page = await browser.newPage({ viewport: { width: 1280, height: 760 }, deviceScaleFactor: 1 });
      await page.goto(viewer.jobUrl(job.jobId));
      await page.waitForSelector(".w");
      for (const [i, speaker] of (job.speakers ?? []).entries()) {
        await page.locator(".legend li", { hasText: speaker }).locator("button.rename").click();
        await page.locator(".legend input").fill(NAMES[i % NAMES.length]);
        await page.locator(".legend input").press("Enter");
        await page.locator(".legend li", { hasText: NAMES[i % NAMES.length] }).waitFor();
      }
      await page.locator("#q").fill("budget");
      await page.locator("#count").filter({ hasText: " of " }).waitFor();
      // A word a little way in, played and paused: the player, the timeline's playhead and the word agree.
      await page.locator("#transcript").evaluate((main: { scrollTop: number }) => (main.scrollTop = 0));
      await page.locator(".w").nth(14).click();
      await page.waitForTimeout(600);
      await page.locator("#audio").evaluate((audio: { pause(): void }) => audio.pause());
      await page.mouse.move(5, 5);
      await page.waitForTimeout(200);
      await page.screenshot({ path: OUT.pathname });
      process.stdout.write(`wrote ${OUT.pathname} (job ${job.jobId}, ${job.wordCount} words, ${job.speakers?.length} speakers)\n`);
    } finally {
      await viewer.close();
    }
  } finally {
    await browser.close();
    await harness.close();
  }
}

main().catch((error: Error) => {
  process.stderr.write(`${error.stack ?? error.message}\n`);
  process.exitCode = 1;
});
