/**
 * Neutron's policies as rules (src/services/network/policies/*.ts): the same rules as before they were split
 * (tests/network/fixtures/neutron-policies.json is the array the single generated file had), and the
 * generator (tools/policy-gen/neutron/generate.ts) reproduces the committed files from rules.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { networkPolicies } from '../../src/services/network/policies/index.js';
import { OUT_DIR, generate, readRules } from '../../tools/policy-gen/neutron/generate.js';

const before = JSON.parse(
  readFileSync(join(import.meta.dirname, 'fixtures', 'neutron-policies.json'), 'utf8'),
) as unknown[];

describe('network policies', () => {
  it('are the rules they were, element by element', () => {
    expect(networkPolicies.length).toBe(before.length);
    networkPolicies.forEach((r, i) => expect(JSON.parse(JSON.stringify(r))).toEqual(before[i]));
  });

  it('name each rule once, and keep known rules', () => {
    const names = networkPolicies.map((r) => r.name);
    expect(new Set(names).size).toBe(names.length);
    const byName = new Map(networkPolicies.map((r) => [r.name, r]));
    expect(byName.get('get_network')?.check).toBe(
      '(rule:admin_only) or (role:reader and project_id:%(project_id)s) or rule:service_api or rule:shared or rule:external or rule:context_is_advsvc',
    );
    expect(byName.get('create_port:binding:host_id')?.check).toBe('(rule:admin_only) or (rule:service_api)');
    expect(byName.get('neutron:owner')?.check).toBe('project_id:%(project_id)s');
    expect(byName.get('network_device')?.check).toBe("'True':%(device_owner:is_network)s");
    expect(byName.get('delete_network')?.operations).toEqual([
      { method: 'DELETE', path: '/v2.0/networks/{id}' },
    ]);
    expect(byName.get('get_quota')?.scopeTypes).toEqual(['project']);
  });

  it('are what the generator writes from rules.json', async () => {
    const files = await generate(readRules());
    for (const [name, text] of files) expect(readFileSync(join(OUT_DIR, name), 'utf8'), name).toBe(text);
  });
});
