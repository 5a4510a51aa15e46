import type { NamedSegment, SpeakerMap, Transcript } from "../types.js";

/**
 * People's names for speaker labels. Two sources: the speaker book's `names` (voice id -> the enrolled
 * person it was found to be, or null for "checked, nobody enrolled"), applied when the job is stitched; and
 * renames a user makes afterwards (pipeline/rename-speaker.ts), kept on the job record.
 */

export interface NamedSpeakerMap {
  /** The speaker map to stitch with: `limited`, with labels of the same person joined into one. */
  map: SpeakerMap;
  /** Label (a value of `map`) -> the person's name, for the labels that have one. */
  names: Record<string, string>;
  /** [joined label, into label], for the log: labels that turned out to be one enrolled person. */
  joined: Array<[string, string]>;
}

/**
 * Names the labels of the speaker map the limits left (`limited`, speaker-limits.ts), from the names the
 * book gives its voices. A label may hold several of the book's voices (merged for --max-speakers) or part of
 * one (split for --min-speakers), so each label is named by the book voices of its own segment-local labels:
 * when every one of them that has a name has the same name, the label gets it; when they disagree, or none is
 * named (null, or not checked), the label keeps no name and is shown as itself.
 *
 * Two labels that end up with the same name are one enrolled person: they become one label, the one the
 * words reach first (the stitcher numbers labels by first appearance, so it is the earlier of the two).
 */
export function nameSpeakerMap(
  bookMap: Readonly<Record<string, Readonly<Record<string, string>>>>,
  voiceNames: Readonly<Record<string, string | null>> | undefined,
  limited: SpeakerMap,
): NamedSpeakerMap {
  const map = structuredClone(limited) as SpeakerMap;
  if (!voiceNames) return { map, names: {}, joined: [] };

  // Label -> the distinct names of its voices, in the order the segments reach them.
  const order: string[] = [];
  const heard = new Map<string, Set<string>>();
  for (const index of Object.keys(map).map(Number).sort((a, b) => a - b)) {
    for (const [local, label] of Object.entries(map[index]).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      if (!heard.has(label)) {
        heard.set(label, new Set());
        order.push(label);
      }
      const voice = bookMap[String(index)]?.[local];
      const name = voice === undefined ? undefined : voiceNames[voice];
      if (typeof name === "string") heard.get(label)!.add(name);
    }
  }

  const names: Record<string, string> = {};
  const labelOfName = new Map<string, string>();
  const joinedInto = new Map<string, string>();
  const joined: Array<[string, string]> = [];
  for (const label of order) {
    const distinct = heard.get(label)!;
    if (distinct.size !== 1) continue;
    const [name] = distinct;
    const first = labelOfName.get(name);
    if (first === undefined) {
      labelOfName.set(name, label);
      names[label] = name;
    } else {
      joinedInto.set(label, first);
      joined.push([label, first]);
    }
  }
  if (joinedInto.size > 0) {
    for (const labels of Object.values(map)) {
      for (const local of Object.keys(labels)) labels[local] = joinedInto.get(labels[local]) ?? labels[local];
    }
  }
  return { map, names, joined };
}

/** The longest name a speaker may have, in characters (code points). */
export const MAX_SPEAKER_NAME_CHARS = 64;

/**
 * Control characters, line and paragraph separators (they would break the one-line-per-utterance text
 * output), and the bidirectional controls that can make a name display as something else.
 */
const FORBIDDEN = /[\p{Cc}\p{Zl}\p{Zp}\u061C\u200E\u200F\u202A-\u202E\u2066-\u2069]/u;

export type SpeakerNameCheck = { ok: true; name: string } | { ok: false; reason: string };

/** A name as given (a rename, an enrolment): trimmed, 1..64 characters, none of them a control character. */
export function checkSpeakerName(raw: string): SpeakerNameCheck {
  const name = raw.trim();
  const length = [...name].length;
  if (length === 0) return { ok: false, reason: "a speaker name must not be empty" };
  if (length > MAX_SPEAKER_NAME_CHARS) return { ok: false, reason: `a speaker name has at most ${MAX_SPEAKER_NAME_CHARS} characters (this one has ${length})` };
  if (FORBIDDEN.test(name)) return { ok: false, reason: "a speaker name must not contain control characters or line breaks" };
  return { ok: true, name };
}

/** The transcript with `names` as its speakers' names: only for labels it has, and none when empty. */
export function withSpeakerNames(t: Transcript, names: Readonly<Record<string, string>> | undefined): Transcript {
  const known = new Set(t.speakers);
  const kept = Object.fromEntries(Object.entries(names ?? {}).filter(([label]) => known.has(label)));
  const { speaker_names: _old, ...rest } = t;
  return Object.keys(kept).length > 0 ? { ...rest, speaker_names: kept } : rest;
}

/**
 * The name shown for a speaker label: its person's name, else the label itself. A line break or control
 * character (a name that did not come through checkSpeakerName) shows as a space, so it cannot break a line
 * of a text or caption file.
 */
export function speakerDisplayName(t: Pick<Transcript, "speaker_names">, label: string): string {
  const names = t.speaker_names;
  if (!names || !Object.hasOwn(names, label)) return label;
  return names[label].replace(/[\p{Cc}\p{Zl}\p{Zp}]+/gu, " ");
}

/** The transcript's utterances as the job table stores them, each with its speaker's name where it has one. */
export function namedSegments(t: Transcript): NamedSegment[] {
  return t.segments.map((s) => {
    const name = s.speaker_id === null ? undefined : t.speaker_names?.[s.speaker_id];
    return name === undefined ? { ...s } : { ...s, speaker_name: name };
  });
}
