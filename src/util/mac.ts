// MAC addresses in text: one parser for every place a MAC arrives (config lists, the inventory,
// fleet files, iPXE's ${mac} in a query). Pure.

/**
 * A MAC in canonical form: lower case, colon-separated octets (`aa:bb:cc:dd:ee:ff`), or undefined.
 * Accepts colons or dashes (octets of 1–2 digits, one kind of separator), Cisco dots
 * (`aabb.ccdd.eeff`) or bare hex; 6 octets (Ethernet) or 20 (InfiniBand).
 */
export function parseMac(input: string): string | undefined {
  const s = typeof input === 'string' ? input.replace(/^[ \t]+|[ \t]+$/g, '') : '';
  let hex: string | undefined;
  if (/^[0-9a-f]{1,2}([:-][0-9a-f]{1,2})+$/i.test(s)) {
    const parts = s.split(/[:-]/);
    if (new Set(s.replace(/[0-9a-f]/gi, '')).size === 1) hex = parts.map((p) => p.padStart(2, '0')).join('');
  } else if (/^[0-9a-f]{4}(\.[0-9a-f]{4})+$/i.test(s)) {
    hex = s.replace(/\./g, '');
  } else if (/^[0-9a-f]+$/i.test(s)) {
    hex = s;
  }
  if (hex === undefined || (hex.length !== 12 && hex.length !== 40)) return undefined;
  return hex.toLowerCase().match(/../g)!.join(':');
}

/** An OUI/MAC prefix as lower-case colon-separated octets (1..6 octets), or undefined. */
export function normalizeMacPrefix(text: string): string | undefined {
  const hex = text.toLowerCase().replace(/[:\-.]/g, '');
  if (!/^([0-9a-f]{2}){1,6}$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}
