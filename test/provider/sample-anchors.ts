/**
 * Content-defined anchors in 16-bit samples, for finding lossless audio sample for sample: a position is an
 * anchor when the ANCHOR_WINDOW samples from it hash to a value with its low ANCHOR_BITS bits zero (about one
 * position in 256), and the window is not quiet (silence and a noise floor repeat everywhere). The same samples
 * give the same anchors wherever they sit, so a slice has its anchors where its source does.
 */
export const ANCHOR_WINDOW = 8;
export const ANCHOR_BITS = 8;
const ANCHOR_MASK = (1 << ANCHOR_BITS) - 1;
/** Windows whose samples all stay below this are silence or a noise floor: no anchor there. */
export const QUIET = 256;

/** The anchor's hash at `at`, or undefined when `at` is no anchor. */
export function anchorHash(samples: Int16Array, at: number): number | undefined {
  let hash = 0x811c9dc5;
  let loud = false;
  for (let i = at; i < at + ANCHOR_WINDOW; i++) {
    const value = samples[i];
    if (value >= QUIET || value <= -QUIET) loud = true;
    hash = Math.imul(hash ^ (value & 0xffff), 0x01000193);
  }
  if (!loud || (hash & ANCHOR_MASK) !== 0) return undefined;
  return hash >>> 0;
}
