// Assembles release/sonoran-911/: exactly what a server needs, ready to copy into resources/.
// No package.json goes in: FXServer's yarn builder would try to install it on start.
import { cpSync, existsSync, mkdirSync, rmSync } from 'node:fs';

const out = 'release/sonoran-911';
const files = ['fxmanifest.lua', 'config.json', 'dist/server.js', 'dist/client.js', 'README.md'];
for (const file of files) {
  if (!existsSync(file)) throw new Error(`${file} is missing: run "npm run build" first`);
}
rmSync(out, { recursive: true, force: true });
mkdirSync(`${out}/dist`, { recursive: true });
for (const file of files) cpSync(file, `${out}/${file}`);
console.log(`${out}: ${files.join(', ')}`);
