/**
 * `npm run test:unit`: the in-process tests only (fastify.inject against a real database, drivers faked),
 * no `stackbox up` processes, no `openstack` CLI or openstacksdk, no VMs, no namespaces. The full `npm test`
 * (vitest.config.ts) runs everything.
 */
import { defineConfig, mergeConfig } from 'vitest/config';
import base from './vitest.config.js';

export default mergeConfig(
  base,
  defineConfig({
    test: {
      exclude: [
        '**/node_modules/**',
        // real clients against a spawned `stackbox up`
        'tests/*-cli.test.ts',
        'tests/identity-sdk.test.ts',
        // spawn `stackbox up` (or the built CLI) and restart it
        'tests/identity-restart.test.ts',
        'tests/test-image-registration.test.ts',
        'tests/compute/restart.test.ts',
        'tests/network/explain.test.ts',
        // VMs and the Linux data plane
        'tests/agent/*-driver-contract.test.ts', // the same suite against the fake and the real drivers
        'tests/compute-qemu*.test.ts',
        'tests/qemu-*.test.ts',
        'tests/network-dataplane*.test.ts',
        'tests/network/linux-driver*.test.ts',
      ],
      testTimeout: 60_000,
    },
  }),
);
