import { createHash } from "node:crypto";

/** Text for HTML element content and quoted attribute values: every character markup could use is escaped. */
export function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => ESCAPES[c]);
}

const ESCAPES: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/**
 * JSON for a `<script type="application/json">` element, read back with JSON.parse(el.textContent). Inside
 * a script element nothing is decoded, and only `<` can end it early (`</script>`, `<!--`): `<` occurs only
 * inside JSON strings, where `\u003c` means the same character.
 */
export function jsonForScript(value: unknown): string {
  return JSON.stringify(value).replace(/</g, "\\u003c");
}

/** A Content-Security-Policy source for an inline script or style: only that exact text may run. */
export function cspHash(text: string): string {
  return `'sha256-${createHash("sha256").update(text, "utf8").digest("base64")}'`;
}

/** `3:07`, `1:02:03`. */
export function clockTime(seconds: number): string {
  const total = Math.max(0, Math.floor(seconds));
  const h = Math.floor(total / 3600);
  const m = Math.floor((total % 3600) / 60);
  const s = total % 60;
  const mm = h > 0 ? String(m).padStart(2, "0") : String(m);
  return `${h > 0 ? `${h}:` : ""}${mm}:${String(s).padStart(2, "0")}`;
}

/** The last part of an object key, for titles and download names. */
export function baseName(key: string): string {
  const parts = key.split("/");
  return parts[parts.length - 1] || key;
}
