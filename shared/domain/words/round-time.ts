/** Rounds seconds to whole milliseconds, the precision of every output format. */
export function roundMs(seconds: number): number {
  return Math.round(seconds * 1000) / 1000;
}

/**
 * Removes floating-point noise from frame arithmetic (0.01 * 3 = 0.030000000000000002)
 * without losing the sub-millisecond precision of a frame grid.
 */
export function roundMicro(seconds: number): number {
  return Math.round(seconds * 1e6) / 1e6;
}
