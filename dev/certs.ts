import { X509Certificate } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { generate } from 'selfsigned';

export interface DevCertificate {
  keyPem: string;
  certPem: string;
  /** Absolute path of the certificate; point NODE_EXTRA_CA_CERTS at it. */
  certPath: string;
}

const CERT_FILE = 'dev-cert.pem';
const KEY_FILE = 'dev-key.pem';
// Regenerate a little before expiry so a long test run never straddles it.
const RENEW_MARGIN_MS = 24 * 60 * 60 * 1000;

/**
 * One self-signed certificate for 127.0.0.1 and localhost, cached in `dir`.
 * Async because selfsigned v5 generates keys with WebCrypto.
 * The certificate is marked as a CA so that it can be its own trust anchor
 * through NODE_EXTRA_CA_CERTS.
 */
export async function ensureDevCertificate(dir = '.local/certs'): Promise<DevCertificate> {
  const absoluteDir = resolve(dir);
  const certPath = join(absoluteDir, CERT_FILE);
  const keyPath = join(absoluteDir, KEY_FILE);
  const cached = readCached(certPath, keyPath);
  if (cached) return cached;

  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(notBeforeDate.getTime() + 365 * 24 * 60 * 60 * 1000);
  const generated = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true, keyCertSign: true, critical: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  mkdirSync(absoluteDir, { recursive: true });
  writeFileSync(keyPath, generated.private, { mode: 0o600 });
  writeFileSync(certPath, generated.cert);
  return { keyPem: generated.private, certPem: generated.cert, certPath };
}

function readCached(certPath: string, keyPath: string): DevCertificate | null {
  if (!existsSync(certPath) || !existsSync(keyPath)) return null;
  try {
    const certPem = readFileSync(certPath, 'utf8');
    const keyPem = readFileSync(keyPath, 'utf8');
    const validTo = Date.parse(new X509Certificate(certPem).validTo);
    if (!(validTo - RENEW_MARGIN_MS > Date.now())) return null;
    return { keyPem, certPem, certPath };
  } catch {
    return null;
  }
}

/**
 * A CA bundle for NODE_EXTRA_CA_CERTS: whatever the machine already trusts that way (a
 * corporate proxy CA, say) plus the dev certificate, so trusting the doubles takes nothing away.
 */
export async function devTrustBundle(
  dir = '.local/certs',
  existing = process.env.NODE_EXTRA_CA_CERTS,
): Promise<string> {
  const { certPem, certPath } = await ensureDevCertificate(dir);
  const bundlePath = join(resolve(dir), 'trust-bundle.pem');
  if (existing === bundlePath) return bundlePath;
  const inherited = existing && existing !== certPath && existsSync(existing) ? readFileSync(existing, 'utf8') : '';
  writeFileSync(bundlePath, `${inherited.trimEnd()}\n${certPem}`.trimStart());
  return bundlePath;
}
