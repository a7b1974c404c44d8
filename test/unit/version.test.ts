import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { manifestVersion, packageVersion, syncManifestVersion } from '../../scripts/version.mjs';

const root = resolve(__dirname, '../..');
const read = (file: string) => readFileSync(resolve(root, file), 'utf8');

describe('one source for the version', () => {
  it("fxmanifest.lua declares package.json's version (npm run build writes it)", () => {
    const { version } = JSON.parse(read('package.json')) as { version: string };
    // Read here with a pattern of its own, not the build's parser.
    const lines = [...read('fxmanifest.lua').matchAll(/^\s*version\s+['"]([^'"]*)['"]/gm)];
    expect(lines.map((m) => m[1])).toEqual([version]);
    expect(version).toMatch(/^\d+\.\d+\.\d+(?:-[\w.]+)?$/);
  });

  it('the build reads both the way this test does', () => {
    expect(packageVersion()).toBe(manifestVersion());
    expect(manifestVersion('fx_version \'cerulean\'\nversion "1.2.3"\n')).toBe('1.2.3');
    expect(() => manifestVersion("fx_version 'cerulean'\n")).toThrow(/exactly one version/);
    expect(() => manifestVersion("version '1'\nversion '2'\n")).toThrow(/found 2/);
  });

  it('the build rewrites only the version line, and only when it differs', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'manifest-')), 'fxmanifest.lua');
    const manifest = (v: string) =>
      `fx_version 'cerulean'\n-- version '9'\nversion '${v}'\ngame 'gta5'\n`;
    writeFileSync(file, manifest('0.0.1'));
    expect(syncManifestVersion(file, '1.4.0')).toBe(true);
    expect(readFileSync(file, 'utf8')).toBe(manifest('1.4.0'));
    expect(syncManifestVersion(file, '1.4.0')).toBe(false);
  });
});
