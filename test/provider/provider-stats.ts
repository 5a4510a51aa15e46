/** Counters a test reads to check what the client did: how many calls, how parallel, what it cost. */

export interface ProviderStats {
  requests: number;
  /** HTTP status (as text) or "timeout" / "reset" for dropped connections. */
  byStatus: Record<string, number>;
  inFlight: number;
  maxInFlight: number;
  /** Seconds of audio in successfully answered requests. */
  audioSecondsBilled: number;
  faultsInjected: number;
  faultsByKind: Record<string, number>;
  /** Answered transcription requests by the `language` they asked for ("auto" when none). */
  languagesRequested: Record<string, number>;
  /** Words answered in a language other than their true one (a forced wrong `language`: heard-language.ts). */
  wrongLanguageWords: number;
  /** Transcription requests whose exact bytes were heard before (decoded and located once, answered from memory). */
  uploadsHeardBefore: number;
  /** Uploads placed through earlier ones they are exact slices of (the `rehearSlices` option), not searched for. */
  uploadsRehearsed: number;
}

export function emptyStats(): ProviderStats {
  return { requests: 0, byStatus: {}, inFlight: 0, maxInFlight: 0, audioSecondsBilled: 0, faultsInjected: 0, faultsByKind: {}, languagesRequested: {}, wrongLanguageWords: 0, uploadsHeardBefore: 0, uploadsRehearsed: 0 };
}

export function countInto(counts: Record<string, number>, key: string): void {
  counts[key] = (counts[key] ?? 0) + 1;
}
