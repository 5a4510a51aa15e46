/** The label for the n-th global speaker, in the provider's own style: SPEAKER_00, SPEAKER_01, ... */
export function globalSpeakerLabel(n: number): string {
  return `SPEAKER_${String(n).padStart(2, "0")}`;
}

/** Orders labels by their number, so SPEAKER_10 follows SPEAKER_09. */
export function compareSpeakerLabels(a: string, b: string): number {
  const number = (label: string) => Number(/(\d+)$/.exec(label)?.[1] ?? NaN);
  const na = number(a);
  const nb = number(b);
  if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}
