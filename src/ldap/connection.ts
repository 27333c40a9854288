import { readFile } from 'node:fs/promises';
import { connect as netConnect, isIP, type Socket } from 'node:net';
import { checkServerIdentity, connect as tlsConnect, type ConnectionOptions as TlsConnectionOptions, type PeerCertificate, type TLSSocket } from 'node:tls';
import {
  AbandonRequest,
  BindRequest,
  ExtendedRequest,
  PagedResultsControl,
  SearchRequest,
  UnbindRequest,
  type Control,
} from 'ldapts';
import type { Profile } from '../config/types.js';
import type { Entry, Logger } from '../shared/index.js';
import type { EncodedFilter } from './search-filter.js';
import { LdapError, adBindReason, resultCodeName, type LdapErrorWhere } from './ldap-error.js';
import { LdapDecodeError, MessageDecoder, OP_EXTENDED_RESPONSE, type MessageSink, type OperationResult } from './message-decoder.js';

const STARTTLS_OID = '1.3.6.1.4.1.1466.20037';
const NOTICE_OF_DISCONNECTION_OID = '1.3.6.1.4.1.1466.20036';
export const PAGED_RESULTS_OID = PagedResultsControl.type;
const MAX_MESSAGE_ID = 2 ** 31 - 1;

/** What a connection needs from a profile: where, how (TLS), how long to wait, and who to name in errors. */
export type ConnectionProfile = Pick<Profile, 'name' | 'url' | 'startTLS' | 'tls' | 'timeouts' | 'serverType'>;

/** Anything ldapts can encode: its request classes all have `write()`. */
interface Request {
  write(): Buffer;
}

export interface ConnectionOptions {
  readonly logger: Logger;
  /** Log each operation at debug level. */
  readonly debug?: boolean;
}

export interface SearchParams {
  readonly baseDN: string;
  readonly scope: 'base' | 'one' | 'sub';
  readonly filter: EncodedFilter;
  /** Shown in debug lines and errors. */
  readonly filterText: string;
  readonly attributes: ReadonlyArray<string>;
  readonly sizeLimit?: number;
  /** With a page size the search carries the paged results control (RFC 2696). */
  readonly page?: { readonly size: number; readonly cookie: Buffer };
}

export interface SearchHandle {
  readonly messageId: number;
  /** Settles with the SearchResultDone, whatever its result code; rejects only when the connection fails. */
  readonly done: Promise<OperationResult>;
}

interface PendingOperation {
  readonly name: string;
  readonly entry: ((entry: Entry) => void) | undefined;
  readonly resolve: (result: OperationResult) => void;
  readonly reject: (err: LdapError) => void;
  /** When the server last said something about this operation (Date.now()). */
  lastHeard: number;
  timer: NodeJS.Timeout | undefined;
}

/**
 * One LDAP connection: TCP or TLS, StartTLS, simple bind, searches, abandon, unbind. Requests are encoded with
 * ldapts' message classes; responses are read by `MessageDecoder` straight into entries. Every failure is an
 * `LdapError` naming the profile and URL.
 *
 * Timeouts: `timeouts.connect` bounds the TCP connect and TLS handshake; `timeouts.operation` is how long an
 * operation may go without a word from the server (each entry of a search resets it, so a long read that keeps
 * streaming never times out, and a server that stops answering is noticed).
 */
export class LdapConnection {
  readonly #profile: ConnectionProfile;
  readonly #options: ConnectionOptions;
  readonly #where: LdapErrorWhere;
  #socket: Socket;
  readonly #decoder: MessageDecoder;
  readonly #pending = new Map<number, PendingOperation>();
  #messageId = 0;
  /** Set once the connection cannot be used any more; later operations fail with it. */
  #failure: LdapError | undefined;
  #closing = false;

  private constructor(profile: ConnectionProfile, options: ConnectionOptions, socket: Socket) {
    this.#profile = profile;
    this.#options = options;
    this.#where = { profile: profile.name, url: profile.url };
    this.#socket = socket;
    const sink: MessageSink = {
      entry: (messageId, entry) => {
        const operation = this.#pending.get(messageId);
        if (operation === undefined) return;
        operation.lastHeard = Date.now();
        operation.entry?.(entry);
      },
      reference: (messageId) => {
        // Continuation references (AD's CN=Configuration...) are never chased.
        const operation = this.#pending.get(messageId);
        if (operation !== undefined) operation.lastHeard = Date.now();
      },
      result: (messageId, result) => this.#onResult(messageId, result),
    };
    this.#decoder = new MessageDecoder(sink);
    this.#attach(socket);
  }

  /** Connects (and upgrades with StartTLS when the profile says so). Does not bind. */
  static async open(profile: ConnectionProfile, options: ConnectionOptions): Promise<LdapConnection> {
    const where: LdapErrorWhere = { profile: profile.name, url: profile.url };
    const target = parseUrl(profile.url, where);
    const started = Date.now();
    const secure = target.secure ? await tlsOptions(profile, target.host, where) : undefined;
    const socket = await connectSocket(profile, target, secure, where);
    const connection = new LdapConnection(profile, options, socket);
    connection.#debug('connect', { ms: Date.now() - started, tls: target.secure });
    if (profile.startTLS && !target.secure) {
      try {
        await connection.#startTls(target.host);
      } catch (err) {
        connection.#destroy();
        throw err;
      }
    }
    return connection;
  }

  /** Where errors of this connection point to. */
  get where(): LdapErrorWhere {
    return this.#where;
  }

  /** Simple bind; an empty DN and password is the anonymous bind. Invalid credentials raise `ldap.invalid-credentials`. */
  async bind(dn: string, password: string): Promise<void> {
    const started = Date.now();
    const result = await this.#request('bind', (messageId) => new BindRequest({ messageId, dn, password }));
    this.#debug('bind', { dn: dn === '' ? '(anonymous)' : dn, resultCode: result.resultCode, ms: Date.now() - started });
    if (result.resultCode === 0) return;
    if (result.resultCode === 49) {
      const ad = adBindReason(result.diagnosticMessage);
      const reason = ad !== undefined ? `: ${ad.reason} (AD ${ad.subcode})` : '';
      throw new LdapError(
        'ldap.invalid-credentials',
        `invalid credentials for ${dn === '' ? 'the anonymous bind' : dn} (49 invalidCredentials)${reason}${diagnostic(result)}`,
        { ...this.#where, dn },
        { resultCode: 49, adReason: ad },
      );
    }
    throw resultError(result, { ...this.#where, dn }, `bind as ${dn === '' ? 'anonymous' : dn}`);
  }

  /**
   * Sends a search; entries go to `onEntry` as they are decoded. The returned promise settles with the
   * SearchResultDone, whatever its code: the caller decides what a size limit means for it.
   */
  search(params: SearchParams, onEntry: (entry: Entry) => void): SearchHandle {
    const controls: Control[] = [];
    if (params.page !== undefined) controls.push(new PagedResultsControl({ value: { size: params.page.size, cookie: params.page.cookie } }));
    let messageId = 0;
    const done = this.#request(
      'search',
      (id) => {
        messageId = id;
        return new SearchRequest({
          messageId: id,
          baseDN: params.baseDN,
          scope: params.scope,
          filter: params.filter,
          attributes: [...params.attributes],
          sizeLimit: params.sizeLimit ?? 0,
          // No client-side time limit (ldapts' default is 10 s): the operation timeout watches for silence.
          timeLimit: 0,
          controls,
        });
      },
      onEntry,
    );
    return { messageId, done };
  }

  /** Tells the server to stop an operation; its promise is left to settle (or not) and is forgotten. */
  abandon(messageId: number): void {
    const operation = this.#pending.get(messageId);
    if (operation === undefined) return;
    clearTimeout(operation.timer);
    operation.timer = undefined;
    this.#pending.delete(messageId);
    if (this.#failure === undefined && !this.#socket.destroyed) {
      this.#socket.write(new AbandonRequest({ messageId: this.#nextMessageId(), abandonId: messageId }).write());
      this.#debug('abandon', { messageId });
    }
  }

  /** Unbinds and closes. Never throws; safe to call twice. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const socket = this.#socket;
    if (this.#failure === undefined && !socket.destroyed) {
      await new Promise<void>((resolve) => {
        socket.write(new UnbindRequest({ messageId: this.#nextMessageId() }).write(), () => resolve());
        setTimeout(resolve, 1_000).unref();
      });
    }
    this.#fail(new LdapError('ldap.closed', 'the connection was closed', this.#where));
    socket.end();
    socket.destroy();
    this.#debug('unbind', {});
  }

  async #startTls(host: string): Promise<void> {
    const started = Date.now();
    const result = await this.#request('StartTLS', (messageId) => new ExtendedRequest({ messageId, oid: STARTTLS_OID }));
    if (result.resultCode !== 0) {
      throw new LdapError(
        'ldap.starttls-unsupported',
        `the server refused StartTLS (${result.resultCode} ${resultCodeName(result.resultCode)})${diagnostic(result)}; use an ldaps:// URL or configure TLS on the server`,
        this.#where,
        { resultCode: result.resultCode },
      );
    }
    const plain = this.#socket;
    this.#detach(plain);
    // The TLS socket takes the connection over and reports its failures; the plain one must not crash the process.
    plain.on('error', () => undefined);
    const options = await tlsOptions(this.#profile, host, this.#where);
    const secured = await handshake(() => tlsConnect({ ...options, socket: plain }), this.#profile, this.#where);
    this.#socket = secured;
    this.#attach(secured);
    this.#debug('starttls', { ms: Date.now() - started, protocol: secured.getProtocol() });
  }

  #request(name: string, build: (messageId: number) => Request, entry?: (entry: Entry) => void): Promise<OperationResult> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#socket.destroyed) return Promise.reject(this.#gone(`the connection was closed before the ${name}`));
    const messageId = this.#nextMessageId();
    const message = build(messageId);
    return new Promise<OperationResult>((resolve, reject) => {
      const operation: PendingOperation = { name, entry, resolve, reject, lastHeard: Date.now(), timer: undefined };
      this.#pending.set(messageId, operation);
      this.#watch(operation);
      this.#socket.write(message.write());
    });
  }

  /**
   * Fails the connection when an operation has heard nothing for `timeouts.operation`. The verdict waits for
   * setImmediate, which runs after pending socket data has been read: a caller that kept the event loop busy
   * must not make a server that did answer look silent.
   */
  #watch(operation: PendingOperation): void {
    const timeout = this.#profile.timeouts.operation;
    if (timeout <= 0) return;
    const check = (): void => {
      setImmediate(() => {
        if (operation.timer === undefined) return;
        const silent = Date.now() - operation.lastHeard;
        if (silent < timeout) {
          operation.timer = setTimeout(check, timeout - silent);
          return;
        }
        this.#fail(new LdapError('ldap.timeout', `no answer to the ${operation.name} within ${timeout} ms (timeouts.operation)`, this.#where));
        this.#destroy();
      });
    };
    operation.timer = setTimeout(check, timeout);
  }

  #onResult(messageId: number, result: OperationResult): void {
    if (messageId === 0) {
      // An unsolicited notification: the only one in use is the notice of disconnection.
      if (result.op === OP_EXTENDED_RESPONSE && (result.responseName === NOTICE_OF_DISCONNECTION_OID || result.responseName === undefined)) {
        this.#fail(this.#gone(`the server is closing the connection (${result.resultCode} ${resultCodeName(result.resultCode)})${diagnostic(result)}`));
        this.#destroy();
      }
      return;
    }
    const operation = this.#pending.get(messageId);
    if (operation === undefined) return;
    this.#pending.delete(messageId);
    clearTimeout(operation.timer);
    operation.timer = undefined;
    operation.resolve(result);
  }

  #attach(socket: Socket): void {
    socket.on('data', this.#onData);
    socket.on('error', this.#onError);
    socket.on('close', this.#onClose);
  }

  #detach(socket: Socket): void {
    socket.off('data', this.#onData);
    socket.off('error', this.#onError);
    socket.off('close', this.#onClose);
  }

  readonly #onData = (chunk: Buffer): void => {
    try {
      this.#decoder.feed(chunk);
    } catch (err) {
      if (!(err instanceof LdapDecodeError)) throw err;
      this.#fail(new LdapError('ldap.protocol', `the server sent something that is not LDAP: ${err.message}`, this.#where, { cause: err }));
      this.#destroy();
    }
  };

  readonly #onError = (err: Error): void => {
    this.#fail(networkError(err, this.#where));
  };

  readonly #onClose = (): void => {
    this.#fail(this.#closing ? new LdapError('ldap.closed', 'the connection was closed', this.#where) : this.#gone('the server closed the connection'));
  };

  #gone(what: string): LdapError {
    const inFlight = [...this.#pending.values()].map((o) => o.name);
    const during = inFlight.length > 0 ? ` during the ${[...new Set(inFlight)].join(' and ')}` : '';
    return new LdapError('ldap.server-gone', `${what}${during}; results so far are incomplete`, this.#where);
  }

  /** Marks the connection unusable and fails every operation in flight with the same error. */
  #fail(failure: LdapError): void {
    if (this.#failure === undefined) this.#failure = failure;
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const operation of pending) {
      clearTimeout(operation.timer);
      operation.timer = undefined;
      operation.reject(this.#failure);
    }
  }

  #destroy(): void {
    this.#socket.destroy();
  }

  #nextMessageId(): number {
    this.#messageId = this.#messageId >= MAX_MESSAGE_ID ? 1 : this.#messageId + 1;
    return this.#messageId;
  }

  #debug(operation: string, fields: Readonly<Record<string, unknown>>): void {
    if (this.#options.debug === true) this.#options.logger.debug({ profile: this.#profile.name, url: this.#profile.url, op: operation, ...fields }, `ldap ${operation}`);
  }
}

interface Target {
  readonly host: string;
  readonly port: number;
  readonly secure: boolean;
}

function parseUrl(url: string, where: LdapErrorWhere): Target {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch (err) {
    throw new LdapError('ldap.protocol', `${JSON.stringify(url)} is not an LDAP URL`, where, { cause: err });
  }
  const scheme = parsed.protocol.replace(/:$/, '').toLowerCase();
  if (scheme !== 'ldap' && scheme !== 'ldaps') throw new LdapError('ldap.protocol', `the URL scheme must be ldap:// or ldaps://, not ${scheme}://`, where);
  const secure = scheme === 'ldaps';
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1') || 'localhost';
  const port = parsed.port === '' ? (secure ? 636 : 389) : Number(parsed.port);
  return { host, port, secure };
}

/**
 * TLS options of a profile. The certificate is verified by `handshake`, after the handshake, instead of by
 * Node during it: that way the error can name the certificate the server presented.
 */
async function tlsOptions(profile: ConnectionProfile, host: string, where: LdapErrorWhere): Promise<TlsConnectionOptions> {
  let ca: Buffer | undefined;
  if (profile.tls.caFile !== undefined) {
    try {
      ca = await readFile(profile.tls.caFile);
    } catch (err) {
      throw new LdapError('ldap.tls', `cannot read tls.caFile ${profile.tls.caFile}: ${(err as Error).message}`, where, { cause: err });
    }
  }
  const expectedName = profile.tls.serverName ?? host;
  return {
    host,
    ca,
    rejectUnauthorized: false,
    minVersion: 'TLSv1.2',
    // SNI carries host names only; an IP address is checked against the certificate's IP SANs instead.
    servername: isIP(expectedName) === 0 ? expectedName : undefined,
    checkServerIdentity: (_host, cert) => checkServerIdentity(expectedName, cert),
  };
}

function connectSocket(profile: ConnectionProfile, target: Target, secure: TlsConnectionOptions | undefined, where: LdapErrorWhere): Promise<Socket> {
  if (secure !== undefined) return handshake(() => tlsConnect({ ...secure, port: target.port, host: target.host }), profile, where);
  return new Promise<Socket>((resolve, reject) => {
    const socket = netConnect({ host: target.host, port: target.port });
    const timer = connectTimer(profile, socket, reject, where);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(networkError(err, where));
    };
    socket.once('error', onError);
    socket.once('connect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/** Runs a TLS handshake and then checks the certificate as the profile asks (`tls.rejectUnauthorized`). */
function handshake(start: () => TLSSocket, profile: ConnectionProfile, where: LdapErrorWhere): Promise<TLSSocket> {
  return new Promise<TLSSocket>((resolve, reject) => {
    const socket = start();
    const timer = connectTimer(profile, socket, reject, where);
    const onError = (err: Error): void => {
      clearTimeout(timer);
      socket.destroy();
      reject(handshakeError(err, where));
    };
    socket.once('error', onError);
    socket.once('secureConnect', () => {
      clearTimeout(timer);
      socket.off('error', onError);
      if (!socket.authorized && profile.tls.rejectUnauthorized) {
        const reason = String((socket.authorizationError as unknown as string | undefined) ?? 'unknown');
        const failure = certificateError(reason, socket.getPeerCertificate(), profile, where);
        // Nothing else listens any more: an error while tearing down must not go unhandled.
        socket.on('error', () => undefined);
        socket.destroy();
        reject(failure);
        return;
      }
      socket.setNoDelay(true);
      resolve(socket);
    });
  });
}

/** A connection that drops during the handshake is a TLS problem (often a plain port), not a server gone mid-read. */
function handshakeError(err: Error, where: LdapErrorWhere): LdapError {
  const failure = networkError(err, where);
  if (failure.code !== 'ldap.server-gone' && failure.code !== 'ldap.protocol') return failure;
  return new LdapError(
    'ldap.tls',
    `TLS handshake failed: ${err.message} (is this an ldaps:// port, usually 636, and does the server have a certificate?)`,
    where,
    { cause: err },
  );
}

function connectTimer(profile: ConnectionProfile, socket: Socket, reject: (err: LdapError) => void, where: LdapErrorWhere): NodeJS.Timeout | undefined {
  const timeout = profile.timeouts.connect;
  if (timeout <= 0) return undefined;
  return setTimeout(() => {
    socket.destroy();
    reject(new LdapError('ldap.timeout', `could not connect within ${timeout} ms (timeouts.connect)`, where));
  }, timeout);
}

function certificateError(reason: string, cert: PeerCertificate, profile: ConnectionProfile, where: LdapErrorWhere): LdapError {
  const subject = distinguishedName(cert.subject);
  const issuer = distinguishedName(cert.issuer);
  const names = cert.subjectaltname !== undefined && cert.subjectaltname !== '' ? `, names ${cert.subjectaltname}` : '';
  const presented = `the server's certificate (subject "${subject}", issuer "${issuer}"${names}, valid until ${cert.valid_to})`;
  const hint =
    reason === 'ERR_TLS_CERT_ALTNAME_INVALID' || /altname|hostname/i.test(reason)
      ? `connect with a name the certificate lists, or set tls.serverName to one of them`
      : reason === 'CERT_HAS_EXPIRED' || reason === 'CERT_NOT_YET_VALID'
        ? 'renew the server certificate'
        : profile.tls.caFile === undefined
          ? `set tls.caFile to a PEM file with the CA that issued it ("${issuer}")`
          : `tls.caFile (${profile.tls.caFile}) does not contain the CA that issued it ("${issuer}")`;
  return new LdapError('ldap.tls', `TLS verification failed: ${presented} is not trusted (${reason}); ${hint}`, where);
}

function distinguishedName(name: PeerCertificate['subject'] | undefined): string {
  if (name === undefined) return '';
  return Object.entries(name as unknown as Record<string, string | string[]>)
    .map(([key, value]) => `${key}=${Array.isArray(value) ? value.join('+') : value}`)
    .join(', ');
}

/** Socket-level failures (errno codes, TLS alerts) as the error codes of this stage. */
export function networkError(err: Error, where: LdapErrorWhere): LdapError {
  const code = (err as NodeJS.ErrnoException).code ?? '';
  switch (code) {
    case 'ECONNREFUSED':
      return new LdapError('ldap.connection-refused', `connection refused: nothing listens on ${where.url} (is the server running, is the port right?)`, where, { cause: err });
    case 'EHOSTUNREACH':
    case 'ENETUNREACH':
      return new LdapError('ldap.connection-refused', `cannot reach the host of ${where.url} (${code})`, where, { cause: err });
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'EAI_NONAME':
    case 'EAI_FAIL':
      return new LdapError('ldap.dns', `cannot resolve the host name of ${where.url} (${code})`, where, { cause: err });
    case 'ETIMEDOUT':
      return new LdapError('ldap.timeout', `the connection timed out (${code})`, where, { cause: err });
    case 'ECONNRESET':
    case 'EPIPE':
      return new LdapError('ldap.server-gone', `the server reset the connection (${code}); results so far are incomplete`, where, { cause: err });
    default:
      if (code.startsWith('ERR_SSL') || code.startsWith('ERR_TLS') || /SSL|TLS|certificate/i.test(err.message)) {
        return new LdapError('ldap.tls', `TLS handshake failed: ${err.message} (is this an ldaps:// port, and does the server have a certificate?)`, where, { cause: err });
      }
      return new LdapError('ldap.protocol', `connection failed: ${err.message}`, where, { cause: err });
  }
}

/** A result code other than success as the error a directory admin reads. */
export function resultError(result: OperationResult, where: LdapErrorWhere, operation: string): LdapError {
  const code = result.resultCode;
  const named = `(${code} ${resultCodeName(code)})${diagnostic(result)}`;
  switch (code) {
    case 32: {
      const known = result.matchedDN !== '' ? `; the server knows only ${result.matchedDN}` : '';
      const what = where.dn !== undefined ? `no such object ${where.dn}` : 'no such object';
      return new LdapError('ldap.no-such-object', `${operation}: ${what} ${named}${known}`, where, { resultCode: code });
    }
    case 4:
      return new LdapError(
        'ldap.size-limit',
        `${operation}: the server's size limit cut the result short ${named}; the entries read are incomplete (use paging, or raise the limit for the bind DN)`,
        where,
        { resultCode: code },
      );
    case 3:
      return new LdapError('ldap.time-limit', `${operation}: the server's time limit cut the result short ${named}`, where, { resultCode: code });
    case 49:
      return new LdapError('ldap.invalid-credentials', `${operation}: invalid credentials ${named}`, where, { resultCode: code });
    case 10: {
      const to = result.referrals.length > 0 ? ` to ${result.referrals.join(', ')}` : '';
      return new LdapError('ldap.protocol', `${operation}: the server answered with a referral${to} ${named}; is the base DN in one of its naming contexts?`, where, { resultCode: code });
    }
    case 8:
    case 13:
      return new LdapError('ldap.protocol', `${operation}: ${named}; the server requires a protected connection (startTLS: true or an ldaps:// URL)`, where, { resultCode: code });
    default:
      return new LdapError('ldap.protocol', `${operation}: ${named}`, where, { resultCode: code });
  }
}

function diagnostic(result: OperationResult): string {
  const message = result.diagnosticMessage.trim();
  return message === '' ? '' : `: ${message}`;
}
