// Assembles release/sonoran-911/: exactly what a server needs, ready to copy into resources/.
// No package.json goes in: FXServer's yarn builder would try to install it on start. The owner
// documentation (README.md, docs/) goes in; contributor notes (CONTRIBUTING.md) stay out.
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { manifestVersion, packageVersion } from './scripts/version.mjs';

const out = 'release/sonoran-911';
const docs = readdirSync('docs')
  .filter((name) => name.endsWith('.md'))
  .sort()
  .map((name) => `docs/${name}`);
const files = [
  'fxmanifest.lua',
  'config.json',
  'dist/server.js',
  'dist/client.js',
  'README.md',
  ...docs,
];
for (const file of files) {
  if (!existsSync(file)) {
    const hint = file.startsWith('dist/') ? ': run "npm run build" first' : '';
    throw new Error(`${file} is missing${hint}`);
  }
}
// One version: the release's manifest says package.json's (npm run build writes it there).
const version = packageVersion();
if (manifestVersion() !== version) {
  throw new Error(`fxmanifest.lua is not at version ${version}: run "npm run build" first`);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}/dist`, { recursive: true });
mkdirSync(`${out}/docs`, { recursive: true });
for (const file of files) cpSync(file, `${out}/${file}`);
console.log(`${out} (version ${version}): ${files.join(', ')}`);
