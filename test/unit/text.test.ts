import { describe, expect, it } from 'vitest';
import { renderTemplate } from '../../shared/template';
import { cleanText } from '../../shared/text';

describe('cleanText', () => {
  it('removes control, invisible and bidi characters and chat colour codes', () => {
    expect(cleanText('shots\u0000 fired\n\tat the\u200b bank\u202e', 500)).toBe(
      'shots fired at the bank',
    );
    expect(cleanText('^1RED ^*bold^r text', 500)).toBe('RED bold text');
  });

  it('caps the length without splitting a character', () => {
    expect(cleanText('a'.repeat(50), 10)).toBe(`${'a'.repeat(9)}…`);
    const emoji = cleanText('🚓'.repeat(20), 5);
    expect(Array.from(emoji)).toHaveLength(5);
    expect(emoji.startsWith('🚓🚓🚓🚓')).toBe(true);
  });

  it('turns blank input into an empty string', () => {
    expect(cleanText(' \u0007 \n ', 100)).toBe('');
  });
});

describe('renderTemplate', () => {
  const all = { street: 'Alta St', crossing: 'Integrity Way', zone: 'Downtown', postal: '8055' };

  it('fills placeholders', () => {
    expect(renderTemplate('{street}, {zone}', all)).toBe('Alta St, Downtown');
    expect(renderTemplate('{street} / {crossing}', all)).toBe('Alta St / Integrity Way');
    expect(renderTemplate('Postal {postal}: {street}', all)).toBe('Postal 8055: Alta St');
  });

  it('drops the separator of a missing value', () => {
    expect(renderTemplate('{street} / {crossing}', { street: 'Alta St' })).toBe('Alta St');
    expect(
      renderTemplate('{street} / {crossing}, {zone}', { street: 'Alta St', zone: 'Downtown' }),
    ).toBe('Alta St, Downtown');
    expect(renderTemplate('{zone} - {street}', { street: 'Alta St' })).toBe('Alta St');
  });

  it('renders empty when nothing is known, and ignores unknown placeholders', () => {
    expect(renderTemplate('{street} / {crossing}', {})).toBe('');
    expect(renderTemplate('{street} {constructor}', { street: 'Alta St' })).toBe('Alta St');
  });
});
