/**
 * Which network driver the in-process agent runs: `linux` (namespaces, bridges, nftables, dnsmasq) wherever
 * it can work — root, with iproute2, nftables, dnsmasq and conntrack, and network namespaces that can be
 * created — else `fake`, saying why. `--network-driver` forces one.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import type { Config } from '../../core/config.js';
import { metadataSecret, signProxyRequest } from '../../core/metadata-secret.js';
import type { NetworkDriver } from './driver.js';
import { LinuxNetworkDriver, type PhysicalNetwork } from './linux/driver.js';
import { nsPrefix } from './linux/names.js';

const onPath = (cmd: string) =>
  spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;

/** Undefined when the Linux network driver can run here, else the reason it cannot. */
export function linuxNetworkUnavailable(): string | undefined {
  if (process.platform !== 'linux') return 'it needs Linux';
  if (process.getuid?.() !== 0) return 'it needs root (network namespaces)';
  for (const [cmd, pkg] of [
    ['ip', 'iproute2'],
    ['nft', 'nftables'],
    ['dnsmasq', 'dnsmasq-base'],
    ['conntrack', 'conntrack'],
  ])
    if (!onPath(cmd)) return `${cmd} is not installed (Debian: ${pkg})`;
  const probe = `sbx-probe-${process.pid}`;
  const r = spawnSync('ip', ['netns', 'add', probe], { encoding: 'utf8' });
  if (r.status !== 0) return `network namespaces cannot be created: ${(r.stderr || '').trim()}`;
  spawnSync('ip', ['netns', 'del', probe]);
  return undefined;
}

/** Physical networks of the host: the configured ones, plus `public` on Stackbox's own bridge. */
export function physicalNetworksOf(config: Config): Record<string, PhysicalNetwork> {
  const out: Record<string, PhysicalNetwork> = { ...config.physicalNetworks };
  const pub = config.publicNetwork;
  if (pub && !out.public) {
    const [net, len] = pub.cidr.split('/');
    const o = net!.split('.').map(Number);
    o[3]! += 1;
    out.public = { bridge: pub.bridge, address: `${o.join('.')}/${len}` };
  }
  return out;
}

export function linuxNetworkDriverFor(config: Config, log?: LinuxLog): LinuxNetworkDriver {
  const secret = metadataSecret(config.dataDir);
  return new LinuxNetworkDriver({
    stateDir: join(config.dataDir, 'network'),
    prefix: nsPrefix(config.dataDir),
    physicalNetworks: physicalNetworksOf(config),
    metadata: {
      url: `${config.publicUrl}/metadata`,
      sign: (networkId, ip) => signProxyRequest(secret, networkId, ip),
    },
    log,
  });
}

type LinuxLog = { info(o: unknown, m?: string): void; warn(o: unknown, m?: string): void };

export async function selectNetworkDriver(
  config: Config,
  log: LinuxLog,
): Promise<{ driver?: NetworkDriver; reason: string }> {
  if (config.networkDriver === 'fake') return { reason: 'the fake network driver was asked for' };
  const why = linuxNetworkUnavailable();
  if (why) {
    if (config.networkDriver === 'linux') throw new Error(`--network-driver linux cannot run here: ${why}`);
    return {
      reason: `using the fake network driver: the Linux network driver cannot run here because ${why}`,
    };
  }
  const driver = linuxNetworkDriverFor(config, log);
  await driver.init();
  return { driver, reason: 'Linux network driver (namespaces, bridges, nftables, dnsmasq)' };
}
