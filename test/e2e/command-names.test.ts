import { afterEach, describe, expect, it } from 'vitest';
import { op, playersReady, type Rig, startRig } from './rig';

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

describe('command names that shadow others', () => {
  it('refuses a command named like the operator command, which keeps working', async () => {
    rig = await startRig({ config: { commands: [{ name: '911' }, { name: 'Sonoran911' }] } });
    expect(rig.log()).toContain(
      'config.json commands[1].name = "Sonoran911": expected another name: "sonoran911" is this resource\'s operator command',
    );
    expect(op(rig, 'sonoran911 status')[0]).toMatch(/^queue: 0 waiting/);
    // A player typing the operator command does not raise a CAD call.
    const [p] = await playersReady(rig, 1);
    p!.type('/sonoran911 status');
    await rig.fx.settle();
    expect(rig.cad.calls).toEqual([]);
  });

  it('warns at start about names the game or common resources use, naming each', async () => {
    rig = await startRig({
      config: { commands: [{ name: '911' }, { name: 'me' }, { name: 'Emote', priority: 3 }] },
    });
    const log = rig.log();
    expect(log).toMatch(/ready: \/911, \/me, \/Emote/);
    expect(log).toContain(
      'config.json commands[1].name = "me": /me is also a command of roleplay chat scripts and QBCore. If this server runs one of them, the two take /me from each other at every restart: give ours a name of its own.',
    );
    expect(log).toContain(
      'config.json commands[2].name = "Emote": /Emote is also a command of emote menus (dpemotes, rpemotes).',
    );
    expect(log).not.toMatch(/commands\[0\]/);
    // Said once, not again when another resource starts.
    rig.fx.startResource('other', { server: '' });
    expect(rig.log().match(/\/me is also a command/g)).toHaveLength(1);
  });
});
