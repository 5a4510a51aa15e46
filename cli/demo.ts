process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { buildConversation, encodeRecording } from "../test/audio/conversation.js";
import { startGroundTruthProvider } from "../test/provider/server.js";
import { DEFAULTS } from "../shared/wiring.js";
import { providerFromEnv } from "./provider-env.js";
import { transcribeFile } from "./transcribe.js";
import { openSession, startCliStack, STATE_DIR } from "./stack-session.js";
import { scoreTranscript } from "../test/support/score.js";

/**
 * `npm run demo`: a generated three-voice conversation through the whole
 * pipeline on an embedded local stack. Without a provider key it runs
 * against the ground-truth test provider, so a newcomer sees it work at
 * once, and checks the transcript against the truth.
 */
async function demo(): Promise<number> {
  const conversation = buildConversation({ seed: 7, voices: 3, durationSeconds: 150, style: "meeting" });
  const dir = join(STATE_DIR, "demo");
  mkdirSync(dir, { recursive: true });
  const file = join(dir, "conversation.mp3");
  await encodeRecording(conversation, file, "mp3");
  process.stderr.write(`demo: ${conversation.duration.toFixed(0)} s conversation, ${conversation.speakers.length} voices -> ${file}\n`);

  const real = providerFromEnv();
  const testProvider = real ? undefined : await startGroundTruthProvider({ seed: 7 });
  testProvider?.addRecording(conversation);
  const provider = real ?? { baseUrl: testProvider!.url, apiKey: testProvider!.apiKey, model: DEFAULTS.model };
  process.stderr.write(real ? `demo: provider ${real.baseUrl}\n` : `demo: no STT_API_KEY set: using the built-in ground-truth provider at ${provider.baseUrl}\n`);
  try {
    const { code, verbose } = await transcribeFile({
      file,
      format: "text",
      flags: { "chunk-seconds": "40", "overlap-seconds": "4" },
      provider,
      // A private in-memory stack: the demo never touches a stack `stt up` runs.
      open: () => openSession(() => startCliStack({ provider }), { forceEmbedded: true }),
      out: process.stdout,
      err: process.stderr,
    });
    if (code === 0 && verbose) {
      const score = scoreTranscript(conversation, verbose);
      process.stderr.write(
        `demo: WER ${(score.wer * 100).toFixed(2)} %, mean word-start error ${(score.meanStartError * 1000).toFixed(0)} ms, ` +
          `speaker accuracy ${(score.speakerAccuracy * 100).toFixed(1)} %, ${score.speakers} speakers (truth ${conversation.speakers.length})\n`,
      );
      if (!real && (score.wer > 0 || score.speakers !== conversation.speakers.length)) return 1;
    }
    return code;
  } finally {
    await testProvider?.close();
  }
}

demo().then(
  (code) => {
    process.exitCode = code;
  },
  (error: Error) => {
    process.stderr.write(`demo failed: ${error.stack ?? error.message}\n`);
    process.exitCode = 1;
  },
);
