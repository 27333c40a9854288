import { isIP } from 'node:net';

/** An address as one key: IPv4-mapped IPv6 (`::ffff:192.0.2.1`, what a dual-stack socket reports) as plain IPv4. */
export function normalizeAddress(address: string | undefined): string | undefined {
  if (address === undefined) return undefined;
  const trimmed = address.trim().toLowerCase();
  if (trimmed === '') return undefined;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(trimmed);
  return mapped?.[1] ?? trimmed;
}

/** Whether a connection came from this machine: 127.0.0.0/8 or ::1 (also IPv4-mapped). */
export function isLoopback(address: string | undefined): boolean {
  const normalized = normalizeAddress(address);
  if (normalized === undefined) return false;
  if (isIP(normalized) === 4) return normalized.startsWith('127.');
  return normalized === '::1' || normalized === '0:0:0:0:0:0:0:1';
}
