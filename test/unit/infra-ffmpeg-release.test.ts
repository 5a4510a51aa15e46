/**
 * The pinned ffmpeg release for the layer (infra/ffmpeg-release.ts) and the layer's choice between it and
 * the npm binaries (infra/constructs/ffmpeg-layer.ts), with a fake release archive: no network.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App, Stack } from "aws-cdk-lib";
import { Annotations, Match, Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { FfmpegLayer, NPM_BUILD_WARNING } from "../../infra/constructs/ffmpeg-layer.js";
import { FFMPEG_RELEASE, RELEASE_LAYER_DIR, sha256File, unpackRelease, verifiedRelease, type FfmpegRelease } from "../../infra/ffmpeg-release.js";

/** A .tar.xz laid out like the real release (one folder holding ffmpeg and ffprobe), and its pin. */
function fakeRelease(): { archive: string; release: FfmpegRelease } {
  const dir = mkdtempSync(join(tmpdir(), "stt-fake-release-"));
  const inner = join(dir, "src", "ffmpeg-9.9-amd64-static");
  mkdirSync(inner, { recursive: true });
  for (const b of ["ffmpeg", "ffprobe"]) writeFileSync(join(inner, b), `#!/bin/sh\necho fake ${b}\n`, { mode: 0o700 });
  writeFileSync(join(inner, "readme.txt"), "not unpacked");
  const archive = join(dir, "ffmpeg-9.9-amd64-static.tar.xz");
  execFileSync("tar", ["-cJf", archive, "-C", join(dir, "src"), "ffmpeg-9.9-amd64-static"]);
  return { archive, release: { version: "9.9", urls: [], sha256: sha256File(archive), innerDir: "ffmpeg-9.9-amd64-static" } };
}

const newRoot = () => mkdtempSync(join(tmpdir(), "stt-root-"));

describe("the pinned release", () => {
  it("is a versioned static build pinned by a sha256", () => {
    expect(FFMPEG_RELEASE.sha256).toMatch(/^[0-9a-f]{64}$/);
    for (const url of FFMPEG_RELEASE.urls) expect(url).toMatch(new RegExp(`^https://.*ffmpeg-${FFMPEG_RELEASE.version}-amd64-static\\.tar\\.xz$`));
  });

  it("unpacks only ffmpeg and ffprobe, executable by anyone, into a folder git ignores", () => {
    // Prepare
    const { archive, release } = fakeRelease();
    const root = newRoot();
    // Act
    const manifest = unpackRelease(archive, root, release);
    // Assess
    const bin = join(root, RELEASE_LAYER_DIR, "bin");
    expect(readFileSync(join(bin, "ffprobe"), "utf8")).toContain("fake ffprobe");
    expect(statSync(join(bin, "ffmpeg")).mode & 0o777).toBe(0o755);
    expect(existsSync(join(bin, "readme.txt"))).toBe(false);
    expect(manifest.binaries.ffmpeg).toBe(sha256File(join(bin, "ffmpeg")));
    expect(readFileSync(join(root, ".layer", ".gitignore"), "utf8")).toMatch(/^\*$/m);
    expect(verifiedRelease(root, release)).toMatchObject({ ok: true });
  });

  it("refuses an archive whose sha256 is not the pin, and unpacks nothing", () => {
    // Prepare
    const { archive, release } = fakeRelease();
    const root = newRoot();
    // Act / Assess
    expect(() => unpackRelease(archive, root, { ...release, sha256: "0".repeat(64) })).toThrow(/is not the pinned 0{64}/);
    expect(existsSync(join(root, RELEASE_LAYER_DIR))).toBe(false);
    expect(verifiedRelease(root, release)).toEqual({ ok: false, problem: expect.stringMatching(/layer:fetch has not run/) });
  });

  it("no longer counts as verified once a binary changes or the pin moves on", () => {
    // Prepare
    const { archive, release } = fakeRelease();
    const root = newRoot();
    unpackRelease(archive, root, release);
    // Act / Assess
    expect(verifiedRelease(root, { ...release, version: "10.0", sha256: "1".repeat(64) })).toEqual({
      ok: false,
      problem: "the fetched release is ffmpeg 9.9, not the pinned 10.0",
    });
    writeFileSync(join(root, RELEASE_LAYER_DIR, "bin", "ffmpeg"), "tampered");
    expect(verifiedRelease(root, release)).toEqual({ ok: false, problem: expect.stringMatching(/bin\/ffmpeg does not match/) });
  });
});

describe("the layer's choice", () => {
  it("builds from the verified release when there is one, without a warning", () => {
    // Prepare
    const { archive, release } = fakeRelease();
    const root = newRoot();
    unpackRelease(archive, root, release);
    const stack = new Stack(new App({ context: { "aws:cdk:disable-asset-staging": true } }), "Release");
    // Act
    const layer = new FfmpegLayer(stack, "Ffmpeg", { projectRoot: root, release, warnOnNpmBuild: true });
    // Assess
    expect(layer.source).toBe("release");
    expect(layer.assetDir).toBe(join(root, RELEASE_LAYER_DIR));
    Template.fromStack(stack).hasResourceProperties("AWS::Lambda::LayerVersion", {
      Description: Match.stringLikeRegexp(`ffmpeg/ffprobe 9\\.9 static release \\(archive sha256 ${release.sha256}\\)`),
    });
    expect(Annotations.fromStack(stack).findWarning("*", Match.anyValue())).toEqual([]);
  });

  it("falls back to the npm binaries with a loud synth warning when nothing was fetched", () => {
    // Prepare: the repository's own node_modules, and an empty folder where a fetched release would be.
    const stack = new Stack(new App({ context: { "aws:cdk:disable-asset-staging": true } }), "Npm");
    const { release } = fakeRelease();
    // Act
    const layer = new FfmpegLayer(stack, "Ffmpeg", { projectRoot: process.cwd(), release, warnOnNpmBuild: true });
    // Assess
    expect(layer.source).toBe("npm");
    const warnings = Annotations.fromStack(stack).findWarning("*", Match.stringLikeRegexp("built from the npm binaries.*npm run layer:fetch"));
    expect(warnings).toHaveLength(1);
    expect(JSON.stringify(warnings[0].entry.data)).toContain(NPM_BUILD_WARNING);
  });

  it("falls back with a warning when the fetched release does not verify", () => {
    // Prepare
    const { archive, release } = fakeRelease();
    const root = newRoot();
    unpackRelease(archive, root, release);
    writeFileSync(join(root, RELEASE_LAYER_DIR, "bin", "ffprobe"), "tampered");
    writeFileSync(join(root, "package-lock.json"), readFileSync("package-lock.json"));
    execFileSync("ln", ["-s", join(process.cwd(), "node_modules"), join(root, "node_modules")]);
    const stack = new Stack(new App({ context: { "aws:cdk:disable-asset-staging": true } }), "Tampered");
    // Act
    const layer = new FfmpegLayer(stack, "Ffmpeg", { projectRoot: root, release, warnOnNpmBuild: true });
    // Assess
    expect(layer.source).toBe("npm");
    expect(Annotations.fromStack(stack).findWarning("*", Match.stringLikeRegexp("bin/ffprobe does not match its recorded sha256"))).toHaveLength(1);
  });
});
