import { describe, expect, it } from 'vitest';
import { parseCheck } from '../../src/core/auth/policy.js';
import { computePolicies } from '../../src/services/compute/policies/index.js';

/** The rule names and check strings policy files depend on (Nova's defaults), unchanged by the split. */
const EXPECTED: Record<string, string> = {
  context_is_admin: 'role:admin',
  project_reader_or_admin: 'rule:project_reader_api or rule:context_is_admin',
  'os_compute_api:servers:index': 'rule:project_reader_or_admin',
  'os_compute_api:servers:create': 'rule:project_member_or_admin',
  'os_compute_api:servers:create:forced_host': 'rule:context_is_admin',
  'compute:servers:create:requested_destination': 'rule:context_is_admin',
  'os_compute_api:os-keypairs:create': '(rule:context_is_admin) or user_id:%(user_id)s',
  'os_compute_api:flavors': '@',
  'os_compute_api:os-quota-sets:defaults': '@',
  'os_compute_api:os-shelve:shelve_offload': 'rule:context_is_admin',
  'os_compute_api:os-server-groups:index:all_projects': 'rule:context_is_admin',
  'os_compute_api:extensions': '@',
};

describe('compute policies', () => {
  it('keeps the rule names and check strings', () => {
    const byName = new Map(computePolicies.map((r) => [r.name, r]));
    for (const [name, check] of Object.entries(EXPECTED)) expect(byName.get(name)?.check, name).toBe(check);
    expect(computePolicies.length).toBe(138);
    expect(byName.size).toBe(computePolicies.length);
  });
  it('parses every rule and scopes the API rules to projects', () => {
    for (const r of computePolicies) {
      expect(() => parseCheck(r.check), r.name).not.toThrow();
      if (r.name.includes(':')) expect(r.scopeTypes, r.name).toEqual(['project']);
    }
  });
});
