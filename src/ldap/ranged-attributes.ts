import type { AttributeValue, Entry } from '../shared/index.js';

/**
 * Active Directory range retrieval (MS-ADTS 3.1.1.3.1.3.3): an attribute with more values than MaxValRange
 * (1500) comes back as `member;range=0-1499`; the client asks for `member;range=1500-*` and so on until the
 * server answers with a `*` upper bound. These helpers put the chunks back together into one `member`.
 */
export interface RangeMerge {
  /** The entry with every ranged attribute under its plain name, values in server order. */
  readonly entry: Entry;
  /** Attributes whose last chunk was not the final one, with the first index still to fetch. */
  readonly next: ReadonlyMap<string, number>;
}

interface RangedKey {
  readonly name: string;
  readonly low: number;
  /** undefined for `*`, the last chunk. */
  readonly high: number | undefined;
}

/** `member;range=1500-2999` -> { name: 'member', low: 1500, high: 2999 }; undefined for a key without a range. */
export function parseRangedKey(key: string): RangedKey | undefined {
  const match = /^(.*);range=(\d+)-(\d+|\*)$/i.exec(key);
  if (match === null) return undefined;
  const [, name = '', low = '0', high = '*'] = match;
  return { name, low: Number(low), high: high === '*' ? undefined : Number(high) };
}

/** Thrown when chunks do not line up (a gap, an overlap, a follow-up without the asked-for range). */
export class RangeRetrievalError extends Error {
  override readonly name = 'RangeRetrievalError';
}

/** Accumulates the responses for one entry: the first search result, then each follow-up base search. */
export class RangedAttributeMerger {
  readonly #dn: string;
  readonly #attributes = new Map<string, AttributeValue[]>();
  readonly #next = new Map<string, number>();

  constructor(first: Entry) {
    this.#dn = first.dn;
    for (const [key, values] of first.attributes) {
      const ranged = parseRangedKey(key);
      if (ranged === undefined) this.#append(key, values);
      else this.#chunk(ranged, values, true);
    }
  }

  /** Adds a follow-up response, which must continue every attribute that was still incomplete. */
  add(response: Entry): void {
    const expected = new Map(this.#next);
    for (const [key, values] of response.attributes) {
      const ranged = parseRangedKey(key);
      if (ranged === undefined || !expected.has(ranged.name)) continue;
      expected.delete(ranged.name);
      this.#chunk(ranged, values, false);
    }
    if (expected.size > 0) {
      const missing = [...expected].map(([name, low]) => `${name};range=${low}-*`).join(', ');
      throw new RangeRetrievalError(`asked for ${missing} of ${this.#dn} and the server did not return it`);
    }
  }

  get complete(): boolean {
    return this.#next.size === 0;
  }

  result(): RangeMerge {
    return { entry: { dn: this.#dn, attributes: new Map(this.#attributes) }, next: new Map(this.#next) };
  }

  #chunk(ranged: RangedKey, values: ReadonlyArray<AttributeValue>, first: boolean): void {
    const expectedLow = first ? 0 : this.#next.get(ranged.name);
    if (ranged.low !== expectedLow) {
      throw new RangeRetrievalError(`${ranged.name} of ${this.#dn}: expected the range starting at ${expectedLow ?? 0}, got ${ranged.low}`);
    }
    if (ranged.high !== undefined && ranged.high < ranged.low) {
      throw new RangeRetrievalError(`${ranged.name} of ${this.#dn}: range ${ranged.low}-${ranged.high} ends before it starts`);
    }
    this.#append(ranged.name, values);
    if (ranged.high === undefined) this.#next.delete(ranged.name);
    else this.#next.set(ranged.name, ranged.high + 1);
  }

  #append(name: string, values: ReadonlyArray<AttributeValue>): void {
    const existing = this.#attributes.get(name);
    if (existing === undefined) this.#attributes.set(name, [...values]);
    else for (const value of values) existing.push(value);
  }
}

/**
 * Merges the first response for an entry and any follow-ups into one entry; `next` says what is still to be
 * asked for (empty when the last chunk of every attribute had a `*` upper bound).
 */
export function mergeRangedAttributes(first: Entry, ...followUps: ReadonlyArray<Entry>): RangeMerge {
  const merger = new RangedAttributeMerger(first);
  for (const response of followUps) merger.add(response);
  return merger.result();
}

/** Whether any attribute of the entry came back in ranges. */
export function hasRangedAttributes(entry: Entry): boolean {
  for (const key of entry.attributes.keys()) if (key.includes(';range=')) return true;
  return false;
}
