import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config/load';

const noConvars = () => '';
const load = (file: unknown, convars: Record<string, string> = {}) =>
  loadConfig({
    fileText: typeof file === 'string' ? file : JSON.stringify(file),
    convar: (n) => convars[n] ?? '',
  });

describe('config.json', () => {
  it('runs on defaults when the file is empty or missing', () => {
    const empty = load({});
    expect(empty.ok).toBe(true);
    if (!empty.ok) return;
    expect(empty.config.api).toEqual({
      baseUrl: 'https://api.sonorancad.com',
      apiKey: '',
      serverId: 1,
      timeoutMs: 15000,
    });
    expect(empty.config.rateLimit).toEqual({
      requests: 20,
      windowSeconds: 60,
      marginMs: 500,
      noteRequests: 60,
    });
    expect(empty.config.commands.map((c) => [c.name, c.priority, c.cooldownSeconds])).toEqual([
      ['911', 1, 60],
      ['311', 3, 60],
    ]);
    expect(empty.apiKeySource).toBe('none');

    const missing = loadConfig({ fileText: null, convar: noConvars });
    expect(missing.ok).toBe(true);
    expect(missing.warnings.join()).toMatch(/not found/);
  });

  it('the shipped config.json is valid and equals the defaults', async () => {
    const { readFileSync } = await import('node:fs');
    const shipped = load(readFileSync('config.json', 'utf8'));
    const defaults = load({});
    expect(shipped.ok && defaults.ok).toBe(true);
    if (shipped.ok && defaults.ok) expect(shipped.config).toEqual(defaults.config);
  });

  it('names the key, the value and what was expected for every problem', () => {
    const result = load({
      api: { serverId: 'one', timeoutMs: 10 },
      commands: [{ name: '/911', priority: 'high', origin: 5 }],
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.errors.join('\n');
    expect(text).toContain('api.serverId = "one": expected a CAD server id');
    expect(text).toContain(
      'api.timeoutMs = 10: expected milliseconds: a whole number from 1000 to 120000',
    );
    expect(text).toContain('commands[0].name = "/911"');
    expect(text).toContain('commands[0].priority = "high"');
    expect(text).toContain('commands[0].origin = 5: expected a call origin');
    expect(result.errors).toHaveLength(5);
  });

  it('names the key for the framework, gate and alert settings', () => {
    const result = load({
      framework: 'qbox',
      report: { descriptionFormat: 'Caller {name}' },
      commands: [
        { name: '911', downed: 'revive', phoneItem: 5, alert: { jobs: 'police', blipSeconds: -1 } },
      ],
      exportDefaults: { alert: { onDutyOnly: 'yes' } },
    });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.errors.join('\n');
    expect(text).toContain(
      'framework = "qbox": expected "auto", "qbx", "qb", "esx", "ox", "nd" or "none"',
    );
    expect(text).toContain(
      'report.descriptionFormat = "Caller {name}": expected a template with {words} in it',
    );
    expect(text).toContain(
      'commands[0].downed = "revive": expected "allow", "refuse" or "distress"',
    );
    expect(text).toContain('commands[0].phoneItem = 5: expected an item name like "phone"');
    expect(text).toContain('commands[0].alert.jobs = "police"');
    expect(text).toContain('commands[0].alert.blipSeconds = -1: expected seconds');
    expect(text).toContain('exportDefaults.alert.onDutyOnly = "yes": expected true or false');
  });

  it('never prints a webhook URL given in the wrong shape (it holds the token)', () => {
    const result = load({ staffWebhook: ['https://relay.example/hooks/secret-token-123'] });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.errors.join('\n')).toContain('staffWebhook = (hidden)');
    expect(result.errors.join('\n')).not.toContain('secret-token');
  });

  it('alerts police and EMS for /911, police for /311, nobody for a command of its own', () => {
    const result = load({ commands: [{ name: '911' }, { name: '311' }, { name: 'tow' }] });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    const [c911, c311, tow] = result.config.commands;
    expect(c911?.alert).toMatchObject({ jobs: ['police', 'ambulance'], types: ['leo', 'ems'] });
    expect(c311?.alert).toMatchObject({ jobs: ['police'], onDutyOnly: true, blipSeconds: 120 });
    expect(tow?.alert).toBeNull();
    const off = load({ commands: [{ name: '911', alert: null }] });
    expect(off.ok && off.config.commands[0]?.alert).toBeNull();
  });

  it('reports broken JSON with its position instead of crashing', () => {
    const result = load('{ "api": { "serverId": 2, } }');
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]).toMatch(/config\.json is not valid JSON: .*position/i);
    const notObject = load('[1, 2]');
    expect(notObject.ok).toBe(false);
  });

  it('ignores an unknown key with a warning that suggests the right one', () => {
    const result = load({ api: { apikey: 'abc', serverID: 3 }, rateLimits: {} });
    expect(result.ok).toBe(true);
    const text = result.warnings.join('\n');
    expect(text).toContain('api.apikey: unknown key ignored (did you mean "api.apiKey"?)');
    expect(text).toContain('api.serverID: unknown key ignored (did you mean "api.serverId"?)');
    expect(text).toContain('rateLimits: unknown key ignored (did you mean "rateLimit"?)');
  });

  it('refuses a command the CAD could never route', () => {
    const result = load({ commands: [{ name: 'alarm', attachCaller: false }] });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]).toMatch(/commands\[0\].*needs a target/);
    expect(
      load({ commands: [{ name: 'alarm', attachCaller: false, communityUserIds: ['dispatch'] }] })
        .ok,
    ).toBe(true);
  });

  it('refuses duplicate command names and non-UUID accounts', () => {
    expect(load({ commands: [{ name: '911' }, { name: '911' }] }).ok).toBe(false);
    const bad = load({ commands: [{ name: '911', accounts: ['not-a-uuid'] }] });
    expect(bad.ok).toBe(false);
    if (!bad.ok)
      expect(bad.errors[0]).toContain(
        'commands[0].accounts[0] = "not-a-uuid": expected an account UUID',
      );
  });

  it('takes secrets from convars before the file and warns about a key in the file', () => {
    const inFile = load({ api: { apiKey: 'file-key' } });
    expect(inFile.ok && inFile.config.api.apiKey).toBe('file-key');
    expect(inFile.ok && inFile.apiKeySource).toBe('config.json');
    expect(inFile.warnings.join()).toMatch(/set sonoran911_apiKey/);

    const both = load(
      { api: { apiKey: 'file-key' } },
      { sonoran_apiKey: 'shared-key', sonoran911_serverId: '4' },
    );
    expect(both.ok && both.config.api.apiKey).toBe('shared-key');
    expect(both.ok && both.config.api.serverId).toBe(4);
    expect(both.warnings.join()).toMatch(/ignored because the convar sonoran_apiKey is set/);

    const own = load({}, { sonoran_apiKey: 'shared-key', sonoran911_apiKey: 'own-key' });
    expect(own.ok && own.config.api.apiKey).toBe('own-key');
  });

  it('never prints the API key in an error', () => {
    const result = load({ api: { apiKey: 12345678 } });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors[0]).toContain('api.apiKey = (hidden)');
      expect(result.errors.join()).not.toContain('12345678');
    }
  });

  it('refuses a bad serverId convar by name', () => {
    const result = load({}, { sonoran911_serverId: 'abc' });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors[0]).toContain('convar sonoran911_serverId = "abc"');
  });

  it('refuses a postal file outside the resource and unknown message keys', () => {
    expect(load({ postals: { file: '../other/postals.json' } }).ok).toBe(false);
    const msgs = load({ messages: { created: 'Appel #{callId} créé', craeted: 'x' } });
    expect(msgs.ok && msgs.config.messages.created).toBe('Appel #{callId} créé');
    expect(msgs.warnings.join()).toContain('did you mean "messages.created"');
  });
});

describe('config.json identity.overrides', () => {
  it('explains a key that is not a full identifier', () => {
    const result = load({ identity: { overrides: { abc: 'user-1' } } });
    expect(result.ok).toBe(false);
    if (!result.ok) {
      expect(result.errors[0]).toBe(
        'config.json identity.overrides.abc = "abc": expected a full identifier like "license:abc123" as the key',
      );
    }
  });
});

describe('the README config example', () => {
  it('is a valid config.json (the example server owners copy)', async () => {
    const { readFileSync } = await import('node:fs');
    const blocks = [...readFileSync('README.md', 'utf8').matchAll(/```json\n([\s\S]*?)```/g)];
    expect(blocks.length).toBeGreaterThan(0);
    for (const [, text] of blocks) {
      const result = load(text ?? '');
      expect(result.ok ? [] : result.errors).toEqual([]);
    }
  });
});
