/** The `stackbox` command: up, image build-test, token rotate, explain. */
import { chmodSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Command } from 'commander';
import YAML from 'yaml';
import { DEFAULT_PORT, loadConfig, type Config, type ConfigInput } from './core/config.js';
import { createLogger } from './core/log.js';
import { runExplain, type ExplainOptions } from './cli/explain.js';
import { createServer } from './server.js';
import { linuxNetworkDriverFor } from './agent/network/select.js';
import { keyRepositoryFor } from './services/identity/index.js';
import { buildTestImage, registerTestImage, TEST_IMAGE_NAME } from './test-image.js';

/** Add or replace the `stackbox` cloud in a clouds.yaml, keeping every other cloud in it. */
export function writeCloudsYaml(file: string, config: Config, password: string): void {
  let doc: { clouds?: Record<string, unknown> } = {};
  if (existsSync(file)) {
    try {
      doc = (YAML.parse(readFileSync(file, 'utf8')) as typeof doc) ?? {};
    } catch {
      doc = {};
    }
  }
  doc.clouds ??= {};
  doc.clouds.stackbox = {
    auth: {
      auth_url: `${config.publicUrl}/identity/v3`,
      username: 'admin',
      password,
      project_name: 'admin',
      user_domain_name: 'Default',
      project_domain_name: 'Default',
    },
    region_name: config.region,
    interface: 'public',
    identity_api_version: 3,
  };
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, YAML.stringify(doc), { mode: 0o600 });
  chmodSync(file, 0o600);
}

const program = new Command();
program.name('stackbox').description('An OpenStack-compatible private cloud in one command');

interface UpOptions extends ConfigInput {
  cloudsYaml?: string | false;
}

program
  .command('up')
  .description('start the cloud (everything in one process, SQLite under the data directory by default)')
  .option('--host <host>', 'address to listen on', undefined)
  .option('--port <port>', `port to listen on (default ${DEFAULT_PORT})`)
  .option('--data-dir <dir>', 'data directory (default ~/.stackbox)')
  .option('--database-url <url>', 'sqlite:<path> or postgres://user:pass@host/db')
  .option('--public-url <url>', 'base URL clients use (default http://<host>:<port>)')
  .option(
    '--admin-password <password>',
    'admin password (or STACKBOX_ADMIN_PASSWORD); generated on first start otherwise',
  )
  .option('--policy-file <file>', 'YAML/JSON file of policy rule overrides')
  .option(
    '--clouds-yaml <file>',
    'clouds.yaml to write the `stackbox` entry to (default $OS_CLIENT_CONFIG_FILE or ~/.config/openstack/clouds.yaml)',
  )
  .option('--no-clouds-yaml', 'do not write a clouds.yaml entry')
  .option('--log-level <level>', 'trace, debug, info, warn, error')
  .option('--log-format <format>', 'pretty (default on a terminal) or json (default otherwise)')
  .option('--compute-driver <name>', 'auto (qemu where it can run, else fake), qemu or fake')
  .option('--network-driver <name>', 'auto (linux where it can run, else fake), linux or fake')
  .option('--volume-driver <name>', 'auto (qcow2 files where qemu-img runs, else fake), file or fake')
  .option(
    '--physical-networks <map>',
    'physical networks on this host: name:bridge[@namespace],... (or STACKBOX_PHYSICAL_NETWORKS)',
  )
  .option(
    '--public-network <cidr>',
    'CIDR of the default external network `public`, gateway on the host bridge br-stackbox (default 172.24.4.0/24)',
  )
  .option('--no-public-network', 'do not create the default external network `public`')
  .option('--no-test-image', 'do not register the cached test guest image as `stackbox-test`')
  .action(async (opts: UpOptions) => {
    const config = loadConfig(opts);
    const log = createLogger(config.logLevel, config.logFormat);
    mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
    const pwFile = join(config.dataDir, 'admin-password');
    const server = await createServer(config, log);
    const generated = server.bootstrap.generatedPassword;
    if (generated || config.adminPassword)
      writeFileSync(pwFile, `${generated ?? config.adminPassword}\n`, { mode: 0o600 });
    const password =
      generated ??
      config.adminPassword ??
      (existsSync(pwFile) ? readFileSync(pwFile, 'utf8').trim() : undefined);
    await server.listen();
    if (config.cloudsYaml && password) writeCloudsYaml(config.cloudsYaml, config, password);
    let testImageId: string | undefined;
    if (config.registerTestImage && password) {
      testImageId = await registerTestImage(server, password, config.cacheDir).catch((err: unknown) => {
        log.warn({ err }, 'test image not registered');
        return undefined;
      });
    }
    const out = process.stdout;
    out.write(
      `Stackbox is up at ${config.publicUrl} (data: ${config.dataDir}, database: ${server.db.dialect})\n`,
    );
    if (server.bootstrap.generatedPassword) {
      out.write(
        `Admin password (generated, shown once, kept in ${pwFile}): ${server.bootstrap.generatedPassword}\n`,
      );
    }
    if (config.cloudsYaml && password) out.write(`Wrote cloud "stackbox" to ${config.cloudsYaml}\n`);
    const netDriver = server.ctx.services.network?.driver?.name;
    if (netDriver === 'linux' && config.publicNetwork && !config.physicalNetworks.public)
      out.write(
        `External network "public" is ${config.publicNetwork.cidr} on the host bridge ${config.publicNetwork.bridge}: floating IPs answer from this host\n`,
      );
    if (testImageId) out.write(`Test image "${TEST_IMAGE_NAME}" is ${testImageId}\n`);
    else
      out.write('No test image yet: `stackbox image build-test` builds one (then restart, or upload it)\n');
    out.write('export OS_CLOUD=stackbox\n');
    let stopping = false;
    const stop = async (signal: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'shutting down');
      const timer = setTimeout(() => process.exit(1), 10_000);
      timer.unref();
      await server.close();
      log.flush?.();
      process.exit(0);
    };
    process.on('SIGINT', () => void stop('SIGINT'));
    process.on('SIGTERM', () => void stop('SIGTERM'));
  });

const image = program.command('image').description('images');
image
  .command('build-test')
  .description(
    'build the small test guest image from Debian packages (root; cached in $STACKBOX_CACHE/images)',
  )
  .action(async () => {
    const config = loadConfig({});
    const path = await buildTestImage(config.cacheDir);
    process.stdout.write(`${path}\n`);
  });

const token = program.command('token').description('token key management');
token
  .command('rotate')
  .description('rotate the Fernet-style token keys (staged → primary, new staged, oldest dropped)')
  .option('--data-dir <dir>', 'data directory (default ~/.stackbox)')
  .action((opts: ConfigInput) => {
    const config = loadConfig(opts);
    const keys = keyRepositoryFor(config);
    keys.initialize();
    const r = keys.rotate();
    process.stdout.write(
      `Rotated token keys: primary is now key ${r.primary}${r.removed.length ? `, removed ${r.removed.join(', ')}` : ''}. ` +
        'Restart running servers (or wait for them to reload) to pick it up.\n',
    );
  });

program
  .command('purge')
  .description(
    "remove what this installation made on the host — its VMs' QEMU processes, network namespaces, dnsmasq, the external bridge — keeping the database (stop `stackbox up` first)",
  )
  .option('--data-dir <dir>', 'data directory (default ~/.stackbox)')
  .action(async (opts: ConfigInput) => {
    const config = loadConfig(opts);
    const instances = join(config.dataDir, 'instances');
    let vms = 0;
    for (const d of existsSync(instances) ? readdirSync(instances) : []) {
      const pidFile = join(instances, d, 'pid');
      if (!existsSync(pidFile)) continue;
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGKILL');
        vms++;
      } catch {
        // not running
      }
    }
    if (process.getuid?.() === 0) await linuxNetworkDriverFor(config).destroyAll();
    process.stdout.write(
      `Stopped ${vms} VM process(es) and removed the network state of ${config.dataDir}\n`,
    );
  });

program
  .command('explain')
  .description(
    'why a flow does or does not reach a VM: walk it through ports, floating IPs, routers and security groups (authenticates like the openstack CLI: OS_CLOUD or OS_AUTH_URL, …; exit 0 allowed, 1 dropped, 2 error, 3 unknown)',
  )
  .requiredOption('--from <end>', 'external, external:<ip>, server:<name|id>, port:<id> or ip:<address>')
  .requiredOption('--to <end>', 'server:<name|id>, port:<id>, ip:<address>, external or external:<ip>')
  .option('--protocol <protocol>', 'icmp, tcp, udp or any (default: tcp with --port, else any)')
  .option('--port <port>', 'destination port (tcp, udp) or ICMP type (icmp; default echo request)')
  .option('--from-network <network>', 'the source port on this network (name or id)')
  .option('--to-network <network>', 'the destination port on this network (name or id)')
  .option('--os-cloud <name>', 'cloud in clouds.yaml (default $OS_CLOUD)')
  .option('--json', 'print the API document as it is')
  .action(async (opts: ExplainOptions) => {
    process.exitCode = await runExplain(opts, process.env);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`stackbox: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
