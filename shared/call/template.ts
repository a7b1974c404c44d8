/**
 * Templates like the address and block ones over {street}, {crossing}, {zone}, {postal}
 * (and the description's {words}, {name}, {phone}). Each placeholder
 * owns the separator written before it, and an empty placeholder drops it: so
 * "{street} / {crossing}" is "Alta St" when there is no crossing, not "Alta St / ".
 * Returns '' when no placeholder has a value, so the caller can pick a fallback.
 */
export type LocationNames = Partial<Record<'street' | 'crossing' | 'zone' | 'postal', string>>;

export function renderTemplate(
  template: string,
  values: Partial<Record<string, string | undefined>>,
): string {
  // split with a capture group alternates literal, placeholder, literal, ...
  const parts = template.split(/(\{\w+\})/);
  const lead = parts[0] ?? '';
  const trail = parts.length > 1 ? (parts[parts.length - 1] ?? '') : '';
  let body = '';
  for (let i = 1; i < parts.length; i += 2) {
    const key = parts[i]!.slice(1, -1);
    const value = (Object.hasOwn(values, key) ? values[key] : undefined)?.trim();
    if (!value) continue;
    const separator = i > 1 ? (parts[i - 1] ?? '') : '';
    body += (body === '' ? '' : separator) + value;
  }
  if (body === '') return '';
  return `${lead}${body}${trail}`.trim();
}
