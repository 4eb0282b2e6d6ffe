/**
 * Nova's default policy rules (nova/policies/*.py, new secure-RBAC defaults), one file per resource as Nova
 * splits them, built from the named check strings of base.ts. All compute rules are project-scoped.
 */
import type { PolicyRule } from '../../../core/auth/policy.js';
import { computeBaseRules } from './base.js';
import { serversPolicies } from './servers.js';
import { serverActionsPolicies } from './server-actions.js';
import { consolesPolicies } from './consoles.js';
import { serverMetadataPolicies } from './server-metadata.js';
import { serverTagsPolicies } from './server-tags.js';
import { instanceActionsPolicies } from './instance-actions.js';
import { interfacesPolicies } from './interfaces.js';
import { volumeAttachmentsPolicies } from './volume-attachments.js';
import { ipsPolicies } from './ips.js';
import { securityGroupsPolicies } from './security-groups.js';
import { serverTopologyPolicies } from './server-topology.js';
import { flavorsPolicies } from './flavors.js';
import { keypairsPolicies } from './keypairs.js';
import { limitsPolicies } from './limits.js';
import { quotasPolicies } from './quotas.js';
import { availabilityZonesPolicies } from './availability-zones.js';
import { hypervisorsPolicies } from './hypervisors.js';
import { servicesPolicies } from './services.js';
import { aggregatesPolicies } from './aggregates.js';
import { serverGroupsPolicies } from './server-groups.js';
import { simpleTenantUsagePolicies } from './simple-tenant-usage.js';
import { migrationsPolicies } from './migrations.js';
import { extensionsPolicies } from './extensions.js';

export { computeBaseRules } from './base.js';

export const computePolicies: PolicyRule[] = [
  ...computeBaseRules,
  ...serversPolicies,
  ...serverActionsPolicies,
  ...consolesPolicies,
  ...serverMetadataPolicies,
  ...serverTagsPolicies,
  ...instanceActionsPolicies,
  ...interfacesPolicies,
  ...volumeAttachmentsPolicies,
  ...ipsPolicies,
  ...securityGroupsPolicies,
  ...serverTopologyPolicies,
  ...flavorsPolicies,
  ...keypairsPolicies,
  ...limitsPolicies,
  ...quotasPolicies,
  ...availabilityZonesPolicies,
  ...hypervisorsPolicies,
  ...servicesPolicies,
  ...aggregatesPolicies,
  ...serverGroupsPolicies,
  ...simpleTenantUsagePolicies,
  ...migrationsPolicies,
  ...extensionsPolicies,
];
