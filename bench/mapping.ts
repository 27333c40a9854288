/**
 * Mapping throughput: the compiled closures against the reference tree-walking interpreter, on 100,000
 * synthetic entries, in one run. `npx tsx bench/mapping.ts` (or `npm run bench`). Targets (issue 2): at least
 * 500,000 entries/s for the default mapping on one core, and at least 5x the interpreter.
 *
 * Two figures per evaluator. "paged": each page of 1,000 entries is mapped while it is in the CPU cache, as in
 * a sync, where a page is decoded from the wire and mapped at once. "in memory": the 100,000 entries (some
 * 300 MB) are mapped one after another, each a cache miss away; memory latency, the same for both
 * evaluators, then dominates.
 */
import { compileMapping, interpretMapping, type CompiledMapping, type MappedRecord, type MappingValue } from '../src/dsl/index.js';
import { makeEntry, type Entry } from '../src/shared/index.js';

const ENTRIES = 100_000;
const PAGE = 1_000;
const ROUNDS = 5;

/** A small deterministic generator, so every run maps the same directory. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Philip', 'Turanga', 'Hubert', 'Amy', 'Hermes', 'Bender', 'John', 'Zapp', 'Kif', 'Scruffy'];
const LAST = ['Fry', 'Leela', 'Farnsworth', 'Wong', 'Conrad', 'Rodriguez', 'Zoidberg', 'Brannigan', 'Kroker', 'Scruffington'];
const OUS = ['Delivering Crew', 'Office Management', 'Staff', 'Research'];

function entries(first: number, count: number): Entry[] {
  const next = random(42 + first);
  const pick = <T>(list: ReadonlyArray<T>): T => list[Math.floor(next() * list.length)]!;
  const out: Entry[] = [];
  for (let i = first; i < first + count; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const uid = `${first.toLowerCase()}.${last.toLowerCase()}${i}`;
    const guid = new Uint8Array(16);
    for (let j = 0; j < 16; j++) guid[j] = Math.floor(next() * 256);
    const mail = [`${uid}@planetexpress.com`];
    if (next() < 0.5) mail.push(`${uid}@Example.com`);
    const groups = ['cn=staff,ou=groups,dc=planetexpress,dc=com'];
    if (next() < 0.3) groups.push('CN=Ship_Crew,OU=Groups,DC=planetexpress,DC=com');
    out.push(
      makeEntry(`uid=${uid},ou=people,dc=planetexpress,dc=com`, {
        objectClass: ['top', 'person', 'organizationalPerson', 'inetOrgPerson'],
        uid,
        cn: `${first} ${last}`,
        givenName: first,
        sn: last,
        mail,
        ou: pick(OUS),
        title: 'Delivery boy',
        telephoneNumber: `+1 555 ${String(i).padStart(6, '0')}`,
        mobile: `+1 555 ${String(i + 1).padStart(6, '0')}`,
        l: 'New New York',
        st: 'NY',
        postalCode: '10001',
        street: 'West 57th Street',
        o: 'Planet Express',
        employeeType: pick(['staff', 'contractor']),
        userAccountControl: next() < 0.1 ? '514' : '512',
        accountExpires: next() < 0.5 ? '9223372036854775807' : String(133500000000000000 + i * 10_000_000),
        whenChanged: `202401${String(1 + (i % 28)).padStart(2, '0')}123456.0Z`,
        objectGUID: guid,
        memberOf: groups,
      }),
    );
  }
  return out;
}

/** Group-Office's commented examples, on top of the default mapping. */
const EXAMPLES: Readonly<Record<string, MappingValue>> = {
  enabled: "ou != 'Delivering Crew'",
  diskQuota: "bytes('1 GiB')",
  email: "find(values(mail), m => endsWith(lower(m), '@example.com')) ?? mail",
  addressType: "'work'",
  countryCode: "'NL'",
  homeDir: "'ldap_homes/' + uid",
  contactCustomFields: { department: 'ou' },
  userCustomFields: { employeeType: 'employeeType', crew: "isMemberOf('cn=ship_crew,ou=groups,dc=planetexpress,dc=com')" },
};

/** The Active Directory needs: the disabled flag, FILETIME and generalized time to ISO, the binary GUID. */
const ACTIVE_DIRECTORY: Readonly<Record<string, MappingValue>> = {
  enabled: '(int(userAccountControl) & 2) == 0',
  userCustomFields: {
    accountExpires: 'filetime(accountExpires)',
    whenChanged: 'generalizedTime(whenChanged)',
    objectGUID: 'guid(objectGUID)',
  },
};

function compiled(fields: Readonly<Record<string, MappingValue>>): CompiledMapping {
  const result = compileMapping('users', fields);
  if (!result.ok) throw new Error(result.errors.map((e) => e.format()).join('\n'));
  return result.mapping;
}

/** Entries per second over the in-memory list, best of ROUNDS (the first rounds also warm the JIT up). */
function measureInMemory(list: ReadonlyArray<Entry>, run: (entry: Entry) => MappedRecord): number {
  let best = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < list.length; i++) run(list[i]!);
    best = Math.max(best, list.length / (Number(process.hrtime.bigint() - start) / 1e9));
  }
  return best;
}

interface Figures {
  compiled: number;
  interpreted: number;
}

/**
 * Entries per second when a page is mapped while it is in the cache, as during a sync, where the LDAP reader
 * decodes a page and it is mapped at once: each page is mapped once untimed (bringing into the cache what
 * decoding it would have), then by each evaluator, timed. Best of ROUNDS passes over the list.
 */
function measurePaged(list: ReadonlyArray<Entry>, cases: ReadonlyArray<readonly [string, CompiledMapping]>): Figures[] {
  const best: Figures[] = cases.map(() => ({ compiled: 0, interpreted: 0 }));
  for (let round = 0; round < ROUNDS; round++) {
    const seconds = cases.map(() => ({ compiled: 0, interpreted: 0 }));
    for (let first = 0; first < list.length; first += PAGE) {
      const page = list.slice(first, first + PAGE);
      cases.forEach(([, mapping], c) => {
        for (const entry of page) mapping.map(entry);
        let start = process.hrtime.bigint();
        for (const entry of page) mapping.map(entry);
        seconds[c]!.compiled += Number(process.hrtime.bigint() - start) / 1e9;
        start = process.hrtime.bigint();
        for (const entry of page) interpretMapping(mapping, entry);
        seconds[c]!.interpreted += Number(process.hrtime.bigint() - start) / 1e9;
      });
    }
    seconds.forEach((s, c) => {
      best[c]!.compiled = Math.max(best[c]!.compiled, list.length / s.compiled);
      best[c]!.interpreted = Math.max(best[c]!.interpreted, list.length / s.interpreted);
    });
  }
  return best;
}

function format(n: number): string {
  return Math.round(n).toLocaleString('en-US').padStart(11);
}

function row(name: string, figures: Figures): string {
  return `${name.padEnd(34)} ${format(figures.compiled)} ${format(figures.interpreted).padStart(13)}  ${(figures.compiled / figures.interpreted).toFixed(1)}x`;
}

const cases: ReadonlyArray<readonly [string, CompiledMapping]> = [
  ['default mapping', compiled({})],
  ['default + Group-Office examples', compiled(EXAMPLES)],
  ['default + Active Directory', compiled(ACTIVE_DIRECTORY)],
];

// The two evaluators must agree before their speeds mean anything.
const sample = entries(0, 5 * PAGE);
for (const [name, mapping] of cases) {
  for (const entry of sample) {
    const a = JSON.stringify(mapping.map(entry));
    const b = JSON.stringify(interpretMapping(mapping, entry));
    if (a !== b) throw new Error(`${name}: compiled and interpreted results differ on ${entry.dn}\n${a}\n${b}`);
  }
}

const list = entries(0, ENTRIES);
const header = `${'mapping'.padEnd(34)} ${'compiled/s'.padStart(11)} ${'interpreted/s'.padStart(13)}  ratio`;
console.log(`${ENTRIES.toLocaleString('en-US')} synthetic entries, best of ${ROUNDS} rounds, node ${process.version}`);
console.log(`\npaged: each page of ${PAGE.toLocaleString('en-US')} entries mapped while in the cache, as in a sync\n${header}`);
measurePaged(list, cases).forEach((figures, c) => console.log(row(cases[c]![0], figures)));

console.log(`\nin memory: the ${ENTRIES.toLocaleString('en-US')} entries mapped one after another, each a cache miss away\n${header}`);
for (const [name, mapping] of cases) {
  const figures = {
    compiled: measureInMemory(list, (entry) => mapping.map(entry)),
    interpreted: measureInMemory(list, (entry) => interpretMapping(mapping, entry)),
  };
  console.log(row(name, figures));
}
