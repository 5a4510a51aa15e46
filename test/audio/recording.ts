/** Test audio with exactly known content: what was said, by whom, and when, to the sample. */

export interface TrueWord {
  word: string;
  /** Seconds from the start of the recording: the first sample of the word's clip. */
  start: number;
  /** Seconds: just after the last sample of the clip (start + clip length / 16000). */
  end: number;
  /** "S1".."S6". */
  speaker: string;
  /**
   * The language the word is spoken in, an ISO 639-1 code; absent means English. A label of the truth data
   * only: the clip bank is English espeak clips, so a "German" word sounds like the English one.
   */
  language?: string;
}

export interface Recording {
  id: string;
  sampleRate: 16000;
  samples: Int16Array;
  words: TrueWord[];
  /** Speakers that can occur, in order ("S1", "S2", ...), even if one never gets to speak. */
  speakers: string[];
  /** Seconds: samples.length / sampleRate. */
  duration: number;
  /**
   * The clip-bank voice behind each speaker (same order as speakers). Two recordings that share a
   * voice share a real-world speaker, so a diarizer stand-in groups by voice, not by label.
   */
  speakerVoices?: string[];
}
