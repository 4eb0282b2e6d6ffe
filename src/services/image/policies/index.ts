/** Glance's default policy rules, as data (glance/policies/*.py). */
import type { PolicyRule } from '../../../core/auth/policy.js';
import { basePolicies } from './base.js';
import { discoveryRules } from './discovery.js';
import { imageRules } from './images.js';
import { memberRules } from './members.js';

export const imagePolicies: PolicyRule[] = [
  ...basePolicies,
  ...imageRules,
  ...memberRules,
  ...discoveryRules,
];
