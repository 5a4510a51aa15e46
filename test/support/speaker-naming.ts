import { GetObjectCommand } from "@aws-sdk/client-s3";
import { keys } from "../../shared/adapters/object-store.js";
import { speakerBookSchema, type SpeakerBook } from "../../shared/domain/speakers/speaker-book.js";
import type { SegmentResult } from "../../shared/domain/types.js";
import type { StackSession } from "../../cli/stack-session.js";
import type { Recording } from "../audio/conversation.js";

/** What naming said about each true speaker: the name most of its words got (null: nobody; undefined: never decided). */
export interface NamingOutcome {
  /** True speaker ("S1") -> the name on most of its words. */
  byTrueSpeaker: Map<string, string | null | undefined>;
  book: SpeakerBook;
}

async function readJson<T>(session: StackSession, key: string): Promise<T> {
  const out = await session.clients.s3.send(new GetObjectCommand({ Bucket: session.resources.buckets.work, Key: key }));
  return JSON.parse(await out.Body!.transformToString()) as T;
}

/**
 * Reads a completed job's last speaker book and its segment results, and finds for every true speaker of the
 * recording the name its words were given: each result word is matched to the true word at its time, its
 * label to the book's voice, and that voice to its name. Independent of how the outputs show names.
 */
export async function namingOutcome(session: StackSession, jobId: string, segmentCount: number, truth: Recording): Promise<NamingOutcome> {
  const book = speakerBookSchema.parse(await readJson(session, keys.speakerBook(jobId, segmentCount)));
  const tallies = new Map<string, Map<string, number>>();
  for (let index = 0; index < segmentCount; index++) {
    const result = await readJson<SegmentResult>(session, keys.segmentResult(jobId, index));
    for (const word of result.words ?? []) {
      if (!word.speaker) continue;
      const voice = book.map[index]?.[word.speaker];
      if (voice === undefined) continue;
      const at = result.segment.start + word.start;
      const truthWord = nearest(truth, at);
      if (!truthWord) continue;
      const name = book.names?.[voice];
      const key = name === undefined ? "#undecided" : name === null ? "#nobody" : name;
      const tally = tallies.get(truthWord.speaker) ?? new Map<string, number>();
      tally.set(key, (tally.get(key) ?? 0) + 1);
      tallies.set(truthWord.speaker, tally);
    }
  }
  const byTrueSpeaker = new Map<string, string | null | undefined>();
  for (const [speaker, tally] of tallies) {
    const [best] = [...tally].sort((a, b) => b[1] - a[1]);
    byTrueSpeaker.set(speaker, best[0] === "#undecided" ? undefined : best[0] === "#nobody" ? null : best[0]);
  }
  return { byTrueSpeaker, book };
}

function nearest(truth: Recording, at: number) {
  let best: Recording["words"][number] | undefined;
  let distance = 0.6;
  for (const word of truth.words) {
    const d = Math.abs(word.start - at);
    if (d < distance) {
      distance = d;
      best = word;
    }
  }
  return best;
}
