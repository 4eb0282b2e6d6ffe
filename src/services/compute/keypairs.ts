/** Key pair generation and validation (nova/crypto.py) with node:crypto. */
import { createHash, generateKeyPair, X509Certificate } from 'node:crypto';
import { promisify } from 'node:util';
import { ApiError } from '../../core/errors.js';

const genKeyPair = promisify(generateKeyPair);

function sshString(b: Buffer): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}
function mpint(b64url: string): Buffer {
  let b = Buffer.from(b64url, 'base64url');
  while (b.length > 1 && b[0] === 0) b = b.subarray(1);
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return sshString(b);
}

/** MD5 fingerprint of an OpenSSH public key blob, colon-separated (as Nova prints it). */
export function sshFingerprint(blob: Buffer): string {
  return createHash('md5').update(blob).digest('hex').match(/../g)!.join(':');
}

/** Generate an RSA-2048 key pair as Nova does: OpenSSH public key, PEM (PKCS#1) private key. */
export async function generateSshKeyPair(comment = 'Generated-by-Nova') {
  const { publicKey, privateKey } = await genKeyPair('rsa', { modulusLength: 2048, publicExponent: 65537 });
  const jwk = publicKey.export({ format: 'jwk' });
  const blob = Buffer.concat([sshString(Buffer.from('ssh-rsa')), mpint(jwk.e!), mpint(jwk.n!)]);
  return {
    publicKey: `ssh-rsa ${blob.toString('base64')} ${comment}\n`,
    privateKey: privateKey.export({ format: 'pem', type: 'pkcs1' }).toString(),
    fingerprint: sshFingerprint(blob),
  };
}

const SSH_TYPES = new Set([
  'ssh-rsa',
  'ssh-dss',
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'sk-ssh-ed25519@openssh.com',
  'sk-ecdsa-sha2-nistp256@openssh.com',
]);

const invalid = (why = 'failed to generate fingerprint') =>
  new ApiError(400, `Keypair data is invalid: ${why}`, 'badRequest');

/** Validate an imported key and compute its fingerprint (ssh: MD5 of the blob; x509: SHA-1 of the DER). */
export function fingerprintOf(type: 'ssh' | 'x509', publicKey: string): string {
  if (type === 'x509') {
    try {
      const cert = new X509Certificate(publicKey);
      return createHash('sha1').update(cert.raw).digest('hex').match(/../g)!.join(':');
    } catch {
      throw invalid();
    }
  }
  const parts = publicKey.trim().split(/\s+/);
  if (parts.length < 2 || !SSH_TYPES.has(parts[0]!)) throw invalid();
  const blob = Buffer.from(parts[1]!, 'base64');
  if (blob.length < 8 || blob.toString('base64').replace(/=+$/, '') !== parts[1]!.replace(/=+$/, ''))
    throw invalid();
  const n = blob.readUInt32BE(0);
  if (n + 4 > blob.length || blob.subarray(4, 4 + n).toString() !== parts[0]) throw invalid();
  return sshFingerprint(blob);
}
