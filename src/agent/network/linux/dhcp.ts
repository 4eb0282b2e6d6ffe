/** DHCP of a network: one dnsmasq per network namespace, static host entries only (dnsmasq.ts builds them). */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { NetworkSpec, PortSpec } from '../driver.js';
import { dhcpHosts, dhcpOpts, dhcpSubnets, dnsmasqArgs } from './dnsmasq.js';
import { inNs } from './exec.js';
import { pidAlive, writeAtomic } from './state.js';

/** The files of a network's dnsmasq, in the network's state directory `dir`. */
export function dhcpFiles(dir: string) {
  return {
    pidFile: join(dir, 'dnsmasq.pid'),
    hostsFile: join(dir, 'hosts'),
    optsFile: join(dir, 'opts'),
    leaseFile: join(dir, 'leases'),
  };
}

/** The pid of the network's dnsmasq, if it runs. */
export function dhcpPid(dir: string): number | undefined {
  try {
    const pid = Number(readFileSync(dhcpFiles(dir).pidFile, 'utf8').trim());
    if (!(pid > 0 && pidAlive(pid))) return undefined;
    // The pid must still be our dnsmasq (pids are reused).
    const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    return cmd.includes('dnsmasq') && cmd.includes(dhcpFiles(dir).pidFile) ? pid : undefined;
  } catch {
    return undefined;
  }
}

export async function stopDhcp(dir: string): Promise<void> {
  const pid = dhcpPid(dir);
  if (!pid) return;
  process.kill(pid, 'SIGTERM');
  for (let i = 0; i < 50 && pidAlive(pid); i++) await new Promise((r) => setTimeout(r, 20));
  if (pidAlive(pid)) process.kill(pid, 'SIGKILL');
  rmSync(dhcpFiles(dir).pidFile, { force: true });
}

/**
 * Run (or update) the network's dnsmasq in namespace `ns` for these ports: files rewritten only when they
 * change, SIGHUP for new host entries, a restart only when its arguments change.
 */
export async function ensureDhcp(
  spec: NetworkSpec,
  ports: PortSpec[],
  dir: string,
  ns: string,
): Promise<void> {
  const f = dhcpFiles(dir);
  if (!spec.adminStateUp || !spec.dhcpPort || dhcpSubnets(spec).length === 0) {
    await stopDhcp(dir);
    return;
  }
  const hosts = dhcpHosts(spec, ports);
  const opts = dhcpOpts(spec);
  const args = dnsmasqArgs(spec, f);
  const argsFile = join(dir, 'args');
  const changed = (file: string, text: string) => {
    const old = existsSync(file) ? readFileSync(file, 'utf8') : undefined;
    if (old !== text) writeAtomic(file, text);
    return old !== text;
  };
  const filesChanged = [changed(f.hostsFile, hosts), changed(f.optsFile, opts)].some(Boolean);
  const argsChanged = changed(argsFile, args.join('\n'));
  const pid = dhcpPid(dir);
  if (pid && !argsChanged) {
    if (filesChanged) process.kill(pid, 'SIGHUP');
    return;
  }
  if (pid) await stopDhcp(dir);
  if (!existsSync(f.leaseFile)) writeFileSync(f.leaseFile, '');
  // dnsmasq daemonizes: it outlives this process, so a restart of the control plane does not stop DHCP.
  await inNs(ns, 'dnsmasq', args);
}
