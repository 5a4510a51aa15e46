import type { SourceObject } from "../adapters/job-store.js";
import { decodeToPcm } from "../audio/decode-pcm.js";
import { pcmEnvelope } from "../audio/envelope.js";
import { encodeFlacPcm } from "../audio/flac-encoder.js";
import { BYTES_PER_SAMPLE, SAMPLE_RATE } from "../audio/ffmpeg.js";
import { probeMedia } from "../audio/probe.js";
import { isPermanent, reasonOf } from "../errors.js";
import { PROBE_BUDGET } from "../provider/probe-budget.js";
import { DEFAULTS } from "../wiring.js";
import type { Word } from "../domain/types.js";
import { SAMPLE } from "../domain/speakers/settle-speakers.js";
import {
  ENROLLMENT_SECONDS,
  voiceNameOfKey,
  voiceSourceTag,
  type SpeechSpan,
  type VoiceRecord,
} from "../domain/speakers/enrolled-voices.js";
import type { PipelineContext } from "./context.js";
import { redactSignedUrls } from "./finish-job.js";

export type EnrollOutcome =
  | { kind: "voice"; status: VoiceRecord["status"]; repeat: boolean }
  | { kind: "voice-ignored"; why: "gone" | "stale" | "bad-name" };

/** A 10 ms frame this loud or louder counts as sound (the clips' envelope is dBFS per frame). */
const SOUND_DBFS = -40;
/** Sound needed before asking the provider: below it the clip is silence or noise. */
const MIN_SOUND_SECONDS = 1;
/** Speech of one voice needed to keep pieces of it: about two reference pieces. */
const MIN_SPEECH_SECONDS = 1.5;
/**
 * A second label counts as a second person from this much of its speech: one stray word a diarizer puts apart is
 * not a second voice, a phrase is.
 */
const SECOND_VOICE_SECONDS = 0.8;
/** Words closer than this may share a piece: a probe piece may hold a short pause, as speech does. */
const JOIN_GAP_SECONDS = 0.7;
/** A piece shorter than this (one short word) says too little about a voice. */
const MIN_PIECE_SECONDS = 0.6;
/** Decoding stops here: a clip this long is refused whatever follows. */
const TOO_LONG_SECONDS = ENROLLMENT_SECONDS.max + 1;
/** Reference pieces kept per voice: naming probes rotate through them. */
const MAX_PIECES = 8;

/**
 * Registers a voice from an object under voices/ in the input bucket (`voices/alice.wav` -> alice): decodes it
 * with the pipeline's hardened ffmpeg path, checks it is 3-30 s of one person, and stores the voice item
 * (READY with the speech spans to cut reference pieces from, or REFUSED with the reason). One provider request,
 * with diarization, tells speech from silence and one voice from two. The item names the object version it was
 * made from: a redelivered event finds it and asks nothing again.
 */
export async function enrollVoice(ctx: PipelineContext, object: SourceObject): Promise<EnrollOutcome> {
  const parsedName = voiceNameOfKey(object.key);
  if ("invalid" in parsedName) {
    // No item can carry a name that is not one; the CLI refuses such names before uploading.
    ctx.log.warn("a voice clip's key names no valid voice; ignored", { reason: parsedName.invalid });
    return { kind: "voice-ignored", why: "bad-name" };
  }
  const { name } = parsedName;
  const head = await ctx.sources.head({ bucket: object.bucket, key: object.key });
  if (!head) return { kind: "voice-ignored", why: "gone" };
  const headEtag = head.etag?.replace(/"/g, "");
  const eventEtag = object.etag?.replace(/"/g, "");
  // An event for an older upload of the same key: the newer one's event registers the voice.
  if ((object.versionId && head.versionId && object.versionId !== head.versionId) || (eventEtag && headEtag && eventEtag !== headEtag)) {
    return { kind: "voice-ignored", why: "stale" };
  }
  const source: VoiceRecord["source"] = {
    bucket: object.bucket,
    key: object.key,
    ...(head.versionId ? { versionId: head.versionId } : {}),
    ...(headEtag ? { etag: headEtag } : {}),
  };
  const existing = await ctx.jobs.getVoice(name);
  if (existing && voiceSourceTag(existing.source) === voiceSourceTag(source)) {
    return { kind: "voice", status: existing.status, repeat: true };
  }

  const checked = await checkClip(ctx, source);
  const base = { name, source, registeredAt: ctx.now().toISOString(), seconds: checked.seconds };
  const record: VoiceRecord =
    "reason" in checked ? { ...base, status: "REFUSED", reason: checked.reason, speech: [] } : { ...base, status: "READY", speech: checked.speech };
  const stored = await ctx.jobs.putVoice(record);
  // Counts and the outcome only: a voice's name is the user's data.
  ctx.log.info("voice registered", { status: stored.status, seconds: Math.round(stored.seconds * 10) / 10, pieces: stored.speech.length });
  return { kind: "voice", status: stored.status, repeat: false };
}

/** What the clip holds: READY's speech spans, or the reason to refuse it. Retryable failures are thrown. */
async function checkClip(
  ctx: PipelineContext,
  source: VoiceRecord["source"],
): Promise<{ seconds: number; speech: SpeechSpan[] } | { seconds: number; reason: string }> {
  let pcm: Buffer;
  try {
    pcm = await decodeClip(ctx, source);
  } catch (error) {
    if (!isPermanent(error)) throw error;
    if (error.code === "too_long") {
      return { seconds: TOO_LONG_SECONDS, reason: `too long: more than ${TOO_LONG_SECONDS} s; a voice clip must be ${ENROLLMENT_SECONDS.min}-${ENROLLMENT_SECONDS.max} s of one person speaking` };
    }
    return { seconds: 0, reason: `the file could not be read as audio: ${redactSignedUrls(reasonOf(error))}` };
  }
  const seconds = pcm.length / BYTES_PER_SAMPLE / SAMPLE_RATE;
  const rounded = seconds.toFixed(1);
  if (seconds < ENROLLMENT_SECONDS.min) {
    return { seconds, reason: `too short: ${rounded} s; a voice clip must be ${ENROLLMENT_SECONDS.min}-${ENROLLMENT_SECONDS.max} s of one person speaking` };
  }
  if (seconds > ENROLLMENT_SECONDS.max) {
    return { seconds, reason: `too long: ${rounded} s; a voice clip must be ${ENROLLMENT_SECONDS.min}-${ENROLLMENT_SECONDS.max} s of one person speaking` };
  }
  const envelope = new Int8Array(pcmEnvelope(pcm).buffer);
  const loudFrames = envelope.filter((db) => db >= SOUND_DBFS).length;
  if (loudFrames * 0.01 < MIN_SOUND_SECONDS) return { seconds, reason: "no speech heard: the clip is silent or too quiet" };

  let words: readonly Word[];
  try {
    const answer = await ctx.provider.transcribe(
      {
        audio: encodeFlacPcm(pcm),
        filename: "voice.flac",
        audioSeconds: seconds,
        model: ctx.config.provider.model || DEFAULTS.model,
        task: "transcribe",
        language: "auto",
        diarize: true,
      },
      PROBE_BUDGET,
    );
    words = answer.words ?? [];
  } catch (error) {
    // A provider that refuses the request (400, 413) refuses the clip; one that is busy or down is asked again.
    if (!isPermanent(error)) throw error;
    return { seconds, reason: `the provider refused the clip: ${redactSignedUrls(reasonOf(error))}` };
  }
  return readVoices(words, seconds);
}

/** One voice's speech spans from a diarized answer, or why the clip is not one person speaking. */
export function readVoices(words: readonly Word[], seconds: number): { seconds: number; speech: SpeechSpan[] } | { seconds: number; reason: string } {
  const spoken = words.filter((w) => w.end > w.start);
  if (spoken.length === 0) return { seconds, reason: "no speech heard" };
  const byLabel = new Map<string, number>();
  for (const w of spoken) byLabel.set(w.speaker ?? "", (byLabel.get(w.speaker ?? "") ?? 0) + (w.end - w.start));
  const ranked = [...byLabel].sort((a, b) => b[1] - a[1]);
  if (ranked.length > 1 && ranked[1][1] >= SECOND_VOICE_SECONDS) {
    return { seconds, reason: "two voices heard: a voice clip must be one person speaking alone" };
  }
  const [label, speech] = ranked[0];
  if (speech < MIN_SPEECH_SECONDS) return { seconds, reason: `too little speech heard (${speech.toFixed(1)} s); speak for a few seconds` };
  const pieces = speechPieces(spoken.filter((w) => (w.speaker ?? "") === label), seconds);
  if (pieces.length < 2) return { seconds, reason: "too little connected speech heard; speak in phrases for a few seconds" };
  return { seconds, speech: pieces };
}

/**
 * Pieces of 1-2 s of speech (what a probe piece is): consecutive words grouped while the piece stays within
 * 2 s and no pause in it is long; the longest first, at most MAX_PIECES.
 */
function speechPieces(words: readonly Word[], seconds: number): SpeechSpan[] {
  const pieces: SpeechSpan[] = [];
  let piece: SpeechSpan | undefined;
  for (const w of [...words].sort((a, b) => a.start - b.start)) {
    if (piece && w.start - piece.end <= JOIN_GAP_SECONDS && w.end - piece.start <= SAMPLE.maxSeconds) {
      piece.end = Math.max(piece.end, w.end);
      continue;
    }
    if (piece) pieces.push(piece);
    piece = { start: w.start, end: Math.min(w.end, w.start + SAMPLE.maxSeconds) };
  }
  if (piece) pieces.push(piece);
  const kept = pieces
    .filter((p) => p.end - p.start >= MIN_PIECE_SECONDS)
    .map((p) => ({ start: round(Math.max(0, p.start)), end: round(Math.min(seconds, p.end)) }));
  // Longest first, so the first pieces a probe takes are the surest.
  return kept.sort((a, b) => b.end - b.start - (a.end - a.start) || a.start - b.start).slice(0, MAX_PIECES);
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** The clip as 16 kHz PCM, decoded the way the chunker decodes recordings; longer than allowed stops early. */
export async function decodeClip(ctx: PipelineContext, source: VoiceRecord["source"]): Promise<Buffer> {
  const url = await ctx.sources.readUrl(source);
  const probe = await probeMedia(ctx.ffmpeg.ffprobe, url);
  const decoder = decodeToPcm(ctx.ffmpeg.ffmpeg, url, {
    demuxer: probe.demuxer,
    timeoutMs: 60_000,
    // A little past the limit, so "too long" names the real length when it is near.
    maxSeconds: TOO_LONG_SECONDS,
  });
  const chunks: Buffer[] = [];
  try {
    for await (const chunk of decoder.pcm) chunks.push(chunk as Buffer);
    await decoder.done;
  } catch (error) {
    decoder.kill();
    throw error;
  }
  return Buffer.concat(chunks);
}

/**
 * A clip under voices/ was deleted (an ObjectRemoved event, in deployments whose chunker receives them): its
 * voice goes too, unless a clip is there again under the key (uploaded again before the event was handled) or
 * the voice was registered since from another key or version. Safe to repeat. Returns whether a voice went.
 */
export async function removeVoiceOfClip(ctx: PipelineContext, removed: { bucket: string; key: string; versionId?: string }): Promise<boolean> {
  const parsedName = voiceNameOfKey(removed.key);
  if ("invalid" in parsedName) return false;
  const voice = await ctx.jobs.getVoice(parsedName.name);
  if (!voice || voice.source.bucket !== removed.bucket || voice.source.key !== removed.key) return false;
  if (removed.versionId && voice.source.versionId && voice.source.versionId !== removed.versionId) return false;
  if (!removed.versionId && (await ctx.sources.head({ bucket: removed.bucket, key: removed.key }))) return false;
  const gone = await ctx.jobs.deleteVoice(voice.name, voice.source);
  ctx.log.info("voice removed with its clip", { removed: gone });
  return gone;
}
