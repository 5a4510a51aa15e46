/** A known recording prepared for searching: its envelope and its sound events grouped by length. */
import type { Recording } from "../audio/recording.js";
import { frameEnvelope, soundEvents, type Envelope, type SoundEvent } from "./envelope.js";

export interface IndexedEvent extends SoundEvent {
  /** Silent frames before this event since the previous one (capped), a cheap identity check. */
  gapBefore: number;
  gapAfter: number;
}

export interface IndexedRecording {
  recording: Recording;
  envelope: Envelope;
  eventsByLength: Map<number, IndexedEvent[]>;
}

/** Pauses longer than this all look alike to the gap check. */
export const GAP_CAP_FRAMES = 100;

export function indexRecording(recording: Recording): IndexedRecording {
  const envelope = frameEnvelope(recording.samples);
  const eventsByLength = new Map<number, IndexedEvent[]>();
  for (const event of withGaps(soundEvents(envelope), envelope.length)) {
    const sameLength = eventsByLength.get(event.length);
    if (sameLength) sameLength.push(event);
    else eventsByLength.set(event.length, [event]);
  }
  return { recording, envelope, eventsByLength };
}

/** Gaps to the neighbouring events; unknown (-1) where a neighbour is missing or the edge is near. */
export function withGaps(events: SoundEvent[], frames: number): IndexedEvent[] {
  return events.map((event, index) => {
    const previous = events[index - 1];
    const next = events[index + 1];
    const end = event.start + event.length;
    const gapBefore = previous
      ? Math.min(GAP_CAP_FRAMES, event.start - previous.start - previous.length)
      : event.start >= GAP_CAP_FRAMES ? GAP_CAP_FRAMES : -1;
    const gapAfter = next ? Math.min(GAP_CAP_FRAMES, next.start - end) : frames - end >= GAP_CAP_FRAMES ? GAP_CAP_FRAMES : -1;
    return { ...event, gapBefore, gapAfter };
  });
}
