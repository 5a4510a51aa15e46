/**
 * One-to-one assignment of rows to columns maximising the summed weight
 * (Hungarian method, O(n^3)). Rectangular matrices are padded with zero
 * weights; the answer gives, per row, its column or -1 when it got a pad.
 */
export function maxWeightAssignment(weights: readonly (readonly number[])[]): number[] {
  const rows = weights.length;
  const cols = rows === 0 ? 0 : Math.max(...weights.map((r) => r.length));
  const size = Math.max(rows, cols);
  if (size === 0) return [];
  let top = 0;
  for (const row of weights) for (const w of row) top = Math.max(top, w);
  const cost = (i: number, j: number) => top - (weights[i - 1]?.[j - 1] ?? 0);

  // Potentials u, v and the matching p (column -> row), 1-based, as in the classic formulation.
  const u = new Float64Array(size + 1);
  const v = new Float64Array(size + 1);
  const p = new Int32Array(size + 1);
  const way = new Int32Array(size + 1);
  for (let i = 1; i <= size; i++) {
    p[0] = i;
    let j0 = 0;
    const minv = new Float64Array(size + 1).fill(Infinity);
    const used = new Uint8Array(size + 1);
    do {
      used[j0] = 1;
      const i0 = p[j0];
      let delta = Infinity;
      let j1 = 0;
      for (let j = 1; j <= size; j++) {
        if (used[j]) continue;
        const reduced = cost(i0, j) - u[i0] - v[j];
        if (reduced < minv[j]) {
          minv[j] = reduced;
          way[j] = j0;
        }
        if (minv[j] < delta) {
          delta = minv[j];
          j1 = j;
        }
      }
      for (let j = 0; j <= size; j++) {
        if (used[j]) {
          u[p[j]] += delta;
          v[j] -= delta;
        } else minv[j] -= delta;
      }
      j0 = j1;
    } while (p[j0] !== 0);
    do {
      const j1 = way[j0];
      p[j0] = p[j1];
      j0 = j1;
    } while (j0 !== 0);
  }
  const rowToCol = new Array<number>(rows).fill(-1);
  for (let j = 1; j <= size; j++) {
    const i = p[j];
    if (i >= 1 && i <= rows && j <= cols) rowToCol[i - 1] = j - 1;
  }
  return rowToCol;
}
