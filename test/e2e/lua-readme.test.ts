// The documentation's examples for other resources, run as written: every ```lua block of
// README.md and docs/*.md in a Lua 5.4 VM (inside a net event handler, since it uses
// `source`), every ```js block of docs/exports.md as a server script.
import { readdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bankRobber, type Rig, startRig } from './rig';

const root = resolve(__dirname, '../..');
const read = (file: string): string => readFileSync(resolve(root, file), 'utf8');
const docs = readdirSync(resolve(root, 'docs'))
  .filter((f) => f.endsWith('.md'))
  .sort()
  .map((f) => `docs/${f}`);

const blocks = (text: string, lang: string): string[] =>
  [...text.matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\``, 'gm'))].map((m) => m[1]!);

/** Each block, named by its file and its number there ("docs/exports.md #0"). */
const examples = (files: string[], lang: string) =>
  files.flatMap((file) =>
    blocks(read(file), lang).map((code, i) => [`${file} #${i}`, code] as const),
  );

const luaBlocks = examples(['README.md', ...docs], 'lua');
const jsBlocks = examples(['docs/exports.md'], 'js');

/** The CAD call number a resource's callback printed ("... CAD call #1001"). */
const loggedCallId = (r: Rig, resource: string): number | undefined => {
  for (const line of r.fx.serverLog(resource)) {
    const m = /CAD call #(\d+)/.exec(line);
    if (m) return Number(m[1]);
  }
  return undefined;
};

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

describe('documentation examples', () => {
  it('has examples to run', () => {
    expect(luaBlocks.length).toBeGreaterThan(0);
    expect(jsBlocks.length).toBeGreaterThan(0);
  });

  it.each(luaBlocks.map(([where, code], n) => [where, n, code] as const))(
    'runs Lua block %s with source = a connected player, and the CAD gets its calls',
    async (_where, n, code) => {
      rig = await startRig();
      const player = rig.fx.addPlayer(bankRobber);
      await rig.fx.waitFor(() => player.hasClientCommand('911'), { what: 'client ready' });
      const name = `readme-lua-${n}`;
      const wrapped = `RegisterNetEvent('readme:run', function()\n${code}\nend)`;
      expect(await rig.fx.startLuaResource(name, wrapped)).toBe(true);
      player.emitNet('readme:run');
      const exportCalls = (
        code.match(/exports\['sonoran-911'\]:(createDispatchCall|report911)\(/g) ?? []
      ).length;
      expect(exportCalls).toBeGreaterThan(0);
      await rig.fx.waitFor(() => rig!.cad.calls.length === exportCalls, { what: 'the calls' });
      expect(rig.fx.errors).toEqual([]);
      expect(rig.fx.serverLog(name).filter((l) => /refused|not created/.test(l))).toEqual([]);
      if (/CAD call #/.test(code)) {
        const callId = await rig.fx.waitFor(() => loggedCallId(rig!, name), {
          what: 'the callback line',
        });
        expect(rig.cad.calls.map((c) => c.callId)).toContain(callId);
      }
    },
  );

  it.each(jsBlocks.map(([where, code], n) => [where, n, code] as const))(
    'runs JS block %s as a server script',
    async (_where, n, code) => {
      rig = await startRig();
      const name = `readme-js-${n}`;
      expect(rig.fx.startResource(name, { server: code })).toBe(true);
      const callId = await rig.fx.waitFor(() => loggedCallId(rig!, name), {
        what: 'the callback line',
      });
      expect(rig.cad.calls.map((c) => c.callId)).toContain(callId);
      expect(rig.fx.serverLog(name).filter((l) => /refused|not created/.test(l))).toEqual([]);
      expect(rig.fx.errors).toEqual([]);
    },
  );
});
