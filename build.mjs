// Bundles each side into one file so the installed resource needs no node_modules, after
// writing package.json's version into fxmanifest.lua. The typecheck runs before this (see
// package.json "build"); the bundling itself is scripts/bundle.mjs, which the end-to-end
// tests also run before they load dist/.
import { bundle } from './scripts/bundle.mjs';
import { syncManifestVersion } from './scripts/version.mjs';

if (process.argv.includes('--bench')) {
  await bundle(['bench']);
} else {
  syncManifestVersion();
  await bundle();
}
