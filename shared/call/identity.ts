/**
 * A player's identifiers -> the communityUserId the CAD links accounts to. Sonoran's own
 * resource uses the identifier's value without its "type:" prefix; we do the same by
 * default so communities that already linked accounts keep working.
 */
export interface IdentityConfig {
  identifierOrder: readonly string[];
  stripPrefix: boolean;
  /** Full identifier ("license:abc") -> communityUserId; checked before the order. */
  overrides: Readonly<Record<string, string>>;
}

export interface CallerIdentity {
  /** The full identifier the id came from, for logs. */
  identifier: string;
  communityUserId: string;
}

const MAX_ID = 255;

export function mapIdentity(
  identifiers: readonly string[],
  config: IdentityConfig,
): CallerIdentity | null {
  const byType = new Map<string, string>();
  for (const id of identifiers) {
    const colon = id.indexOf(':');
    if (colon <= 0) continue;
    const type = id.slice(0, colon).toLowerCase();
    // An IP address changes and is shared; it must never stand for a person.
    if (type === 'ip' || byType.has(type)) continue;
    byType.set(type, id);
  }

  const ordered = [
    ...config.identifierOrder.flatMap((t) => byType.get(t) ?? []),
    ...[...byType].filter(([type]) => !config.identifierOrder.includes(type)).map(([, id]) => id),
  ];
  for (const id of ordered) {
    const override = Object.hasOwn(config.overrides, id) ? config.overrides[id] : undefined;
    if (override) return { identifier: id, communityUserId: override };
  }

  for (const type of config.identifierOrder) {
    const id = byType.get(type);
    if (!id) continue;
    const value = config.stripPrefix ? id.slice(id.indexOf(':') + 1) : id;
    if (value.length > 0 && value.length <= MAX_ID)
      return { identifier: id, communityUserId: value };
  }
  return null;
}

/** The key cooldowns are stored under: stable across reconnects, unlike the server id. */
export function stableKey(identifiers: readonly string[], fallback: string): string {
  return identifiers.find((id) => id.startsWith('license:')) ?? `player:${fallback}`;
}
