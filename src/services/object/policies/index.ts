/** The object store's default rules, as data. */
import type { PolicyRule } from '../../../core/auth/policy.js';
import { accountRules } from './account.js';
import { baseRules } from './base.js';
import { containerRules } from './container.js';
import { objectRules } from './object.js';

export const objectPolicies: PolicyRule[] = [
  ...baseRules,
  ...accountRules,
  ...containerRules,
  ...objectRules,
];
