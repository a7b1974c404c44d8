// The README's examples for other resources, run as written: every ```lua block in a Lua
// 5.4 VM (inside a net event handler, since it uses `source`), every ```js block of
// "For other resources" as a server script.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { bankRobber, type Rig, startRig } from './rig';

const README = readFileSync(resolve(__dirname, '../../README.md'), 'utf8');

const blocks = (text: string, lang: string): string[] =>
  [...text.matchAll(new RegExp(`^\`\`\`${lang}\\n([\\s\\S]*?)^\`\`\``, 'gm'))].map((m) => m[1]!);

const section = (text: string, heading: string): string => {
  const start = text.indexOf(`\n## ${heading}\n`);
  if (start < 0) throw new Error(`README has no "## ${heading}" section`);
  const end = text.indexOf('\n## ', start + 1);
  return text.slice(start, end < 0 ? undefined : end);
};

const luaBlocks = blocks(README, 'lua');
const jsBlocks = blocks(section(README, 'For other resources'), 'js');

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

describe('README examples', () => {
  it('has examples to run', () => {
    expect(luaBlocks.length).toBeGreaterThan(0);
    expect(jsBlocks.length).toBeGreaterThan(0);
  });

  it.each(luaBlocks.map((code, i) => [i, code] as const))(
    'runs Lua block %i with source = a connected player, and the CAD gets its calls',
    async (i, code) => {
      rig = await startRig();
      const player = rig.fx.addPlayer(bankRobber);
      await rig.fx.waitFor(() => player.hasClientCommand('911'), { what: 'client ready' });
      const name = `readme-lua-${i}`;
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

  it.each(jsBlocks.map((code, i) => [i, code] as const))(
    'runs JS block %i of "For other resources" as a server script',
    async (i, code) => {
      rig = await startRig();
      const name = `readme-js-${i}`;
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
