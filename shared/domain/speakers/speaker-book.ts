import { z } from "zod";

const audioSpanSchema = z.object({
  from: z.union([z.object({ segment: z.number().int().nonnegative() }), z.object({ voice: z.string() })]),
  start: z.number(),
  end: z.number(),
});

/**
 * What is known about a job's voices once its first `settled` segments are
 * settled: which voice each segment-local label is, a few seconds of each
 * voice to ask about later segments with, and how alike the diarizer found
 * voices (for --max-speakers). Stored after every step at a key named by
 * `settled`, so a repeated step rewrites the same object.
 */
export const speakerBookSchema = z.object({
  settled: z.number().int().nonnegative(),
  /** Segment index -> local label -> voice id (V0, V1, ...). */
  map: z.record(z.string(), z.record(z.string(), z.string())),
  voices: z.array(
    z.object({
      id: z.string(),
      /** Where its reference audio is: its stored clip once settled. */
      spans: z.array(audioSpanSchema),
      /** Seconds of speech attributed to it so far (for merging the smallest voice first). */
      seconds: z.number().nonnegative(),
    }),
  ),
  /** "Va|Vb" -> how often a probe put pieces of the two together, or could not tell a voice between them. */
  closeness: z.record(z.string(), z.number()),
  /** Labels settled by a fallback, not by the diarizer: "index/label". Kept apart first when --min-speakers asks for more voices. */
  weak: z.array(z.string()),
  /**
   * "index/label" of the last settled segment -> the votes behind its voice, for labels a probe verdict or the
   * fallback settled (not overlap words, not the first segment, not a new voice): what continues such a label
   * into the next segments carries these votes instead of the voice, so a later, stronger claim on that voice
   * there can win (settle-speakers.ts). Absent in books from before it: those links keep their voice.
   */
  edgeVotes: z.record(z.string(), z.record(z.string(), z.number())).optional(),
  /** Why fallbacks were used (no transcript text): for the job's log. */
  notes: z.array(z.string()),
  /**
   * Voice id -> the enrolled voice it was found to be (a name), or null when it was checked against the
   * job's enrolled voices and matches none of them. Absent for voices not checked yet (and for jobs that name
   * no enrolled speakers).
   */
  names: z.record(z.string(), z.string().nullable()).optional(),
  /**
   * Voice id -> how often it was asked about in naming probes, and the votes so far (an enrolled name,
   * "#nobody" or "#unclear" -> pieces): evidence adds up over steps until name-voices.ts decides.
   */
  naming: z
    .record(
      z.string(),
      z.object({
        asks: z.number().int().nonnegative(),
        votes: z.record(z.string(), z.number()),
        /** Vote -> the distinct pieces of the voice ("source@start") that cast it: a name needs several. */
        pieces: z.record(z.string(), z.array(z.string())).optional(),
      }),
    )
    .optional(),
  /** Of `probes`, the naming probes (name-voices.ts): what naming enrolled voices cost, for the benchmark and the log. */
  namingProbes: z.object({ requests: z.number().int().nonnegative(), seconds: z.number().nonnegative() }).optional(),
  /**
   * Probe requests, and the seconds of audio they held, of the settling steps that led to this book and of the
   * early votes those steps read: each step adds its own to its predecessor's, so the book of the whole job
   * holds all of them (what the job's `billing.probeSeconds` is read from). A step redone after a crash
   * rewrites its book with the redone step's probes; the lost attempt's are not counted.
   */
  probes: z.object({ requests: z.number().int().nonnegative(), seconds: z.number().nonnegative() }),
});

export type SpeakerBook = z.infer<typeof speakerBookSchema>;
export type BookVoice = SpeakerBook["voices"][number];

export function emptyBook(): SpeakerBook {
  return { settled: 0, map: {}, voices: [], closeness: {}, weak: [], notes: [], probes: { requests: 0, seconds: 0 } };
}

export function pairKey(a: string, b: string): string {
  return [a, b].sort().join("|");
}

export function nodeKey(index: number, label: string): string {
  return `${index}/${label}`;
}
