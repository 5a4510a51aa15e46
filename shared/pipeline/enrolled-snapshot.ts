import { PermanentError } from "../errors.js";
import { ALL_VOICES, MAX_NAMED_SPEAKERS } from "../domain/options/options.js";
import { enrolledKeys, enrolledSnapshotSchema, type EnrolledSnapshot, type VoiceRecord } from "../domain/speakers/enrolled-voices.js";
import type { PipelineContext } from "./context.js";
import { decodeClip } from "./enroll-voice.js";

/**
 * The enrolled voices a job names (`speakers`), resolved when it is chunked: `*` is every READY voice, a name
 * that is not one fails the job. Each voice's clip is decoded from the input bucket and its PCM copied into
 * the job's work area with the speech spans to cut reference pieces from, so every settling step reads the
 * same voices whatever is registered or removed meanwhile, and the copies expire with the job's other work
 * objects. Stored once: a redelivered chunker event finds the snapshot and keeps it.
 */
export async function snapshotEnrolledVoices(ctx: PipelineContext, jobId: string, speakers: readonly string[]): Promise<EnrolledSnapshot> {
  const key = enrolledKeys.snapshot(jobId);
  const stored = await ctx.work.getJsonIfExists<unknown>(key);
  if (stored !== undefined) return enrolledSnapshotSchema.parse(stored);

  let voices: VoiceRecord[];
  if (speakers.includes(ALL_VOICES)) {
    voices = (await ctx.jobs.listVoices()).filter((v) => v.status === "READY");
    if (voices.length === 0) throw new PermanentError("invalid_options", "speakers: '*' names every registered voice, and none is registered");
    if (voices.length > MAX_NAMED_SPEAKERS) {
      throw new PermanentError(
        "invalid_options",
        `speakers: '*' names ${voices.length} registered voices; a job names at most ${MAX_NAMED_SPEAKERS}: list the ones to look for`,
      );
    }
  } else {
    voices = [];
    for (const name of speakers) {
      const voice = await ctx.jobs.getVoice(name);
      if (!voice) throw new PermanentError("invalid_options", `speakers: no registered voice '${name}'`);
      if (voice.status !== "READY") {
        throw new PermanentError("invalid_options", `speakers: no registered voice '${name}' (its clip was refused: ${voice.reason ?? "unknown reason"})`);
      }
      voices.push(voice);
    }
  }
  const snapshot: EnrolledSnapshot = { voices: [] };
  for (const [i, voice] of voices.entries()) {
    let pcm: Buffer;
    try {
      pcm = await decodeClip(ctx, voice.source);
    } catch (error) {
      if (error instanceof PermanentError) {
        throw new PermanentError("invalid_options", `speakers: the clip of voice '${voice.name}' can no longer be read; register it again`);
      }
      throw error;
    }
    const clip = String(i).padStart(2, "0");
    await ctx.work.putBytes(enrolledKeys.clip(jobId, clip), pcm);
    snapshot.voices.push({ name: voice.name, clip, spans: voice.speech });
  }
  await ctx.work.putJson(key, snapshot);
  return snapshot;
}
