/**
 * Six espeak-ng voices that differ in accent, formant variant, pitch and speed, so their
 * clips differ acoustically (as real speakers would) and a diarizer stand-in can tell them apart.
 */
export interface VoiceDefinition {
  /** File stem under clips/ and the identity of the voice in truth data. */
  id: string;
  /** espeak-ng -v argument: language voice + variant. */
  espeakVoice: string;
  /** espeak-ng -p, 0-99. */
  pitch: number;
  /** espeak-ng -s, words per minute. */
  speed: number;
}

export const VOICES: readonly VoiceDefinition[] = [
  { id: "us-m3", espeakVoice: "en-us+m3", pitch: 35, speed: 165 },
  { id: "gb-f2", espeakVoice: "en-gb+f2", pitch: 65, speed: 175 },
  { id: "en-m1-deep", espeakVoice: "en+m1", pitch: 15, speed: 140 },
  { id: "us-f4", espeakVoice: "en-us+f4", pitch: 80, speed: 190 },
  { id: "scot-m7", espeakVoice: "en-gb-scotland+m7", pitch: 45, speed: 155 },
  { id: "en-f3-quick", espeakVoice: "en+f3", pitch: 55, speed: 210 },
];
