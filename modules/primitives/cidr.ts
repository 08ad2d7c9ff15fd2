// IPv4 CIDR arithmetic for subnet planning: parsing, containment, overlap and aligned allocation.
// Pure functions only; IPv6 is not handled here.

export interface Cidr {
  /** Network address as an unsigned 32-bit integer. */
  readonly base: number;
  readonly prefixLength: number;
}

const CIDR_PATTERN = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;

/** Parses `a.b.c.d/n`; returns undefined if malformed or if host bits are set (`10.0.0.1/16`). */
export function parseCidr(text: string): Cidr | undefined {
  const match = CIDR_PATTERN.exec(text);
  if (!match) return undefined;
  const octets = match.slice(1, 5).map(Number);
  const prefixLength = Number(match[5]);
  if (octets.some((o) => o > 255) || prefixLength > 32) return undefined;
  const base = octets.reduce((acc, o) => acc * 256 + o, 0);
  if (base % blockSize(prefixLength) !== 0) return undefined;
  return { base, prefixLength };
}

export function formatCidr(cidr: Cidr): string {
  const { base } = cidr;
  const octets = [24, 16, 8, 0].map((shift) => Math.floor(base / 2 ** shift) % 256);
  return `${octets.join(".")}/${cidr.prefixLength}`;
}

/** Number of addresses in a block of this prefix length. */
export function blockSize(prefixLength: number): number {
  return 2 ** (32 - prefixLength);
}

export function contains(outer: Cidr, inner: Cidr): boolean {
  return (
    inner.prefixLength >= outer.prefixLength &&
    inner.base >= outer.base &&
    inner.base + blockSize(inner.prefixLength) <= outer.base + blockSize(outer.prefixLength)
  );
}

export function overlaps(a: Cidr, b: Cidr): boolean {
  return a.base < b.base + blockSize(b.prefixLength) && b.base < a.base + blockSize(a.prefixLength);
}

/**
 * Carves blocks of the requested prefix lengths out of `parent`, largest first so that every block is
 * aligned and no space is lost to alignment, and returns them in request order.
 * Returns undefined when the requests do not fit or a request is larger than the parent.
 */
export function allocate(parent: Cidr, prefixLengths: readonly number[]): Cidr[] | undefined {
  if (prefixLengths.some((p) => p < parent.prefixLength || p > 32)) return undefined;
  const order = prefixLengths.map((p, i) => ({ p, i })).sort((a, b) => a.p - b.p || a.i - b.i);
  const result: Cidr[] = new Array<Cidr>(prefixLengths.length);
  let next = parent.base;
  const end = parent.base + blockSize(parent.prefixLength);
  for (const { p, i } of order) {
    if (next + blockSize(p) > end) return undefined;
    result[i] = { base: next, prefixLength: p };
    next += blockSize(p);
  }
  return result;
}
