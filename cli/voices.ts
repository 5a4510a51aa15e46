import { createReadStream, statSync } from "node:fs";
import { extname } from "node:path";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { Upload } from "@aws-sdk/lib-storage";
import { DEFAULTS } from "../shared/wiring.js";
import { VOICES_PREFIX, type VoiceRecord } from "../shared/domain/speakers/enrolled-voices.js";
import { MISSING_KEY_MESSAGE, providerFromEnv } from "./provider-env.js";
import { findRunningStack, withStackSession, type StackSession } from "./stack-session.js";
import { openLocalStack } from "./transcribe.js";

/** The key a voice clip is registered under: voices/<name><ext>, as a user dropping it in the bucket would name it. */
export function voiceKey(name: string, file: string): string {
  const ext = extname(file).toLowerCase();
  return `${VOICES_PREFIX}${name}${/^\.[a-z0-9]{1,5}$/.test(ext) ? ext : ".wav"}`;
}

/**
 * Uploads a voice clip under voices/ and waits for the chunker to register it: the voice item as stored (READY,
 * or REFUSED with its reason). Another clip registered under the same name is removed first, so the name has one clip.
 */
export async function registerVoice(session: StackSession, name: string, file: string, timeoutMs = 120_000): Promise<VoiceRecord> {
  const bucket = session.resources.buckets.input;
  const key = voiceKey(name, file);
  const before = await session.jobs.getVoice(name);
  if (before && before.source.key !== key) {
    await session.clients.s3.send(new DeleteObjectCommand({ Bucket: before.source.bucket, Key: before.source.key }));
  }
  const out = await new Upload({
    client: session.clients.s3,
    params: { Bucket: bucket, Key: key, Body: statSync(file).size ? createReadStream(file) : "" },
  }).done();
  const etag = out.ETag?.replace(/"/g, "");
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const voice = await session.jobs.getVoice(name);
    // The item of this upload: same key and ETag (the same bytes uploaded again find the item they made before).
    if (voice && voice.source.key === key && (etag ? voice.source.etag === etag : voice.registeredAt !== before?.registeredAt)) return voice;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`voice '${name}' was not registered within ${Math.round(timeoutMs / 1000)} s: is the local stack's event runner running?`);
}

/** Removes a voice: its clip from the bucket and its item (a bucket that sends no removal events needs both). */
export async function unregisterVoice(session: StackSession, name: string): Promise<boolean> {
  const voice = await session.jobs.getVoice(name);
  if (!voice) return false;
  await session.clients.s3.send(new DeleteObjectCommand({ Bucket: voice.source.bucket, Key: voice.source.key }));
  return session.jobs.deleteVoice(name);
}

/** One line per voice: name, status, seconds of clip, reference pieces, and the reason when refused. */
export function voiceLine(voice: VoiceRecord): string {
  const detail = voice.status === "READY" ? `${voice.seconds.toFixed(1)} s, ${voice.speech.length} pieces` : voice.reason ?? "";
  return `${voice.name}\t${voice.status}\t${detail}`;
}

/** `stt voices add <name> <file>`: exit 0 READY, 1 refused. */
export async function runVoicesAdd(name: string, file: string): Promise<number> {
  const provider = providerFromEnv() ?? ((await findRunningStack()) ? { baseUrl: "", apiKey: "", model: DEFAULTS.model } : null);
  if (!provider) {
    process.stderr.write(`${MISSING_KEY_MESSAGE}\n`);
    return 2;
  }
  const session = await openLocalStack({ provider, err: process.stderr });
  try {
    const voice = await registerVoice(session, name, file);
    if (voice.status === "READY") {
      process.stdout.write(`${name}: READY (${voice.seconds.toFixed(1)} s, ${voice.speech.length} pieces of speech)\n`);
      return 0;
    }
    process.stderr.write(`${name}: REFUSED: ${voice.reason ?? "unknown reason"}\n`);
    return 1;
  } finally {
    await session.close();
  }
}


export function runVoicesList(): Promise<number> {
  return withStackSession(async (session) => {
    const voices = await session.jobs.listVoices();
    if (voices.length === 0) process.stderr.write("no voices registered; add one with: stt voices add <name> <file>\n");
    for (const voice of voices) process.stdout.write(`${voiceLine(voice)}\n`);
    return 0;
  });
}

export function runVoicesRemove(name: string): Promise<number> {
  return withStackSession(async (session) => {
    if (await unregisterVoice(session, name)) {
      process.stdout.write(`${name}: removed\n`);
      return 0;
    }
    process.stderr.write(`no voice '${name}'\n`);
    return 1;
  });
}
