import { describe, expect, it } from 'vitest';
import { createConflictWatch } from '../../server/conflicts';
import { loadConfig } from '../../shared/config/load';

const load = (file: unknown) => loadConfig({ fileText: JSON.stringify(file), convar: () => '' });

describe('config.json command names', () => {
  it('refuses the operator command name in any case, naming the entry', () => {
    for (const name of ['sonoran911', 'Sonoran911', 'SONORAN911']) {
      const result = load({ commands: [{ name: '911' }, { name }] });
      expect(result.ok).toBe(false);
      if (result.ok) continue;
      expect(result.errors).toEqual([
        `config.json commands[1].name = "${name}": expected another name: "sonoran911" is this resource's operator command (sonoran911 status, queue, dead, retry, drop)`,
      ]);
    }
  });

  it('accepts names that only look alike, and commonly used names (those are warned about at start)', () => {
    for (const name of ['sonoran911x', 'sonoran', '911', 'me', 'e']) {
      expect(load({ commands: [{ name }] }).ok).toBe(true);
    }
  });
});

describe('names other resources commonly use', () => {
  it('warns about a well-known name, never about an object property name', () => {
    const warnings: string[] = [];
    const log = { info: () => {}, warn: (m: string) => warnings.push(m), error: () => {} };
    const watch = createConflictWatch({
      own: 'sonoran-911',
      commandNames: ['constructor', 'toString', 'me'],
      registered: () => [],
      resourceState: () => 'missing',
      log,
    });
    watch.checkServer();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/commands\[2\]\.name = "me"/);
  });
});
