/**
 * S3 user metadata travels as HTTP headers, so values must be ASCII. Clients
 * (the AWS console, boto3 with non-ASCII input) carry other text as RFC 2047
 * "encoded words", =?UTF-8?B?...?=; a prompt in Japanese arrives like that.
 */

const ENCODED_WORD = /=\?([^?]+)\?([BbQq])\?([^?]*)\?=/g;

/** Decodes RFC 2047 encoded words (UTF-8 only); other text is returned as is. */
export function decodeMetadataValue(value: string): string {
  // Whitespace between two adjacent encoded words is not part of the text (RFC 2047 section 6.2).
  const joined = value.replace(/(\?=)\s+(=\?)/g, "$1$2");
  return joined.replace(ENCODED_WORD, (whole, charset: string, encoding: string, text: string) => {
    if (!/^utf-?8$/i.test(charset)) return whole;
    const bytes =
      encoding.toUpperCase() === "B"
        ? Buffer.from(text, "base64")
        : Buffer.from(
            text.replace(/_/g, " ").replace(/=([0-9A-Fa-f]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16))),
            "latin1",
          );
    return bytes.toString("utf8");
  });
}

/** Encodes a value for S3 metadata: printable ASCII stays readable, anything else becomes one B-encoded word. */
export function encodeMetadataValue(value: string): string {
  if (/^[\x20-\x7e]*$/.test(value) && !value.includes("=?")) return value;
  return `=?UTF-8?B?${Buffer.from(value, "utf8").toString("base64")}?=`;
}
