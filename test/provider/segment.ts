/**
 * Step 2: decide, frame by frame, which candidate placement explains the upload (or none), with a
 * penalty for switching. This is what makes spliced uploads work: each piece gets its own placement,
 * and the switch lands where one piece's sound stops matching and the next one's starts.
 */
import { SOUND_DB, type Envelope } from "./envelope.js";
import { frameCost } from "./frame-cost.js";
import type { Candidate } from "./candidates.js";

/** What a sound frame costs when nothing known explains it. */
const UNKNOWN_SOUND_COST = 0.6;
/** Keeps a placement from being stretched past the end of its recording. */
const OUTSIDE_RECORDING_COST = 0.3;
/** About ten frames of misfit: a switch must pay for itself over a real stretch of audio. */
const SWITCH_COST = 4;

export interface FrameRun {
  /** Index into the candidates, or -1 for audio nothing explains. */
  candidate: number;
  startFrame: number;
  endFrame: number;
}

export function segmentUpload(upload: Envelope, candidates: Candidate[]): FrameRun[] {
  const frames = upload.length;
  if (frames === 0) return [];
  const unknown = candidates.length;
  const states = candidates.length + 1;
  let previous = new Float64Array(states);
  let current = new Float64Array(states);
  const switchedInto = new Uint8Array(frames * states);
  const bestBefore = new Int32Array(frames);

  for (let frame = 0; frame < frames; frame++) {
    let best = 0;
    for (let state = 1; state < states; state++) if (previous[state] < previous[best]) best = state;
    bestBefore[frame] = best;
    const switchCost = previous[best] + SWITCH_COST;
    for (let state = 0; state < states; state++) {
      const cost = state === unknown ? unknownCost(upload.loudness[frame]) : placementCost(upload, candidates[state], frame);
      if (switchCost < previous[state]) {
        current[state] = switchCost + cost;
        switchedInto[frame * states + state] = 1;
      } else {
        current[state] = previous[state] + cost;
      }
    }
    [previous, current] = [current, previous];
  }

  let state = 0;
  for (let s = 1; s < states; s++) if (previous[s] < previous[state]) state = s;
  const path = new Int32Array(frames);
  for (let frame = frames - 1; frame >= 0; frame--) {
    path[frame] = state;
    if (switchedInto[frame * states + state]) state = bestBefore[frame];
  }
  // Ties go to the path without switches, so a piece keeps the silence its recording also has; silence
  // left to "unknown" is where the recording had sound the upload lacks (a splice point).
  return toRuns(path, unknown);
}

function unknownCost(uploadDb: number): number {
  return uploadDb > SOUND_DB ? UNKNOWN_SOUND_COST : 0;
}

function placementCost(upload: Envelope, candidate: Candidate, frame: number): number {
  const at = frame + candidate.offsetFrames;
  const outside = at < 0 || at >= candidate.target.envelope.length;
  return frameCost(upload, frame, candidate.target.envelope, at) + (outside ? OUTSIDE_RECORDING_COST : 0);
}

function toRuns(path: Int32Array, unknown: number): FrameRun[] {
  const runs: FrameRun[] = [];
  for (let frame = 0; frame < path.length; frame++) {
    const candidate = path[frame] === unknown ? -1 : path[frame];
    const last = runs[runs.length - 1];
    if (last && last.candidate === candidate) last.endFrame = frame + 1;
    else runs.push({ candidate, startFrame: frame, endFrame: frame + 1 });
  }
  return runs;
}
