import { z } from "zod";
import { VOICE_NAME } from "../options/options.js";

/**
 * Enrolled voices: a person's voice registered once from a clip of them alone (`voices/<name>.<ext>` in the
 * input bucket, or `stt voices add`), so that jobs asking for them (`speakers=alice,bob`) say who spoke.
 */

/** Where registered clips live in the input bucket: an object under it registers a voice instead of starting a job. */
export const VOICES_PREFIX = "voices/";
/** How long an enrollment clip may be: shorter gives the diarizer too little to go on, longer is not one sample. */
export const ENROLLMENT_SECONDS = { min: 3, max: 30 } as const;

export const VOICE_STATUSES = ["READY", "REFUSED"] as const;
export type VoiceStatus = (typeof VOICE_STATUSES)[number];

/** A stretch of the enrollment clip (seconds) where the provider heard the person speak. */
export const speechSpanSchema = z.object({ start: z.number().nonnegative(), end: z.number().nonnegative() });
export type SpeechSpan = z.infer<typeof speechSpanSchema>;

/** The voice item: pk = VOICE#<name>, sk = VOICE, in the jobs table. */
export const voiceRecordSchema = z.object({
  name: z.string().regex(VOICE_NAME),
  status: z.enum(VOICE_STATUSES),
  /** Why it was refused (no speech heard, two voices heard, ...): for the user, never transcript text. */
  reason: z.string().optional(),
  /** The registered object: read again (by version when the bucket keeps versions) whenever a job uses the voice. */
  source: z.object({
    bucket: z.string(),
    key: z.string(),
    versionId: z.string().optional(),
    etag: z.string().optional(),
  }),
  /** The clip's length (seconds), as decoded to 16 kHz PCM. */
  seconds: z.number().nonnegative(),
  /** Where the provider heard the person speak: what reference pieces are cut from. Empty when refused. */
  speech: z.array(speechSpanSchema),
  registeredAt: z.string(),
});
export type VoiceRecord = z.infer<typeof voiceRecordSchema>;

/** One object version is one registration: a redelivered event finds the item it would write. */
export function voiceSourceTag(source: VoiceRecord["source"]): string {
  return `${source.bucket}/${source.key}#${source.versionId ?? ""}#${source.etag ?? ""}`;
}

/**
 * The voice name a key under voices/ registers (`voices/alice.wav` -> alice), or a reason it cannot: the name is
 * the file name without its extension, one level under the prefix.
 */
export function voiceNameOfKey(key: string): { name: string } | { invalid: string } {
  const rest = key.slice(VOICES_PREFIX.length);
  if (rest.includes("/")) return { invalid: `a voice clip must be directly under ${VOICES_PREFIX} (${VOICES_PREFIX}<name>.<ext>)` };
  const dot = rest.lastIndexOf(".");
  const name = dot > 0 ? rest.slice(0, dot) : rest;
  if (!VOICE_NAME.test(name)) return { invalid: "the voice name must be 1-40 letters, digits, '-', '_' or '.', starting with a letter or digit" };
  return { name };
}

export function isVoiceKey(key: string): boolean {
  return key.startsWith(VOICES_PREFIX);
}

/**
 * The enrolled voices a job names, resolved once when it is chunked (so every later step sees the same ones,
 * whatever is registered or removed meanwhile): each with its reference pieces stored in the job's work area.
 */
export const enrolledSnapshotSchema = z.object({
  voices: z.array(
    z.object({
      name: z.string(),
      /** Clip id: its PCM is at enrolledClipKey(jobId, clip). */
      clip: z.string(),
      /** Reference pieces within that clip (seconds). */
      spans: z.array(speechSpanSchema),
    }),
  ),
});
export type EnrolledSnapshot = z.infer<typeof enrolledSnapshotSchema>;

/** Work-bucket keys of a job's enrolled voices (beside its speaker books: they expire with the job's work). */
export const enrolledKeys = {
  snapshot: (jobId: string) => `jobs/${jobId}/speakers/enrolled.json`,
  clip: (jobId: string, clip: string) => `jobs/${jobId}/speakers/enrolled-${clip}.pcm`,
};
