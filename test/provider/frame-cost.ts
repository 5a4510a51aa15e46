/** How badly one upload frame disagrees with one recording frame (0 = same sound, 1 = different). */
import { FLOOR_DB, SOUND_DB, type Envelope } from "./envelope.js";

/** Codecs and a frame grid that is not aligned with the recording's move frame energy by a few dB. */
const FREE_DB = 4;
const FULL_MISMATCH_DB = 16;
/** Brightness is a ratio, steadier than loudness, but lossy codecs trim the top band a little. */
const FREE_BRIGHTNESS_DB = 3;
const FULL_MISMATCH_BRIGHTNESS_DB = 9;

export function frameCost(upload: Envelope, uploadFrame: number, recording: Envelope, recordingFrame: number): number {
  const inside = recordingFrame >= 0 && recordingFrame < recording.length;
  const uploadDb = upload.loudness[uploadFrame];
  const recordingDb = inside ? recording.loudness[recordingFrame] : FLOOR_DB;
  const uploadSound = uploadDb > SOUND_DB;
  const recordingSound = recordingDb > SOUND_DB;
  if (!uploadSound && !recordingSound) return 0;
  const loudnessCost = ramp(Math.abs(uploadDb - recordingDb), FREE_DB, FULL_MISMATCH_DB);
  if (!uploadSound || !recordingSound) return loudnessCost;
  const brightnessDifference = Math.abs(upload.brightness[uploadFrame] - recording.brightness[recordingFrame]);
  return Math.max(loudnessCost, ramp(brightnessDifference, FREE_BRIGHTNESS_DB, FULL_MISMATCH_BRIGHTNESS_DB));
}

function ramp(difference: number, free: number, full: number): number {
  if (difference <= free) return 0;
  if (difference >= full) return 1;
  return (difference - free) / (full - free);
}
