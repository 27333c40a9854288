import { fault } from './dsl-error.js';

const HEX: ReadonlyArray<string> = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const SID = /^S-\d+(-\d+)+$/i;

export function hexOf(bytes: Uint8Array): string {
  let out = '';
  for (const b of bytes) out += HEX[b];
  return out;
}

/**
 * A GUID's canonical text. Active Directory's objectGUID is the Windows GUID structure: the first three
 * fields are little-endian, so bytes `fc d4 5a 66 …` read `665ad4fc-…`. A value that already is a UUID string
 * (OpenLDAP's entryUUID, 389-DS) comes back lower-cased.
 */
export function guidText(value: Uint8Array | string): string {
  if (typeof value === 'string') {
    if (!UUID.test(value)) fault(`'${clip(value)}' is not a GUID`);
    return value.toLowerCase();
  }
  if (value.length !== 16) fault(`a GUID has 16 bytes, this value has ${value.length}`);
  const h = (i: number): string => HEX[value[i]!]!;
  return (
    `${h(3)}${h(2)}${h(1)}${h(0)}-${h(5)}${h(4)}-${h(7)}${h(6)}-` +
    `${h(8)}${h(9)}-${h(10)}${h(11)}${h(12)}${h(13)}${h(14)}${h(15)}`
  );
}

/** A binary security identifier as `S-1-5-21-…`: revision, 48-bit big-endian authority, little-endian sub-authorities. */
export function sidText(value: Uint8Array | string): string {
  if (typeof value === 'string') {
    if (!SID.test(value)) fault(`'${clip(value)}' is not a SID`);
    return value.toUpperCase();
  }
  if (value.length < 8) fault(`a SID has at least 8 bytes, this value has ${value.length}`);
  const count = value[1]!;
  if (value.length !== 8 + 4 * count) fault(`a SID with ${count} sub-authorities has ${8 + 4 * count} bytes, this value has ${value.length}`);
  let authority = 0;
  for (let i = 2; i < 8; i++) authority = authority * 256 + value[i]!;
  let out = `S-${value[0]}-${authority}`;
  const view = new DataView(value.buffer, value.byteOffset, value.byteLength);
  for (let i = 0; i < count; i++) out += `-${view.getUint32(8 + 4 * i, true)}`;
  return out;
}

const FILETIME_NEVER = 9223372036854775807n;
/** 100 ns intervals between 1601-01-01 (the FILETIME epoch) and 1970-01-01, in milliseconds. */
const FILETIME_EPOCH_OFFSET_MS = 11644473600000n;

/**
 * An Active Directory FILETIME (accountExpires, pwdLastSet, lastLogonTimestamp: 100 ns ticks since 1601) as an
 * ISO-8601 UTC string. 0 and 9223372036854775807 mean "never" and give null.
 */
export function filetimeToIso(value: string | number): string | null {
  const text = typeof value === 'number' ? String(value) : value.trim();
  if (typeof value === 'number' ? !Number.isSafeInteger(value) : !/^-?\d+$/.test(text)) {
    fault(`'${clip(text)}' is not a FILETIME (a whole number of 100 ns ticks)`);
  }
  const ticks = BigInt(text);
  if (ticks === 0n || ticks === FILETIME_NEVER) return null;
  if (ticks < 0n) fault(`FILETIME ${text} is negative`);
  return isoFromMs(Number(ticks / 10000n - FILETIME_EPOCH_OFFSET_MS), text);
}

// YYYYMMDDHH[MM[SS]][(.|,)fraction](Z|±HH[MM]), RFC 4517 §3.3.13.
const GENERALIZED_TIME = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})?(\d{2})?(?:[.,](\d+))?(Z|[+-]\d{2}(?:\d{2})?)$/;

/** An LDAP GeneralizedTime (whenChanged, modifyTimestamp, pwdChangedTime) as an ISO-8601 UTC string. */
export function generalizedTimeToIso(value: string): string {
  const text = value.trim();
  const m = GENERALIZED_TIME.exec(text);
  if (m === null) fault(`'${clip(text)}' is not a generalized time (YYYYMMDDHHMMSSZ)`);
  const [, y, mo, d, h, mi, s, fraction, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = mi === undefined ? 0 : Number(mi);
  // A leap second (60) is accepted, as the RFC allows, and lands on the next second.
  const second = s === undefined ? 0 : Number(s);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 60) {
    fault(`'${clip(text)}' is not a valid date and time`);
  }
  // The fraction belongs to the last unit given: seconds, else minutes, else hours.
  const unitMs = s !== undefined ? 1000 : mi !== undefined ? 60_000 : 3_600_000;
  const fractionMs = fraction === undefined ? 0 : Math.floor(Number(`0.${fraction}`) * unitMs);
  let offsetMs = 0;
  if (zone !== undefined && zone !== 'Z') {
    const sign = zone[0] === '-' ? -1 : 1;
    const zh = Number(zone.slice(1, 3));
    const zm = zone.length > 3 ? Number(zone.slice(3, 5)) : 0;
    if (zh > 23 || zm > 59) fault(`'${clip(text)}' has an invalid time zone offset`);
    offsetMs = sign * (zh * 60 + zm) * 60_000;
  }
  const ms = utcMs(year, month - 1, day, hour, minute, second) + fractionMs - offsetMs;
  return isoFromMs(ms, text);
}

function daysInMonth(year: number, month: number): number {
  return new Date(utcMs(year, month, 0, 0, 0, 0)).getUTCDate();
}

/** Date.UTC, but years 0-99 are those years, not 1900-1999. */
function utcMs(year: number, monthIndex: number, day: number, hour: number, minute: number, second: number): number {
  const date = new Date(0);
  date.setUTCFullYear(year, monthIndex, day);
  date.setUTCHours(hour, minute, second, 0);
  return date.getTime();
}

function isoFromMs(ms: number, text: string): string {
  const date = new Date(ms);
  if (Number.isNaN(date.getTime())) fault(`'${clip(text)}' is outside the range of dates`);
  return date.toISOString();
}

/** Long input is shortened in messages: they end up in logs. */
export function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
