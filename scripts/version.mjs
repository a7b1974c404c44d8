// One source for the version: package.json's "version". fxmanifest.lua's `version '…'` line
// (what FXServer shows) is written from it by the build; test/unit/version.test.ts fails
// when they differ, and package.mjs refuses to assemble a release that disagrees.
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const manifestPath = join(root, 'fxmanifest.lua');
// `version '0.1.0'` or `version "0.1.0"` at the start of a line; what follows is kept.
const versionLine = /^(version\s+)(['"])([^'"\n]*)\2/gm;

/** package.json's version: the source. */
export function packageVersion() {
  return JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')).version;
}

/** The version an fxmanifest.lua declares; throws unless it has exactly one version line. */
export function manifestVersion(text = readFileSync(manifestPath, 'utf8')) {
  const lines = [...text.matchAll(versionLine)];
  if (lines.length !== 1)
    throw new Error(`fxmanifest.lua needs exactly one version '…' line, found ${lines.length}`);
  return lines[0][3];
}

/**
 * Rewrites the manifest's version line when it differs from `version` (package.json's);
 * returns whether it wrote.
 */
export function syncManifestVersion(path = manifestPath, version = packageVersion()) {
  const text = readFileSync(path, 'utf8');
  const from = manifestVersion(text);
  if (from === version) return false;
  writeFileSync(path, text.replace(versionLine, `$1$2${version}$2`));
  console.log(
    `${relative(process.cwd(), path)}: version '${from}' -> '${version}' (from package.json)`,
  );
  return true;
}
