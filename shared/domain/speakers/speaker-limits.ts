import type { SpeakerMap } from "../types.js";
import { pairKey, type SpeakerBook } from "./speaker-book.js";

export interface SpeakerLimits {
  minSpeakers?: number;
  maxSpeakers?: number;
}

export interface LimitedSpeakers {
  map: SpeakerMap;
  /** [merged voice, into voice], in the order applied. */
  merged: Array<[string, string]>;
  /** Voices split off to reach the minimum. */
  split: string[];
}

/**
 * Makes the transcript keep the job's speaker limits, which the provider can
 * only keep per request (each segment may merge a different pair).
 *
 * Too many voices: the two the evidence separates least are merged, again
 * and again: the pair the diarizer confused most often in probes, and among
 * equally separated pairs, the one with the least speech, merged into the
 * larger voice. Too few: labels that were settled only by a fallback (no
 * diarizer verdict) are given back their own voice, the voice with most such
 * labels first; a voice is never invented where nothing suggests one, so the
 * minimum can stay unmet.
 */
export function limitSpeakers(book: SpeakerBook, limits: SpeakerLimits): LimitedSpeakers {
  const map: SpeakerMap = structuredClone(book.map) as SpeakerMap;
  const seconds = new Map(book.voices.map((v) => [v.id, v.seconds]));
  const used = () => [...new Set(Object.values(map).flatMap((labels) => Object.values(labels)))].sort();
  const merged: Array<[string, string]> = [];
  const split: string[] = [];

  const max = limits.maxSpeakers;
  while (max !== undefined && max >= 1 && used().length > max) {
    const voices = used();
    let best: { a: string; b: string; closeness: number; smaller: number } | undefined;
    for (let i = 0; i < voices.length; i++) {
      for (let j = i + 1; j < voices.length; j++) {
        const closeness = book.closeness[pairKey(voices[i], voices[j])] ?? 0;
        const smaller = Math.min(seconds.get(voices[i]) ?? 0, seconds.get(voices[j]) ?? 0);
        if (!best || closeness > best.closeness || (closeness === best.closeness && smaller < best.smaller)) {
          best = { a: voices[i], b: voices[j], closeness, smaller };
        }
      }
    }
    const { a, b } = best!;
    const [from, into] = (seconds.get(a) ?? 0) <= (seconds.get(b) ?? 0) ? [a, b] : [b, a];
    for (const labels of Object.values(map)) for (const local of Object.keys(labels)) if (labels[local] === from) labels[local] = into;
    seconds.set(into, (seconds.get(into) ?? 0) + (seconds.get(from) ?? 0));
    merged.push([from, into]);
  }

  const min = limits.minSpeakers;
  if (min !== undefined) {
    const weakByVoice = new Map<string, string[]>();
    for (const node of book.weak) {
      const [index, label] = splitNode(node);
      const voice = map[index]?.[label];
      if (voice !== undefined) weakByVoice.set(voice, [...(weakByVoice.get(voice) ?? []), node]);
    }
    const order = [...weakByVoice].sort((x, y) => y[1].length - x[1].length || (x[0] < y[0] ? -1 : 1));
    for (const [voice, nodes] of order) {
      if (used().length >= min) break;
      const others = Object.entries(map).some(([index, labels]) =>
        Object.entries(labels).some(([label, v]) => v === voice && !nodes.includes(`${index}/${label}`)),
      );
      if (!others) continue;
      const id = `${voice}:split`;
      for (const node of nodes) {
        const [index, label] = splitNode(node);
        map[index][label] = id;
      }
      split.push(voice);
    }
  }
  return { map, merged, split };
}

function splitNode(node: string): [number, string] {
  const slash = node.indexOf("/");
  return [Number(node.slice(0, slash)), node.slice(slash + 1)];
}
