import { describe, expect, it } from 'vitest';
import { dispatchCall } from '../../sandbox/support/fixtures';
import { createResponders } from '../../server/responders';
import { defaultMessages } from '../../shared/config/locale';
import { alertSchema } from '../../shared/config/schema';
import type { AlertPayload } from '../../shared/protocol';

function rig(responders: number[]) {
  const lines: [number, string][] = [];
  const blips: [number, AlertPayload][] = [];
  const r = createResponders({
    characters: { responders: (_alert, caller) => responders.filter((p) => p !== caller) },
    messages: defaultMessages,
    chat: (player, message) => lines.push([player, message.args[1]!]),
    blip: (player, payload) => blips.push([player, payload]),
  });
  return { r, lines, blips };
}

const alert = alertSchema.parse({ jobs: ['police'] });
const call = dispatchCall({
  title: 'Shots fired',
  address: 'Alta St, Downtown',
  postal: '8055',
  metaData: { x: '425.1', y: '-979.2', z: '30.7' },
});

describe('responders', () => {
  it('gives each responder one line and a blip with only what it needs, never the caller', () => {
    const { r, lines, blips } = rig([3, 7, 9]);
    expect(r.alert('req-1', call, 'two men, one armed', alert, 3)).toBe(2);
    expect(lines).toEqual([
      [7, 'Shots fired: two men, one armed (Alta St, Downtown, postal 8055)'],
      [9, 'Shots fired: two men, one armed (Alta St, Downtown, postal 8055)'],
    ]);
    expect(blips[0]).toEqual([
      7,
      { id: 'req-1', label: 'Shots fired', x: 425.1, y: -979.2, z: 30.7, seconds: 120 },
    ]);
  });

  it('says the CAD number to the same responders, and nothing when the number was lost', () => {
    const { r, lines } = rig([7]);
    r.alert('a', call, 'x', alert, null);
    r.alert('b', call, 'x', alert, null);
    r.created('a', 1001, () => true);
    r.created('b', null, () => true);
    expect(lines.slice(2)).toEqual([
      [7, 'CAD call #1001: Shots fired (Alta St, Downtown, postal 8055)'],
    ]);
  });

  it('draws no blip for a call with no place, and alerts nobody when the alert is null', () => {
    const { r, lines, blips } = rig([7]);
    const nowhere = dispatchCall({
      title: 'Tip',
      address: 'Unknown location',
      postal: '',
      metaData: {},
    });
    r.alert('a', nowhere, '', alert, null);
    expect(lines).toEqual([[7, 'Tip (Unknown location)']]);
    expect(blips).toEqual([]);
    expect(r.alert('b', call, 'x', null, null)).toBe(0);
  });
});
