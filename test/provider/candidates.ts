/**
 * Step 1 of locating an upload: propose where its pieces could come from. Each sound event of the
 * upload is compared with recording events of about the same length; a match proposes "upload
 * frame t = recording frame t + offset". Proposals are ranked by how far around the event the
 * placement keeps matching (its extent): the true placement matches up to the piece's splice
 * points, a look-alike (the same word said elsewhere) only over the word itself.
 *
 * Speed: an event already explained by a placement found earlier skips the search (a continuous
 * chunk is searched for only at its first events), and a search first tries only recording events
 * whose pause before or after matches too.
 */
import { soundEvents, type Envelope } from "./envelope.js";
import { frameCost } from "./frame-cost.js";
import { withGaps, type IndexedEvent, type IndexedRecording } from "./indexed-recording.js";

export interface Candidate {
  target: IndexedRecording;
  /** Recording frame = upload frame + offsetFrames. */
  offsetFrames: number;
  /** How many upload events this placement explains. */
  support: number;
  /** The longest stretch (frames) around one of its events over which it matches. */
  extent: number;
}

/** Codec smear and frame-grid misalignment change event lengths and gaps by a frame or two. */
const LENGTH_TOLERANCE_FRAMES = 3;
const GAP_TOLERANCE_FRAMES = 4;
/** Context beyond the event itself may already belong to another spliced piece: keep it short. */
const CONTEXT_FRAMES = 3;
/** Mean frame cost over the event window above which a proposal is dropped. */
const MAX_LOCAL_COST = 0.2;
/** Extent: frames costing more than this are mismatches; this many in a row end the extent. */
const EXTENT_FRAME_COST = 0.5;
const EXTENT_MAX_MISSES = 3;
const EXTENT_LIMIT_FRAMES = 400;
/** Proposals within this many frames of each other are the same placement. */
const SAME_PLACEMENT_FRAMES = 2;
/** How many established placements are tried before searching afresh. */
const ESTABLISHED_TO_TRY = 8;
const MAX_SUPPORTED = 48;
const SINGLE_EVENT_KEEP = 3;
const MAX_CANDIDATES = 128;
/** An event starting within this many frames of the upload's start touches that edge (envelope.ts's merge gap). */
const EDGE_FRAMES = 3;

type Alignment = "whole" | "head" | "tail";

interface EventContext {
  upload: Envelope;
  event: IndexedEvent;
  eventIndex: number;
  targets: IndexedRecording[];
  placements: PlacementSet;
}

/**
 * `singleEventKeep`: placements kept per upload event that only one event supports (by extent). A short
 * upload's lone word may fit many places equally; the caller can keep them all and choose by waveform.
 */
export function findCandidates(upload: Envelope, targets: IndexedRecording[], singleEventKeep = SINGLE_EVENT_KEEP): Candidate[] {
  const placements = new PlacementSet();
  const events = withGaps(soundEvents(upload), upload.length);
  events.forEach((event, eventIndex) => {
    if (event.touchesEdge) return;
    const context: EventContext = { upload, event, eventIndex, targets, placements };
    for (const placement of placements.established(ESTABLISHED_TO_TRY)) {
      if (tryPlacement(context, placement.targetIndex, placement.offsetFrames, "whole")) return;
    }
    if (searchWhole(context, true) || searchWhole(context, false)) return;
    // The event may be a word cut by a splice: its start or its end still lines up with the recording.
    searchPartial(context);
  });
  if (placements.isEmpty()) {
    // A short upload may hold nothing but words close to its edges (a live piece cut in a brief pause).
    // Their far side is unreliable, but the side away from the edge still lines up: a model hears them.
    events.forEach((event, eventIndex) => {
      if (!event.touchesEdge) return;
      const context: EventContext = { upload, event, eventIndex, targets, placements };
      searchFromInnerSide(context, event.start <= EDGE_FRAMES ? "tail" : "head");
    });
  }
  return placements.select(targets, singleEventKeep);
}

/** Like searchPartial, for an event whose one edge is the upload's: only its inner side must line up. */
function searchFromInnerSide(context: EventContext, alignment: "head" | "tail"): void {
  const { event, targets } = context;
  targets.forEach((target, targetIndex) => {
    for (const [length, known] of target.eventsByLength) {
      if (length < event.length - LENGTH_TOLERANCE_FRAMES) continue;
      for (const candidate of known) {
        if (alignment === "head" && gapFits(event.gapBefore, candidate.gapBefore, event.start)) {
          tryPlacement(context, targetIndex, candidate.start - event.start, "head");
        }
        if (alignment === "tail" && gapFits(event.gapAfter, candidate.gapAfter, context.upload.length - event.start - event.length)) {
          tryPlacement(context, targetIndex, candidate.start + candidate.length - (event.start + event.length), "tail");
        }
      }
    }
  });
}

function searchWhole(context: EventContext, requireGapMatch: boolean): boolean {
  const { event, targets } = context;
  let found = false;
  targets.forEach((target, targetIndex) => {
    for (let length = event.length - LENGTH_TOLERANCE_FRAMES; length <= event.length + LENGTH_TOLERANCE_FRAMES; length++) {
      for (const known of target.eventsByLength.get(length) ?? []) {
        if (requireGapMatch && !closeGaps(event.gapBefore, known.gapBefore) && !closeGaps(event.gapAfter, known.gapAfter)) continue;
        if (tryPlacement(context, targetIndex, known.start - event.start, "whole")) found = true;
      }
    }
  });
  return found;
}

function searchPartial(context: EventContext): void {
  const { event, targets } = context;
  targets.forEach((target, targetIndex) => {
    for (const [length, known] of target.eventsByLength) {
      if (length < event.length + LENGTH_TOLERANCE_FRAMES) continue;
      for (const candidate of known) {
        if (closeGaps(event.gapBefore, candidate.gapBefore)) {
          tryPlacement(context, targetIndex, candidate.start - event.start, "head");
        }
        if (closeGaps(event.gapAfter, candidate.gapAfter)) {
          const end = candidate.start + candidate.length;
          tryPlacement(context, targetIndex, end - (event.start + event.length), "tail");
        }
      }
    }
  });
}

/**
 * A gap measured in the upload against the recording's; the upload's first (last) gap is unknown (-1)
 * when the upload starts (ends) in it, and then the recording's must be at least the silence it shows.
 */
function gapFits(uploadGap: number, knownGap: number, silenceAtEdge: number): boolean {
  if (uploadGap >= 0) return closeGaps(uploadGap, knownGap);
  return knownGap < 0 || knownGap >= silenceAtEdge - GAP_TOLERANCE_FRAMES;
}

function closeGaps(a: number, b: number): boolean {
  return a >= 0 && b >= 0 && Math.abs(a - b) <= GAP_TOLERANCE_FRAMES;
}

function tryPlacement(context: EventContext, targetIndex: number, offset: number, alignment: Alignment): boolean {
  const { upload, event, targets } = context;
  const recording = targets[targetIndex].envelope;
  const end = event.start + event.length;
  // Context is checked only on the sides that belong to this piece.
  const from = Math.max(0, alignment === "tail" ? event.start : event.start - CONTEXT_FRAMES);
  const to = Math.min(upload.length, alignment === "head" ? end : end + CONTEXT_FRAMES);
  if (windowCost(upload, recording, offset, from, to) > MAX_LOCAL_COST) return false;
  const extent =
    (to - from) +
    reach(upload, recording, offset, from - 1, -1) +
    reach(upload, recording, offset, to, 1);
  context.placements.add(targetIndex, offset, context.eventIndex, extent);
  return true;
}

/** Mean frame cost over [from, to), giving up early once it cannot stay under the limit. */
function windowCost(upload: Envelope, recording: Envelope, offset: number, from: number, to: number): number {
  const budget = MAX_LOCAL_COST * (to - from);
  let total = 0;
  for (let frame = from; frame < to; frame++) {
    total += frameCost(upload, frame, recording, frame + offset);
    if (total > budget) return Infinity;
  }
  return total / Math.max(1, to - from);
}

/** How many frames, walking from `frame` in `step` direction, the placement keeps matching. */
function reach(upload: Envelope, recording: Envelope, offset: number, frame: number, step: 1 | -1): number {
  let matched = 0;
  let misses = 0;
  for (let walked = 0; walked < EXTENT_LIMIT_FRAMES && frame >= 0 && frame < upload.length; walked++, frame += step) {
    if (frameCost(upload, frame, recording, frame + offset) > EXTENT_FRAME_COST) {
      if (++misses >= EXTENT_MAX_MISSES) break;
    } else {
      misses = 0;
      matched++;
    }
  }
  return matched;
}

interface Placement {
  targetIndex: number;
  offsetFrames: number;
  events: Set<number>;
  extent: number;
}

class PlacementSet {
  private readonly byKey = new Map<string, Placement>();
  private readonly all: Placement[] = [];

  add(targetIndex: number, offsetFrames: number, event: number, extent: number): void {
    let placement: Placement | undefined;
    for (let delta = -SAME_PLACEMENT_FRAMES; delta <= SAME_PLACEMENT_FRAMES && !placement; delta++) {
      placement = this.byKey.get(`${targetIndex}:${offsetFrames + delta}`);
    }
    if (!placement) {
      placement = { targetIndex, offsetFrames, events: new Set(), extent: 0 };
      this.all.push(placement);
    }
    this.byKey.set(`${targetIndex}:${offsetFrames}`, placement);
    placement.events.add(event);
    if (extent > placement.extent) {
      // The offset that matches furthest is the better estimate of the placement.
      placement.extent = extent;
      placement.offsetFrames = offsetFrames;
    }
  }

  isEmpty(): boolean {
    return this.all.length === 0;
  }

  established(limit: number): Placement[] {
    return this.all
      .filter((placement) => placement.events.size >= 2)
      .sort((a, b) => b.events.size - a.events.size)
      .slice(0, limit);
  }

  select(targets: IndexedRecording[], singleEventKeep: number): Candidate[] {
    const byStrength = [...this.all].sort((a, b) => b.events.size - a.events.size || b.extent - a.extent);
    const chosen = new Set<Placement>(byStrength.filter((p) => p.events.size >= 2).slice(0, MAX_SUPPORTED));
    const singlesByEvent = new Map<number, Placement[]>();
    for (const placement of this.all) {
      if (placement.events.size !== 1) continue;
      const [event] = placement.events;
      singlesByEvent.set(event, [...(singlesByEvent.get(event) ?? []), placement]);
    }
    for (const list of singlesByEvent.values()) {
      list.sort((a, b) => b.extent - a.extent);
      for (const placement of list.slice(0, singleEventKeep)) chosen.add(placement);
    }
    return [...chosen].slice(0, MAX_CANDIDATES).map((placement) => ({
      target: targets[placement.targetIndex],
      offsetFrames: placement.offsetFrames,
      support: placement.events.size,
      extent: placement.extent,
    }));
  }
}
