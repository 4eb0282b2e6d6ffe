/**
 * The metadata proxy of a network: 169.254.169.254:80 inside the network's namespace, answered by this
 * (agent) process. Node cannot enter a namespace, so a short-lived helper (`ip netns exec <ns> node -e`)
 * opens the listening socket there and hands it over IPC; a socket keeps the namespace it was made in,
 * so one agent process serves every network. Each request is forwarded to the control plane's metadata
 * API with the network and the guest's source address, signed with the shared secret (Neutron's
 * metadata proxy + agent, in one hop); the control plane resolves the instance from them.
 */
import { spawn } from 'node:child_process';
import {
  createServer as httpServer,
  type IncomingMessage,
  type Server as HttpServer,
  type ServerResponse,
} from 'node:http';
import type { Server as NetServer, Socket } from 'node:net';

const HELPER = `
const net = require('node:net');
const s = net.createServer();
s.on('error', (e) => { process.send({ error: e.message }, () => process.exit(1)); });
s.listen({ host: process.argv[1], port: Number(process.argv[2]) }, () => process.send('listening', s, () => process.exit(0)));
`;

/** Open a listening TCP socket inside a namespace and return it here. */
export function listenInNamespace(ns: string, host: string, port: number): Promise<NetServer> {
  return new Promise((resolve, reject) => {
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', HELPER, host, String(port)], {
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let err = '';
    let done = false;
    child.stderr?.on('data', (d: Buffer) => (err += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      finish(new Error(`listening in ${ns} timed out`));
    }, 30_000);
    const finish = (e: Error | null, server?: NetServer) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (e) reject(e);
      else resolve(server!);
    };
    child.on('message', (m: unknown, handle: unknown) => {
      // A socket that arrives after a failure must not stay open here unserved.
      if (handle && done) (handle as NetServer).close();
      else if (handle) finish(null, handle as NetServer);
      else finish(new Error(`listening in ${ns}: ${(m as { error?: string }).error ?? 'failed'}`));
    });
    child.on('error', (e) => finish(e));
    // 'close' (not 'exit'): the helper exits as soon as the socket is sent, and 'exit' can come before
    // the message that carries it; 'close' comes after the IPC channel has been read to its end.
    child.on('close', (code) => finish(new Error(`listen helper for ${ns} exited ${code}: ${err.trim()}`)));
  });
}

export interface MetadataUpstream {
  /** Base URL of the control plane's metadata API, e.g. http://127.0.0.1:8600/metadata */
  url: string;
  /** Signature of (network, source address) with the shared secret. */
  sign(networkId: string, ip: string): string;
}

/** Serve one network's metadata requests from a listening socket of its namespace. */
export class MetadataProxy {
  private http: HttpServer;
  constructor(
    private readonly listener: NetServer,
    readonly networkId: string,
    private readonly upstream: MetadataUpstream,
  ) {
    this.http = httpServer((req, res) => void this.handle(req, res));
    listener.on('connection', (s: Socket) => this.http.emit('connection', s));
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const ip = (req.socket.remoteAddress ?? '').replace(/^::ffff:/, '');
    try {
      const r = await fetch(`${this.upstream.url}${req.url ?? '/'}`, {
        method: req.method === 'HEAD' ? 'HEAD' : req.method === 'GET' ? 'GET' : req.method,
        headers: {
          'X-Forwarded-For': ip,
          'X-Neutron-Network-ID': this.networkId,
          'X-Stackbox-Proxy-Signature': this.upstream.sign(this.networkId, ip),
          ...(req.headers.accept ? { Accept: String(req.headers.accept) } : {}),
        },
        signal: AbortSignal.timeout(10_000),
      });
      const body = Buffer.from(await r.arrayBuffer());
      res.writeHead(r.status, { 'Content-Type': r.headers.get('content-type') ?? 'text/plain' });
      res.end(body);
    } catch {
      res.writeHead(503, { 'Content-Type': 'text/plain' });
      res.end('metadata service unavailable\n');
    }
  }

  close(): void {
    this.listener.close();
    this.http.close();
  }
}
