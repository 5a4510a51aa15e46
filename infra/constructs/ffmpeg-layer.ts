/**
 * ffmpeg and ffprobe as a Lambda layer (/opt/bin/ffmpeg, /opt/bin/ffprobe),
 * built at synth time from the static binaries the npm packages
 * @ffmpeg-installer/linux-x64 and @ffprobe-installer/linux-x64 ship. The same
 * binaries run the local stack and the tests, their versions are pinned by
 * package-lock.json, and no Docker or download is needed to build the layer.
 */
import { createHash } from "node:crypto";
import { chmodSync, copyFileSync, existsSync, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { Construct } from "constructs";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { AssetHashType, RemovalPolicy } from "aws-cdk-lib";

/** The one architecture of the app: the npm static builds available here are linux-x64. */
export const ARCHITECTURE = lambda.Architecture.X86_64;
export const RUNTIME = lambda.Runtime.NODEJS_22_X;

/** Where the layer's binaries land in the function's file system. */
export const LAYER_BIN = "/opt/bin";

interface Binary {
  name: "ffmpeg" | "ffprobe";
  /** npm package shipping the static build for ARCHITECTURE. */
  pkg: string;
}

const BINARIES: readonly Binary[] = [
  { name: "ffmpeg", pkg: "@ffmpeg-installer/linux-x64" },
  { name: "ffprobe", pkg: "@ffprobe-installer/linux-x64" },
];

export interface FfmpegLayerProps {
  /** Repository root: holds package-lock.json and node_modules. */
  projectRoot: string;
}

export class FfmpegLayer extends Construct {
  readonly layer: lambda.LayerVersion;
  /** package@version of each binary, as locked. */
  readonly versions: Record<Binary["name"], string>;
  /** The staged layer content: bin/ffmpeg, bin/ffprobe. */
  readonly assetDir: string;

  constructor(scope: Construct, id: string, props: FfmpegLayerProps) {
    super(scope, id);
    const lock = readLock(props.projectRoot);
    const pinned = BINARIES.map((b) => ({ ...b, ...lockedVersion(lock, props.projectRoot, b.pkg) }));
    this.versions = Object.fromEntries(pinned.map((b) => [b.name, `${b.pkg}@${b.version}`])) as Record<Binary["name"], string>;

    // The asset hash is the lock's integrity of both packages: the layer changes
    // exactly when package-lock.json pins other binaries, and synth need not hash 150 MB.
    const hash = createHash("sha256")
      .update(pinned.map((b) => `${b.pkg}@${b.version}#${b.integrity}`).join("\n"))
      .digest("hex");
    const assetDir = stageLayer(props.projectRoot, hash, pinned);
    this.assetDir = assetDir;

    this.layer = new lambda.LayerVersion(this, "Layer", {
      code: lambda.Code.fromAsset(assetDir, { assetHash: hash, assetHashType: AssetHashType.CUSTOM }),
      compatibleArchitectures: [ARCHITECTURE],
      compatibleRuntimes: [RUNTIME],
      description: `ffmpeg/ffprobe static binaries (${Object.values(this.versions).join(", ")})`,
      // Old versions stay so a rollback can still reference them.
      removalPolicy: RemovalPolicy.RETAIN,
    });
  }
}

interface PackageLock {
  packages?: Record<string, { version?: string; integrity?: string }>;
}

function readLock(projectRoot: string): PackageLock {
  return JSON.parse(readFileSync(join(projectRoot, "package-lock.json"), "utf8")) as PackageLock;
}

function lockedVersion(lock: PackageLock, projectRoot: string, pkg: string): { version: string; integrity: string; dir: string } {
  const locked = lock.packages?.[`node_modules/${pkg}`];
  if (!locked?.version || !locked.integrity) {
    throw new Error(`${pkg} is not in package-lock.json: the ffmpeg layer is built from it (npm ci on linux-x64 installs it)`);
  }
  const dir = join(projectRoot, "node_modules", pkg);
  const installedPath = join(dir, "package.json");
  if (!existsSync(installedPath)) {
    throw new Error(`${pkg} is not installed in node_modules: run npm ci (it is an optional dependency for linux-x64)`);
  }
  const installed = (JSON.parse(readFileSync(installedPath, "utf8")) as { version: string }).version;
  if (installed !== locked.version) {
    throw new Error(`${pkg} installed ${installed} but package-lock.json pins ${locked.version}: run npm ci`);
  }
  return { version: locked.version, integrity: locked.integrity, dir };
}

/**
 * Copies the binaries into `<cache>/<hash>/bin/` once per pinned version. The
 * copies get mode 0755: the npm tarball ships ffprobe as 0744, and Lambda runs
 * the code as a user that does not own /opt, so owner-only execute would fail.
 */
function stageLayer(projectRoot: string, hash: string, pinned: ReadonlyArray<Binary & { dir: string }>): string {
  const root = join(projectRoot, "node_modules", ".cache", "stt-ffmpeg-layer", hash);
  const bin = join(root, "bin");
  mkdirSync(bin, { recursive: true });
  for (const b of pinned) {
    const from = join(b.dir, b.name);
    const to = join(bin, b.name);
    if (!existsSync(to) || statSync(to).size !== statSync(from).size) copyFileSync(from, to);
    chmodSync(to, 0o755);
  }
  return root;
}
