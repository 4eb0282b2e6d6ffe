/** Image policies moved to policies/<resource>.ts: the same rules as before (tests/fixtures/image-policies.snapshot.json). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { PolicyRule } from '../../src/core/auth/policy.js';
import { imagePolicies } from '../../src/services/image/policies/index.js';

const snapshot = JSON.parse(
  readFileSync(new URL('../fixtures/image-policies.snapshot.json', import.meta.url), 'utf8'),
) as PolicyRule[];
const byName = (rules: PolicyRule[]) => [...rules].sort((a, b) => a.name.localeCompare(b.name));

describe('image policies', () => {
  it('are the rules policies.ts had (names, check strings, scope types, descriptions)', () => {
    expect(byName(imagePolicies)).toStrictEqual(byName(snapshot));
  });
});
