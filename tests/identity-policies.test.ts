/**
 * Identity's policies are generated (tools/policy-gen/keystone): the generated files are the committed ones,
 * and the rules are exactly those the hand-kept policies.ts had before the split (names, check strings,
 * scope types, descriptions, operations), kept as tests/fixtures/identity-policies.snapshot.json.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { identityBaseRules, identityPolicies } from '../src/services/identity/policies/index.js';
import { generate } from '../tools/policy-gen/keystone/generate.js';

const snapshot = JSON.parse(
  readFileSync(new URL('./fixtures/identity-policies.snapshot.json', import.meta.url), 'utf8'),
) as { identityBaseRules: unknown[]; identityPolicies: unknown[] };

describe('identity policies', () => {
  it('are the rules policies.ts had, in the same order', () => {
    expect(identityBaseRules).toStrictEqual(snapshot.identityBaseRules);
    expect(identityPolicies).toStrictEqual(snapshot.identityPolicies);
  });

  it('re-running the generator reproduces the committed files', async () => {
    const files = await generate();
    expect(files.size).toBeGreaterThan(2);
    for (const [path, content] of files) expect(readFileSync(path, 'utf8'), path).toBe(content);
  });
});
