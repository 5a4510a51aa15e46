/**
 * Runs the ground-truth provider on its own, e.g. to point the CLI or a deployed stack's local runner
 * at it (`--help` lists every switch):
 *   npx tsx test/provider/main.ts --port 8787 --key test-key \
 *     --conversation seed=1,voices=3,seconds=180[,style=meeting,noise=-60] --write-audio ./gt-audio \
 *     [--jitter 0.1] [--latency 0.5,0.04] [--failure-rate 0.1] [--failure-kinds 429,500,timeout] \
 *     [--stretch-ends] [--edge-half-words 0.5] [--hallucinate 0.5] [--hallucinate-silence 1] \
 *     [--repetition-loops 0.5] [--splice-unheard 0.15] [--splice-confused 0.05] [--perturb 0.05] \
 *     [--language-name] [--text-only true|false|<regex>] [--malformed missing-words,invalid-json] \
 *     [--max-upload-bytes N] [--seed N]
 * Prints the base URL (ending in /v1) on stdout; everything else goes to stderr.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { buildConversation, writeWav, type ConversationStyle, type Recording } from "../audio/conversation.js";
import type { FailureKind, MalformedKind, ProviderOptions } from "./options.js";
import { startGroundTruthProvider } from "./server.js";

const USAGE = `Usage: npx tsx test/provider/main.ts [options]
Serves Together's speech-to-text API from known recordings; prints the base URL (ending in /v1).

  --port N                   listen port (default 8787; 0 picks a free one)
  --key KEY                  accepted bearer token (default test-key)
  --host HOST                listen address (default 127.0.0.1)
  --seed N                   seed of every random choice (default 1)
  --conversation SPEC        a recording to know, repeatable:
                             seed=1,voices=3,seconds=180[,style=meeting|quick-turns|lecture,noise=-60]
  --write-audio DIR          also write each recording as WAV with its truth as JSON

Realism (P is a probability 0-1, default 0):
  --jitter SECONDS           uniform +- jitter on every word start and end
  --stretch-ends             word ends run on over the following pause (Whisper)
  --edge-half-words P        a word cut by an upload edge, half or less inside, is heard truncated
  --hallucinate P            "you" / "Thank you." over more than 1 s of trailing silence
  --hallucinate-silence P    per pause of 2 s or more between words: a stock phrase ("Thank you.",
                             "you", "Thanks for watching!", ...) inside it, in the previous word's voice
  --repetition-loops P       per upload ending in or containing 5 s or more of silence or unknown
                             sound: the last 2-6 words heard, repeated 4-10 times across it
  --splice-unheard P         per piece of a spliced upload (more than one located piece): the
                             diarizer misses it; its words have no speaker_id and no speaker segment
  --splice-confused P        per piece of a spliced upload: all its words get the label of another
                             voice of the same upload
  --perturb P                per word: heard slightly differently (case, punctuation, homophone)
  --language-name            report "english" instead of "en"
  --text-only true|false|RE  models answering text only even for verbose_json (default /voxtral/i)

Faults:
  --latency BASE,PER_SECOND  processing time: base seconds plus per second of audio
  --failure-rate P           per request: a transient failure drawn from --failure-kinds
  --failure-kinds LIST       429,500,503,timeout,reset (default 429,500,timeout)
  --malformed LIST           broken answers: invalid-json,missing-words,times-outside,negative-times,
                             reversed-times,empty-text
  --max-upload-bytes N       larger bodies get 413 (default 25 MiB)
  --help                     this text
`;

const { values } = parseArgs({
  options: {
    help: { type: "boolean" },
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
    "hallucinate-silence": { type: "string" },
    "repetition-loops": { type: "string" },
    "splice-unheard": { type: "string" },
    "splice-confused": { type: "string" },
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
  options.hallucinateSilence = number(values["hallucinate-silence"]) ?? 0;
  options.repetitionLoops = number(values["repetition-loops"]) ?? 0;
  options.spliceUnheard = number(values["splice-unheard"]) ?? 0;
  options.spliceConfused = number(values["splice-confused"]) ?? 0;
  options.perturbWords = number(values.perturb) ?? 0;
  if (values["language-name"]) options.languageAsName = true;
  const textOnly = values["text-only"];
  if (textOnly !== undefined) options.textOnly = textOnly === "true" ? true : textOnly === "false" ? false : new RegExp(textOnly, "i");
  if (values.malformed) options.malformed = values.malformed.split(",") as MalformedKind[];
  if (values["max-upload-bytes"]) options.maxUploadBytes = Number(values["max-upload-bytes"]);
  return options;
}

async function main(): Promise<void> {
  if (values.help) {
    process.stdout.write(USAGE);
    return;
  }
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
