import { execFile } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** PEM files of a certificate authority made for one test server, and a server certificate it signed. */
export interface TestTls {
  readonly caFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

/** Whom the server certificate names; by default the local slapd at `IP:127.0.0.1, DNS:localhost`. */
export interface TestTlsSubject {
  readonly address: string;
  readonly dnsName: string;
  readonly caName: string;
}

const LOCAL_SLAPD: TestTlsSubject = { address: '127.0.0.1', dnsName: 'localhost', caName: 'ldapsync test CA' };

/**
 * Makes a CA and a server certificate for the subject's IP address and DNS name with openssl. EC keys keep this
 * at a few tens of milliseconds, so every server gets certificates of its own and no test trusts another run's CA.
 */
export async function makeTestTls(dir: string, subject: TestTlsSubject = LOCAL_SLAPD): Promise<TestTls> {
  const caKey = join(dir, 'ca.key');
  const caFile = join(dir, 'ca.pem');
  const keyFile = join(dir, 'server.key');
  const csr = join(dir, 'server.csr');
  const certFile = join(dir, 'server.pem');
  const ext = join(dir, 'server.ext');

  await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', caKey]);
  await run('openssl', [
    'req', '-x509', '-new', '-key', caKey, '-subj', `/O=ldapsync tests/CN=${subject.caName}`, '-days', '2', '-out', caFile,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  await run('openssl', ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', keyFile]);
  await run('openssl', ['req', '-new', '-key', keyFile, '-subj', `/O=ldapsync tests/CN=${subject.dnsName}`, '-out', csr]);
  await writeFile(
    ext,
    [
      `subjectAltName=IP:${subject.address},DNS:${subject.dnsName}`,
      'basicConstraints=CA:FALSE',
      'keyUsage=critical,digitalSignature,keyEncipherment',
      'extendedKeyUsage=serverAuth',
      '',
    ].join('\n'),
  );
  await run('openssl', ['x509', '-req', '-in', csr, '-CA', caFile, '-CAkey', caKey, '-CAcreateserial', '-days', '2', '-out', certFile, '-extfile', ext]);
  return { caFile, certFile, keyFile };
}
