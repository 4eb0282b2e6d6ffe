import { describe, expect, it } from 'vitest';
import { PolicyEngine, parseCheck } from '../src/core/auth/policy.js';
import { identityBaseRules, identityPolicies } from '../src/services/identity/policies/index.js';
import { startTestCloud } from './support/cloud.js';

const creds = (o: Record<string, unknown>) =>
  ({
    user_id: 'u1',
    project_id: null,
    domain_id: null,
    system_scope: null,
    roles: [] as string[],
    ...o,
  }) as never;

describe('policy engine (oslo.policy semantics)', () => {
  const engine = new PolicyEngine([
    { name: 'admin_required', check: 'role:admin or is_admin:1' },
    { name: 'a', check: 'rule:admin_required or (role:reader and project_id:%(target.project.id)s)' },
    { name: 'sys', check: 'role:reader and system_scope:all', scopeTypes: ['system'] },
    { name: 'lit', check: "None:%(target.role.domain_id)s or 'manager':%(target.role.name)s" },
    { name: 'notdom', check: 'role:reader and not domain_id:None' },
    { name: 'always', check: '' },
    { name: 'never', check: '!' },
  ]);

  it('parses every Keystone default rule', () => {
    for (const r of [...identityBaseRules, ...identityPolicies])
      expect(() => parseCheck(r.check), r.name).not.toThrow();
  });
  it('evaluates roles, rules and target substitution', () => {
    expect(
      engine.check(
        'a',
        { target: { project: { id: 'p1' } } },
        creds({ roles: ['reader'], project_id: 'p1' }),
      ),
    ).toBe(true);
    expect(
      engine.check(
        'a',
        { target: { project: { id: 'p2' } } },
        creds({ roles: ['reader'], project_id: 'p1' }),
      ),
    ).toBe(false);
    expect(
      engine.check('a', { target: { project: { id: 'p2' } } }, creds({ roles: ['admin'], project_id: 'p1' })),
    ).toBe(true);
    // a missing target key fails the check (KeyError in oslo.policy)
    expect(engine.check('a', {}, creds({ roles: ['reader'], project_id: 'p1' }))).toBe(false);
  });
  it('enforces scope types', () => {
    expect(engine.check('sys', {}, creds({ roles: ['reader'], system_scope: 'all' }))).toBe(true);
    expect(engine.check('sys', {}, creds({ roles: ['reader'], project_id: 'p1' }))).toBe(false);
  });
  it('handles Python literals and None like oslo.policy', () => {
    expect(engine.check('lit', { target: { role: { domain_id: null, name: 'x' } } }, creds({}))).toBe(true);
    expect(engine.check('lit', { target: { role: { domain_id: 'd', name: 'manager' } } }, creds({}))).toBe(
      true,
    );
    expect(engine.check('lit', { target: { role: { domain_id: 'd', name: 'x' } } }, creds({}))).toBe(false);
    expect(engine.check('notdom', {}, creds({ roles: ['reader'], domain_id: 'd1' }))).toBe(true);
    expect(engine.check('notdom', {}, creds({ roles: ['reader'], project_id: 'p' }))).toBe(false);
  });
  it('empty check allows, ! denies, unknown rule denies', () => {
    expect(engine.check('always', {}, creds({}))).toBe(true);
    expect(engine.check('never', {}, creds({ roles: ['admin'] }))).toBe(false);
    expect(engine.check('nope', {}, creds({ roles: ['admin'] }))).toBe(false);
  });
});

describe('every route names a policy rule that exists', () => {
  it('all mounted services', async () => {
    const cloud = await startTestCloud();
    try {
      const table = cloud.server.app.routeTable;
      expect(table.length).toBeGreaterThan(50);
      const bad = table
        .filter((r) => !r.public && !(r.policy && cloud.server.policy.has(r.policy)))
        .map((r) => `${String(r.method)} ${r.url} (${r.policy ?? 'no rule'})`);
      expect(bad).toEqual([]);
    } finally {
      await cloud.close();
    }
  });
});
