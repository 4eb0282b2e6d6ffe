/**
 * Fernet tokens (the Fernet spec: version 0x80, timestamp, IV, AES-128-CBC ciphertext, HMAC-SHA256),
 * with a Keystone-style key repository: files named 0..N in a directory, 0 is the staged key, the
 * highest number is the primary (used to encrypt), the rest are secondaries (still decrypt).
 */
import { createCipheriv, createDecipheriv, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  chmodSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

export class KeyRepository {
  private keys: { index: number; signing: Buffer; encryption: Buffer }[] = [];

  constructor(
    private readonly dir: string,
    private readonly maxActiveKeys = 3,
  ) {}

  /** Create the repository with a staged and a primary key when it does not exist. */
  initialize(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    if (this.indexes().length === 0) {
      this.writeKey(0);
      this.rotate();
    }
    this.load();
  }

  private indexes(): number[] {
    return readdirSync(this.dir)
      .filter((f) => /^\d+$/.test(f))
      .map(Number)
      .sort((a, b) => a - b);
  }

  private writeKey(index: number): void {
    const tmp = join(this.dir, `.${index}.tmp`);
    writeFileSync(tmp, randomBytes(32).toString('base64url'), { mode: 0o600 });
    chmodSync(tmp, 0o600);
    renameSync(tmp, join(this.dir, String(index)));
  }

  /** Promote the staged key to primary, stage a new key, drop the oldest secondaries. */
  rotate(): { primary: number; removed: number[] } {
    const idx = this.indexes();
    const next = (idx.length ? Math.max(...idx) : 0) + 1;
    renameSync(join(this.dir, '0'), join(this.dir, String(next)));
    this.writeKey(0);
    const removed: number[] = [];
    const now = this.indexes();
    const excess = now.length - this.maxActiveKeys;
    for (const i of now.filter((i) => i !== 0).slice(0, Math.max(0, excess))) {
      unlinkSync(join(this.dir, String(i)));
      removed.push(i);
    }
    this.load();
    return { primary: next, removed };
  }

  load(): void {
    this.keys = this.indexes()
      .map((index) => {
        const raw = Buffer.from(readFileSync(join(this.dir, String(index)), 'utf8').trim(), 'base64url');
        if (raw.length !== 32) throw new Error(`fernet key ${index} in ${this.dir} is not 32 bytes`);
        return { index, signing: raw.subarray(0, 16), encryption: raw.subarray(16) };
      })
      // primary first, then secondaries (newest first), staged last
      .sort((a, b) => (a.index === 0 ? 1 : b.index === 0 ? -1 : b.index - a.index));
  }

  encrypt(plaintext: Buffer, now = Date.now()): string {
    const key = this.keys[0];
    if (!key) throw new Error('no fernet keys loaded');
    const iv = randomBytes(16);
    const cipher = createCipheriv('aes-128-cbc', key.encryption, iv);
    const ct = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    const header = Buffer.alloc(9);
    header[0] = 0x80;
    header.writeBigUInt64BE(BigInt(Math.floor(now / 1000)), 1);
    const body = Buffer.concat([header, iv, ct]);
    const mac = createHmac('sha256', key.signing).update(body).digest();
    // Keystone strips the base64 padding; base64url has none.
    return Buffer.concat([body, mac]).toString('base64url');
  }

  /** Decrypt with any active key; undefined when no key authenticates the token. */
  decrypt(token: string): Buffer | undefined {
    if (token.length < 100 || token.length > 2048 || !/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
    const raw = Buffer.from(token, 'base64url');
    // Node's decoder ignores trailing bits and junk: the token must be exactly the encoding of its bytes,
    // so no two strings are the same token.
    if (raw.toString('base64url') !== token) return undefined;
    if (raw.length < 9 + 16 + 16 + 32 || raw[0] !== 0x80 || (raw.length - 57) % 16 !== 0) return undefined;
    const body = raw.subarray(0, raw.length - 32);
    const mac = raw.subarray(raw.length - 32);
    for (const key of this.keys) {
      const expect = createHmac('sha256', key.signing).update(body).digest();
      if (!timingSafeEqual(expect, mac)) continue;
      try {
        const decipher = createDecipheriv('aes-128-cbc', key.encryption, raw.subarray(9, 25));
        return Buffer.concat([decipher.update(raw.subarray(25, raw.length - 32)), decipher.final()]);
      } catch {
        return undefined;
      }
    }
    return undefined;
  }

  get count(): number {
    return this.keys.length;
  }
}

export type ScopeKind = 'project' | 'domain' | 'system' | 'unscoped';

/** What a token carries; everything else (roles, names, catalog) is looked up at validation, as Keystone does. */
export interface TokenPayload {
  userId: string;
  methods: string[];
  scope: ScopeKind;
  scopeId?: string;
  expiresAt: number; // ms since epoch
  issuedAt: number; // ms since epoch
  auditIds: string[];
  appCredId?: string;
}

const METHODS = ['password', 'token', 'application_credential', 'totp', 'external', 'oauth1', 'mapped'];
const SCOPES: ScopeKind[] = ['unscoped', 'project', 'domain', 'system'];

export function packPayload(p: TokenPayload): Buffer {
  const methods = p.methods.reduce((m, x) => m | (1 << Math.max(0, METHODS.indexOf(x))), 0);
  const arr = [
    1,
    p.userId,
    methods,
    SCOPES.indexOf(p.scope),
    p.scopeId ?? 0,
    p.expiresAt,
    p.issuedAt,
    p.auditIds,
  ];
  if (p.appCredId) arr.push(p.appCredId);
  return Buffer.from(JSON.stringify(arr));
}

export function unpackPayload(buf: Buffer): TokenPayload | undefined {
  try {
    const a = JSON.parse(buf.toString('utf8')) as unknown[];
    if (!Array.isArray(a) || a[0] !== 1) return undefined;
    const mask = Number(a[2]);
    return {
      userId: String(a[1]),
      methods: METHODS.filter((_, i) => mask & (1 << i)),
      scope: SCOPES[Number(a[3])] ?? 'unscoped',
      scopeId: a[4] ? String(a[4]) : undefined,
      expiresAt: Number(a[5]),
      issuedAt: Number(a[6]),
      auditIds: (a[7] as string[]).map(String),
      appCredId: a[8] ? String(a[8]) : undefined,
    };
  } catch {
    return undefined;
  }
}
