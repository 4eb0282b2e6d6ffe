/** Running the host tools the Linux network driver uses (iproute2, nft, dnsmasq, conntrack). */
import { spawn } from 'node:child_process';

export class CommandError extends Error {
  constructor(
    readonly cmd: string,
    readonly code: number | null,
    readonly stderr: string,
  ) {
    super(`${cmd} failed (${code}): ${stderr.trim().split('\n').slice(-3).join(' ')}`);
  }
}

/** Run a command; resolves with stdout, rejects with a CommandError carrying stderr. */
export function run(
  cmd: string,
  args: string[],
  opts: { input?: string; ok?: number[] } = {},
): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('error', (e) => reject(new CommandError(`${cmd} ${args.slice(0, 4).join(' ')}`, null, e.message)));
    p.on('close', (code) => {
      if (code === 0 || (code !== null && opts.ok?.includes(code))) resolve(out);
      else reject(new CommandError(`${cmd} ${args.slice(0, 6).join(' ')}`, code, err || out));
    });
    p.stdin.on('error', () => undefined);
    p.stdin.end(opts.input ?? '');
  });
}

/** `ip` in a namespace (or the root namespace when ns is null). */
export function ip(ns: string | null, ...args: string[]): Promise<string> {
  return run('ip', ns ? ['-n', ns, ...args] : args);
}

/** A command inside a namespace. */
export function inNs(ns: string, cmd: string, args: string[], opts?: { input?: string; ok?: number[] }) {
  return run('ip', ['netns', 'exec', ns, cmd, ...args], opts);
}

/** Like ip() but "not found / already gone" is not an error. */
export async function ipQuiet(ns: string | null, ...args: string[]): Promise<boolean> {
  try {
    await ip(ns, ...args);
    return true;
  } catch {
    return false;
  }
}

export interface Link {
  ifname: string;
  address?: string;
  master?: string;
  operstate?: string;
  flags?: string[];
  mtu?: number;
  link_type?: string;
  addr_info?: { family: string; local: string; prefixlen: number }[];
}

/** Links of a namespace (with addresses); [] when the namespace does not exist. */
export async function links(ns: string | null): Promise<Link[]> {
  try {
    return JSON.parse((await ip(ns, '-j', 'addr', 'show')) || '[]') as Link[];
  } catch {
    return [];
  }
}

export async function namespaces(): Promise<string[]> {
  try {
    const out = JSON.parse((await run('ip', ['-j', 'netns', 'list'])) || '[]') as { name: string }[];
    return out.map((n) => n.name);
  } catch {
    return [];
  }
}

/** Serialise async work per key (a port, a network): one operation at a time, in order. */
export class KeyedMutex {
  private tails = new Map<string, Promise<unknown>>();
  run<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.tails.get(key) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => undefined);
    this.tails.set(key, tail);
    void tail.then(() => {
      if (this.tails.get(key) === tail) this.tails.delete(key);
    });
    return next;
  }
}
