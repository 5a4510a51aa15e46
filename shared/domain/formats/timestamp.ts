/** HH:MM:SS,mmm (SubRip) or HH:MM:SS.mmm (WebVTT) from whole milliseconds. */
export function formatTimestamp(ms: number, separator: "," | "."): string {
  const total = Math.max(0, Math.round(ms));
  const pad = (n: number, width: number) => String(n).padStart(width, "0");
  const hours = Math.floor(total / 3_600_000);
  const minutes = Math.floor(total / 60_000) % 60;
  const seconds = Math.floor(total / 1000) % 60;
  return `${pad(hours, 2)}:${pad(minutes, 2)}:${pad(seconds, 2)}${separator}${pad(total % 1000, 3)}`;
}
