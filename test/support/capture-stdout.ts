/**
 * Captures what is written to stdout (Powertools' embedded-metric-format lines) while a test runs, as JSON
 * objects, one per line that is a JSON object.
 */
import { vi } from "vitest";

export type StdoutLine = Record<string, any>;

export function captureStdout(): { lines: () => StdoutLine[]; restore: () => void } {
  const written: string[] = [];
  const spy = vi.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
    written.push(String(chunk));
    return true;
  });
  return {
    lines: () => written.join("").split("\n").filter((l) => l.startsWith("{")).map((l) => JSON.parse(l) as StdoutLine),
    restore: () => spy.mockRestore(),
  };
}
