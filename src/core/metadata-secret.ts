/**
 * The shared secret between the metadata proxies (one per tenant network namespace, run by the network
 * agent) and the metadata service on the control plane: Neutron's `metadata_proxy_shared_secret`.
 *
 * The secret lives in `<dataDir>/metadata_proxy_secret` (64 hex characters, mode 0600), created on first
 * use. Two signing schemes are accepted by the metadata service:
 *  - Stackbox's proxy: `X-Stackbox-Proxy-Signature` = hex HMAC-SHA256(secret, networkId + "\n" + ip), with
 *    `X-Neutron-Network-ID` and `X-Forwarded-For` (the guest's address on that network);
 *  - Nova's: `X-Instance-ID-Signature` = hex HMAC-SHA256(secret, instanceId), with `X-Instance-ID` and
 *    `X-Tenant-ID` (nova/api/metadata/handler.py, what neutron-metadata-agent sends).
 * The key is the secret's text (its UTF-8 bytes), as Nova uses the configured string.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  linkSync,
  mkdirSync,
  openSync,
  readFileSync,
  unlinkSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';

export const METADATA_SECRET_FILE = 'metadata_proxy_secret';

/** The metadata proxy secret of this data directory, created (32 random bytes, hex) when missing. */
export function metadataSecret(dataDir: string): string {
  const file = join(dataDir, METADATA_SECRET_FILE);
  const existing = readSecret(file);
  if (existing !== undefined) return existing;
  mkdirSync(dataDir, { recursive: true });
  // Write a private temporary file, then link it into place: the file appears complete or not at all,
  // and when two processes race the first link wins and both read the same secret.
  const tmp = `${file}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const fd = openSync(tmp, 'wx', 0o600);
  try {
    writeSync(fd, `${randomBytes(32).toString('hex')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  try {
    linkSync(tmp, file);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  } finally {
    unlinkSync(tmp);
  }
  const secret = readSecret(file);
  if (secret === undefined) throw new Error(`${file} could not be created`);
  return secret;
}

function readSecret(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
  const secret = text.trim();
  // An empty key would let anyone compute signatures: refuse it rather than serve every instance's data.
  if (secret === '') throw new Error(`${file} is empty: delete it to have a new secret generated`);
  return secret;
}

const hmacHex = (secret: string, data: string) =>
  createHmac('sha256', secret).update(data, 'utf8').digest('hex');

function sameHex(expected: string, given: unknown): boolean {
  if (typeof given !== 'string' || given.length !== expected.length) return false;
  return timingSafeEqual(Buffer.from(expected, 'utf8'), Buffer.from(given, 'utf8'));
}

/** `X-Stackbox-Proxy-Signature` for a guest address on a network. */
export function signProxyRequest(secret: string, networkId: string, ip: string): string {
  return hmacHex(secret, `${networkId}\n${ip}`);
}

/** Whether `signature` is the proxy signature of (networkId, ip); constant time. */
export function verifyProxyRequest(
  secret: string,
  networkId: string,
  ip: string,
  signature: unknown,
): boolean {
  return sameHex(signProxyRequest(secret, networkId, ip), signature);
}

/** Nova's `X-Instance-ID-Signature` for an instance uuid. */
export function signInstanceId(secret: string, instanceId: string): string {
  return hmacHex(secret, instanceId);
}

/** Whether `signature` is Nova's signature of instanceId; constant time. */
export function verifyInstanceId(secret: string, instanceId: string, signature: unknown): boolean {
  return sameHex(signInstanceId(secret, instanceId), signature);
}
