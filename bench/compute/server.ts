/**
 * The server side of the compute benchmark: `stackbox up` assembled with a fake host big enough for
 * 10,000 servers (no fake state file, so the hypervisor is in memory only). Prints its URL on stdout.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../src/core/config.js';
import { createLogger } from '../../src/core/log.js';
import { createServer, defaultServices } from '../../src/server.js';
import { computeService } from '../../src/services/compute/index.js';

const dataDir = process.argv[2] ?? mkdtempSync(join(tmpdir(), 'stackbox-bench-compute-'));
const config = loadConfig(
  {
    dataDir,
    host: '127.0.0.1',
    port: 0,
    adminPassword: 'bench-admin-password',
    cloudsYaml: false,
    bcryptRounds: 4,
  },
  {},
);
const compute = computeService({
  fake: {
    hostname: 'bench-host',
    vcpus: 4096,
    memoryMb: 16 * 1024 * 1024,
    localGb: 1_000_000,
    stateFile: undefined,
  },
  compute: { cpuAllocationRatio: 16 },
});
const server = await createServer(config, createLogger('warn'), {
  services: [...defaultServices().filter((s) => s.type !== 'compute'), compute],
});
const addr = await server.listen();
console.log(`URL ${addr}`);
process.on('SIGTERM', () => void server.close().then(() => process.exit(0)));
