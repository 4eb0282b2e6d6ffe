/** Every block-storage policy rule, Cinder's names and defaults (an oslo.policy file for Cinder applies). */
import type { PolicyRule } from '../../../core/auth/policy.js';
import { attachmentPolicies } from './attachments.js';
import { baseRules } from './base.js';
import { quotaPolicies } from './quotas.js';
import { servicePolicies } from './services.js';
import { snapshotPolicies } from './snapshots.js';
import { transferPolicies } from './transfers.js';
import { typePolicies } from './types.js';
import { volumeActionPolicies } from './volume-actions.js';
import { volumePolicies } from './volumes.js';

export { DISCOVERY_RULE } from './base.js';

export const volumeServicePolicies: PolicyRule[] = [
  ...baseRules,
  ...volumePolicies,
  ...volumeActionPolicies,
  ...typePolicies,
  ...snapshotPolicies,
  ...attachmentPolicies,
  ...quotaPolicies,
  ...servicePolicies,
  ...transferPolicies,
];
