// config.json `api` and its convars: what cannot reach the CAD as written is trimmed or
// refused at start, by name, without echoing a secret.
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config/load';

const load = (file: unknown, convars: Record<string, string> = {}) =>
  loadConfig({ fileText: JSON.stringify(file), convar: (n) => convars[n] ?? '' });

const KEY = 'f3c9a1e2-5b7d-4e8f-9a0b-1c2d3e4f5a6b';

describe('api.baseUrl', () => {
  it.each([
    ['https://admin:hunter2@api.sonorancad.com', /user name or password/],
    ['https://api.sonorancad.com?apiKey=hunter2', /"\?query"/],
    ['https://api.sonorancad.com/#hunter2', /"#fragment"/],
    ['https://api.sonorancad.com?', /"\?query"/],
  ])('refuses %s by name, without the secret', (baseUrl, why) => {
    const result = load({ api: { baseUrl } });
    expect(result.ok).toBe(false);
    if (result.ok) return;
    const text = result.errors.join('\n');
    expect(text).toMatch(/^config\.json api\.baseUrl = /);
    expect(text).toMatch(why);
    expect(text).not.toContain('hunter2');
  });

  it('hides a password even in a URL that does not parse', () => {
    const result = load({ api: { baseUrl: 'https://admin:hun/ter2@api.sonorancad.com:x' } });
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.errors.join()).not.toMatch(/hun|ter2/);
  });

  it('takes a plain URL, with a path prefix or a trailing slash', () => {
    for (const baseUrl of ['https://staging-api.dev.sonorancad.com', 'http://proxy:8080/cad/']) {
      const result = load({ api: { baseUrl } });
      expect(result.ok && result.config.api.baseUrl).toBe(baseUrl);
    }
  });
});

describe('the API key', () => {
  it.each([
    `“${KEY}”`,
    `‘${KEY}’`,
    `"${KEY}"`,
    `'${KEY}'`,
    ` ${KEY}\n`,
    `\r\n"${KEY}"\r\n`,
    `\u00a0${KEY}\u200b`,
  ])('trims what surrounds it: %j', (raw) => {
    const result = load({}, { sonoran911_apiKey: raw });
    expect(result.ok && result.config.api.apiKey).toBe(KEY);
    expect(result.ok && result.apiKeyProblem).toBe(null);
  });

  it('trims a key in config.json the same way', () => {
    const result = load({ api: { apiKey: `“${KEY}”` } });
    expect(result.ok && result.config.api.apiKey).toBe(KEY);
  });

  it.each([
    [`${KEY.slice(0, 8)}\n${KEY.slice(8)}`, 'a line break (character 9 of 37)'],
    [`${KEY.slice(0, 8)} ${KEY.slice(8)}`, 'a space (U+0020) (character 9 of 37)'],
    [`${KEY.slice(0, 8)}\t${KEY.slice(8)}`, 'a tab (character 9 of 37)'],
    [`${KEY.slice(0, 8)}”${KEY.slice(8)}`, 'a typographic quote (U+201D) (character 9 of 37)'],
    [`${KEY.slice(0, 8)}é${KEY.slice(8)}`, 'a character outside plain ASCII (U+00E9)'],
    [`${KEY.slice(0, 8)}\u0000${KEY.slice(8)}`, 'a control character (U+0000)'],
  ])('refuses a key HTTP cannot carry, says what is wrong, never the key: %j', (raw, what) => {
    const result = load({}, { sonoran911_apiKey: raw });
    expect(result.ok).toBe(true);
    if (!result.ok) return;
    expect(result.config.api.apiKey).toBe('');
    expect(result.apiKeySource).toBe('sonoran911_apiKey');
    expect(result.apiKeyProblem).toContain(
      `convar sonoran911_apiKey: the API key contains ${what}`,
    );
    const said = JSON.stringify(result);
    expect(said).not.toContain(KEY.slice(0, 8));
    expect(said).not.toContain(KEY.slice(8));
  });
});

describe('convar sonoran911_serverId', () => {
  it.each(['0x10', '1e1', '+5', '16.0', '0', '-3', '1000001', 'ten'])(
    'refuses %s with a line that says what is expected',
    (value) => {
      const result = load({}, { sonoran911_serverId: value });
      expect(result.ok).toBe(false);
      if (!result.ok)
        expect(result.errors).toEqual([
          `convar sonoran911_serverId = "${value}": expected a CAD server id, a whole number from 1 to 1000000 in decimal digits`,
        ]);
    },
  );

  it('takes decimal digits, blanks around them trimmed', () => {
    const result = load({ api: { serverId: 3 } }, { sonoran911_serverId: ' 16 ' });
    expect(result.ok && result.config.api.serverId).toBe(16);
    expect(result.ok && result.fileServerId).toBe(3);
  });
});
