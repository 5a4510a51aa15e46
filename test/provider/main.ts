/**
 * Runs the ground-truth provider on its own, e.g. to point the CLI or a deployed stack's local runner
 * at it:
 *   npx tsx test/provider/main.ts --port 8787 --key test-key \
 *     --conversation seed=1,voices=3,seconds=180[,style=meeting,noise=-60] --write-audio ./gt-audio \
 *     [--jitter 0.1] [--latency 0.5,0.04] [--failure-rate 0.1] [--failure-kinds 429,500,timeout] \
 *     [--stretch-ends] [--edge-half-words 0.5] [--hallucinate 0.5] [--perturb 0.05] [--language-name] \
 *     [--text-only true|false|<regex>] [--malformed missing-words,invalid-json] [--max-upload-bytes N] [--seed N]
 * Prints the base URL (ending in /v1) on stdout; everything else goes to stderr.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildConversation, writeWav, type ConversationStyle, type Recording } from "../audio/conversation.js";
import type { FailureKind, MalformedKind, ProviderOptions } from "./options.js";
import { startGroundTruthProvider } from "./server.js";

const { values } = parseArgs({
  options: {
    port: { type: "string", default: "8787" },
    key: { type: "string", default: "test-key" },
    host: { type: "string", default: "127.0.0.1" },
    seed: { type: "string" },
    conversation: { type: "string", multiple: true, default: ["seed=1,voices=3,seconds=180"] },
    "write-audio": { type: "string" },
    jitter: { type: "string" },
    latency: { type: "string" },
    "failure-rate": { type: "string" },
    "failure-kinds": { type: "string" },
    "stretch-ends": { type: "boolean" },
    "edge-half-words": { type: "string" },
    hallucinate: { type: "string" },
    perturb: { type: "string" },
    "language-name": { type: "boolean" },
    "text-only": { type: "string" },
    malformed: { type: "string" },
    "max-upload-bytes": { type: "string" },
  },
});

function conversationFrom(spec: string): Recording {
  const fields = Object.fromEntries(spec.split(",").map((pair) => pair.split("=").map((part) => part.trim())));
  return buildConversation({
    seed: Number(fields.seed ?? 1),
    voices: Number(fields.voices ?? 3),
    durationSeconds: Number(fields.seconds ?? 180),
    style: (fields.style as ConversationStyle | undefined) ?? "meeting",
    noiseDb: fields.noise === undefined ? undefined : Number(fields.noise),
  });
}

function providerOptions(): Partial<ProviderOptions> {
  const options: Partial<ProviderOptions> = { port: Number(values.port), apiKey: values.key, host: values.host };
  const number = (text: string | undefined): number | undefined => (text === undefined ? undefined : Number(text));
  if (values.seed) options.seed = Number(values.seed);
  if (values.jitter) options.jitterSeconds = Number(values.jitter);
  if (values.latency) {
    const [baseSeconds, perAudioSecond] = values.latency.split(",").map(Number);
    options.latency = { baseSeconds: baseSeconds ?? 0, perAudioSecond: perAudioSecond ?? 0 };
  }
  if (values["failure-rate"]) options.failureRate = Number(values["failure-rate"]);
  if (values["failure-kinds"]) options.failureKinds = values["failure-kinds"].split(",") as FailureKind[];
  if (values["stretch-ends"]) options.stretchWordEnds = true;
  options.edgeHalfWords = number(values["edge-half-words"]) ?? 0;
  options.hallucinateTrailing = number(values.hallucinate) ?? 0;
  options.perturbWords = number(values.perturb) ?? 0;
  if (values["language-name"]) options.languageAsName = true;
  const textOnly = values["text-only"];
  if (textOnly !== undefined) options.textOnly = textOnly === "true" ? true : textOnly === "false" ? false : new RegExp(textOnly, "i");
  if (values.malformed) options.malformed = values.malformed.split(",") as MalformedKind[];
  if (values["max-upload-bytes"]) options.maxUploadBytes = Number(values["max-upload-bytes"]);
  return options;
}

async function main(): Promise<void> {
  const recordings = (values.conversation ?? []).map(conversationFrom);
  if (values["write-audio"]) {
    mkdirSync(values["write-audio"], { recursive: true });
    for (const recording of recordings) {
      writeWav(join(values["write-audio"], `${recording.id}.wav`), recording);
      // The truth beside the audio, so a user can compare a transcript with what was said.
      const truth = { id: recording.id, duration: recording.duration, speakers: recording.speakers, words: recording.words };
      writeFileSync(join(values["write-audio"], `${recording.id}.truth.json`), JSON.stringify(truth, null, 1));
      console.error(`wrote ${recording.id}.wav (${recording.duration.toFixed(1)} s, ${recording.words.length} words)`);
    }
  }
  const provider = await startGroundTruthProvider({ ...providerOptions(), recordings });
  console.log(provider.url);
  console.error(`ground-truth provider listening, key "${provider.apiKey}", ${recordings.length} recording(s)`);
  const stop = (): void => {
    void provider.close().then(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

void main();
