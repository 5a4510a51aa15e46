import { createHash } from "node:crypto";

/**
 * A job is the pair (object version, options): the same S3 event delivered
 * twice is one job, while the same file re-uploaded with other options is a
 * new one. Without versioning the ETag stands for the version.
 */
export function makeJobId(source: { bucket: string; key: string; versionId?: string; etag?: string }, canonicalOptions: string): string {
  const version = source.versionId ?? source.etag?.replace(/"/g, "") ?? "";
  const digest = createHash("sha256")
    .update([source.bucket, source.key, version, canonicalOptions].join("\n"))
    .digest("hex");
  return digest.slice(0, 24);
}
