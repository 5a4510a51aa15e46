/**
 * Models known to answer with text only (no word timestamps, no diarization).
 * For them the chunker cuts at silences without overlap, since there are no
 * word times to resolve an overlap with.
 */
const TEXT_ONLY_MODELS = [/voxtral/i];

export function isTextOnlyModel(model: string): boolean {
  return TEXT_ONLY_MODELS.some((pattern) => pattern.test(model));
}
