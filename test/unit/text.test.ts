import { describe, expect, it } from 'vitest';
import { renderTemplate } from '../../shared/call/template';
import { cleanText } from '../../shared/call/text';

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

// How people really phrase a call (911 transcripts and roleplay servers): every word stays.
const CALLERS = [
  '10-50 on Route 68, two injured',
  'SHOTS FIRED - LEGION SQUARE',
  'BANK ROBBERY - 3 SUSPECTS - GREEN SULTAN',
  'ROBBERY AT FLEECA -',
  '10-31 in progress at the 24/7 on Grove St',
  '10-99 officer needs help at the pier',
  'FIRE - car on fire on the highway',
  'FIRE: house on fire on Mirror Park Blvd',
  'POLICE: someone is breaking into my house',
  'EMS needed - man collapsed at Legion Square',
  'Code 3: stabbing at Vespucci beach',
  'HELP!!! my friend is not breathing',
  'MVA: 2 cars, 1 on its roof, Route 68 near Harmony',
  'STOLEN VEHICLE - black Sultan RS, plate 46EEK572',
  'GUNSHOTS near the Vanilla Unicorn, 3 or 4 of them',
  'Caller states: suspect wearing a red hoodie',
  'ATM ROBBERY-Pillbox Hill',
  '911 911 911 shots fired',
  'Suspect: white male, 6ft, black jacket',
  'Location: Sandy Shores airfield, plane crashed',
  'Hostage situation at Pacific Standard - 4 hostages',
  'ROBBERY IN PROGRESS: LTD Gasoline Grove Street',
  'two-car crash - driver trapped - need fire and EMS',
  'DUI driver swerving on the Great Ocean Hwy',
  'Bank alarm going off - no one around',
  'domestic dispute at 1045 Forum Dr, apt 3',
  'I-5 northbound, tire in the lane',
  'URGENT need ambulance at the hospital entrance',
  '[3 suspects] armed, heading north',
  '(2 injured) crash at the Route 1 bridge',
];

const FAKES: [string, string][] = [
  ['[ALARM] officer down at the bank', 'officer down at the bank'],
  ['[DISPATCH] all units respond', 'all units respond'],
  ['{SYSTEM} server restarting', 'server restarting'],
  ['<<DISPATCH>> code 99', 'code 99'],
  ['DISPATCH: all units code 99', 'all units code 99'],
  ['SYSTEM ALERT > evacuate the city', 'evacuate the city'],
  ['ADMIN: free money at the bank', 'free money at the bank'],
  ['[ALARM] DISPATCH: [10-99] officer down', 'officer down'],
  ['CAD | priority call', 'priority call'],
];

describe('cleanText on what callers say', () => {
  it('keeps every word of real phrasings', () => {
    for (const words of CALLERS) expect(cleanText(words, 500)).toBe(words);
  });

  it('removes only a fake system header at the very start', () => {
    for (const [typed, kept] of FAKES) expect(cleanText(typed, 500)).toBe(kept);
    // Not at the start: the words are the caller's.
    expect(cleanText('the sign said DISPATCH: closed', 500)).toBe('the sign said DISPATCH: closed');
    // Headers are for what players type; a resource's own text keeps its tag.
    expect(cleanText('[ALARM] vault opened', 500, false)).toBe('[ALARM] vault opened');
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
