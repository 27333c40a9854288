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
  const b = value;
  return (
    HEX[b[3]!]! + HEX[b[2]!]! + HEX[b[1]!]! + HEX[b[0]!]! + '-' + HEX[b[5]!]! + HEX[b[4]!]! + '-' +
    HEX[b[7]!]! + HEX[b[6]!]! + '-' + HEX[b[8]!]! + HEX[b[9]!]! + '-' +
    HEX[b[10]!]! + HEX[b[11]!]! + HEX[b[12]!]! + HEX[b[13]!]! + HEX[b[14]!]! + HEX[b[15]!]!
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

const FILETIME_NEVER = '9223372036854775807';
/** Milliseconds between 1601-01-01 (the FILETIME epoch) and 1970-01-01. */
const FILETIME_EPOCH_OFFSET_MS = 11644473600000;

/**
 * An Active Directory FILETIME (accountExpires, pwdLastSet, lastLogonTimestamp: 100 ns ticks since 1601) as an
 * ISO-8601 UTC string. 0 and 9223372036854775807 mean "never" and give null.
 */
export function filetimeToIso(value: string | number): string | null {
  const text = typeof value === 'number' ? String(value) : value.trim();
  if (typeof value === 'number' ? !Number.isSafeInteger(value) || value < 0 : !/^\d+$/.test(text)) {
    fault(`'${clip(text)}' is not a FILETIME (a whole, non-negative number of 100 ns ticks)`);
  }
  const digits = text.replace(/^0+(?=\d)/, '');
  if (digits === '0' || digits === FILETIME_NEVER) return null;
  if (digits.length > FILETIME_NEVER.length || (digits.length === FILETIME_NEVER.length && digits > FILETIME_NEVER)) {
    fault(`FILETIME ${clip(text)} is beyond the largest FILETIME`);
  }
  // Ticks exceed 2^53, milliseconds do not: drop the last four digits (10,000 ticks per ms) instead of dividing.
  const ms = Number(digits.length > 4 ? digits.slice(0, -4) : '0') - FILETIME_EPOCH_OFFSET_MS;
  return isoFromMs(ms, text);
}

/** The number written by `length` digits at `at`, or -1. */
function digitsAt(text: string, at: number, length: number): number {
  if (at + length > text.length) return -1;
  let n = 0;
  for (let i = at; i < at + length; i++) {
    const c = text.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}

function notGeneralizedTime(text: string): never {
  return fault(`'${clip(text)}' is not a generalized time (YYYYMMDDHHMMSSZ)`);
}

/**
 * An LDAP GeneralizedTime (whenChanged, modifyTimestamp, pwdChangedTime) as an ISO-8601 UTC string:
 * YYYYMMDDHH[MM[SS]][(.|,)fraction](Z|±HH[MM]), RFC 4517 §3.3.13. Read digit by digit rather than with a
 * regular expression: AD mappings convert several of these per entry.
 */
export function generalizedTimeToIso(value: string): string {
  const text = value.trim();
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 4, 2);
  const day = digitsAt(text, 6, 2);
  const hour = digitsAt(text, 8, 2);
  if (year < 0 || month < 0 || day < 0 || hour < 0) notGeneralizedTime(text);
  let at = 10;
  // The fraction belongs to the last unit given: seconds, else minutes, else hours.
  let unitMs = 3_600_000;
  let minute = 0;
  let second = 0;
  const mi = digitsAt(text, at, 2);
  if (mi >= 0) {
    minute = mi;
    unitMs = 60_000;
    at += 2;
    const se = digitsAt(text, at, 2);
    if (se >= 0) {
      second = se;
      unitMs = 1000;
      at += 2;
    }
  }
  let fractionMs = 0;
  if (text[at] === '.' || text[at] === ',') {
    const start = ++at;
    while (at < text.length && text.charCodeAt(at) >= 48 && text.charCodeAt(at) <= 57) at++;
    if (at === start) notGeneralizedTime(text);
    fractionMs = Math.floor(Number(`0.${text.slice(start, at)}`) * unitMs);
  }
  let offsetMs = 0;
  const zone = text[at];
  if (zone === 'Z' && at + 1 === text.length) {
    offsetMs = 0;
  } else if ((zone === '+' || zone === '-') && (at + 3 === text.length || at + 5 === text.length)) {
    const zh = digitsAt(text, at + 1, 2);
    const zm = at + 5 === text.length ? digitsAt(text, at + 3, 2) : 0;
    if (zh < 0 || zm < 0) notGeneralizedTime(text);
    if (zh > 23 || zm > 59) fault(`'${clip(text)}' has an invalid time zone offset`);
    offsetMs = (zone === '-' ? -1 : 1) * (zh * 60 + zm) * 60_000;
  } else {
    notGeneralizedTime(text);
  }
  // A leap second (60) is accepted, as the RFC allows, and lands on the next second.
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month) || hour > 23 || minute > 59 || second > 60) {
    fault(`'${clip(text)}' is not a valid date and time`);
  }
  const ms = daysFromCivil(year, month, day) * DAY_MS + ((hour * 60 + minute) * 60 + second) * 1000 + fractionMs - offsetMs;
  return isoFromMs(ms, text);
}

const DAY_MS = 86_400_000;
/** The range of JavaScript dates, ±100,000,000 days around 1970. */
const MAX_MS = 8.64e15;

function isLeapYear(year: number): boolean {
  return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
}

function daysInMonth(year: number, month: number): number {
  return month === 2 ? (isLeapYear(year) ? 29 : 28) : month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/*
 * Days since 1970-01-01 of a proleptic Gregorian date, and back (Howard Hinnant's algorithms). Plain arithmetic:
 * building Date objects made these conversions the slowest part of an Active Directory mapping.
 */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

function pad2(n: number): string {
  return n < 10 ? `0${n}` : `${n}`;
}

/** What Date#toISOString gives for these milliseconds, for years 0000-9999 without making a Date. */
function isoFromMs(ms: number, text: string): string {
  if (!Number.isFinite(ms) || Math.abs(ms) > MAX_MS) fault(`'${clip(text)}' is outside the range of dates`);
  const days = Math.floor(ms / DAY_MS);
  let rest = ms - days * DAY_MS;
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  if (year < 0 || year > 9999) return new Date(ms).toISOString();
  const hour = Math.floor(rest / 3_600_000);
  rest -= hour * 3_600_000;
  const minute = Math.floor(rest / 60_000);
  rest -= minute * 60_000;
  const second = Math.floor(rest / 1000);
  const milli = rest - second * 1000;
  return (
    `${String(year).padStart(4, '0')}-${pad2(month)}-${pad2(day)}T${pad2(hour)}:${pad2(minute)}:${pad2(second)}.` +
    `${milli < 10 ? '00' : milli < 100 ? '0' : ''}${milli}Z`
  );
}

/** Long input is shortened in messages: they end up in logs. */
export function clip(text: string): string {
  return text.length > 40 ? `${text.slice(0, 37)}...` : text;
}
