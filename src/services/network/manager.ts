/**
 * The network manager: Neutron's plugin logic (ML2 + L3 + security groups + quotas + RBAC) over the store,
 * one file per resource under resources/. Routes parse and call it; it validates, enforces Neutron's policies
 * (404 when the caller may not see a resource, 403 when it may see but not change it), runs the store in
 * transactions and tells the wiring layer what changed. The shared part is resources/base.ts.
 */
import type { PolicyEngine } from '../../core/auth/policy.js';
import { Addresses } from './resources/addresses.js';
import { NetworkCore, type ChangeSink } from './resources/base.js';
import { FloatingIps } from './resources/floatingips.js';
import { IpAvailability } from './resources/ip-availability.js';
import { Networks } from './resources/networks.js';
import { Ports } from './resources/ports.js';
import { Quotas } from './resources/quotas.js';
import { RbacPolicies } from './resources/rbac.js';
import { Routers } from './resources/routers.js';
import { SecurityGroupRules } from './resources/security-group-rules.js';
import { SecurityGroups } from './resources/security-groups.js';
import { Subnets } from './resources/subnets.js';
import { Tags } from './resources/tags.js';
import type { NetworkStore } from './store.js';

export class NetworkManager extends NetworkCore {
  readonly networks = new Networks(this);
  readonly subnets = new Subnets(this);
  readonly ports = new Ports(this);
  readonly routers = new Routers(this);
  readonly floatingIps = new FloatingIps(this);
  readonly securityGroups = new SecurityGroups(this);
  readonly securityGroupRules = new SecurityGroupRules(this);
  readonly rbac = new RbacPolicies(this);
  readonly tags = new Tags(this);
  readonly quotas = new Quotas(this);
  readonly ipAvailability = new IpAvailability(this);
  readonly addresses = new Addresses(this);

  constructor(store: NetworkStore, policy: PolicyEngine, changes: ChangeSink, policyRuleNames: string[]) {
    super(store, policy, changes, policyRuleNames);
    for (const r of [
      this.networks,
      this.subnets,
      this.ports,
      this.routers,
      this.floatingIps,
      this.securityGroups,
      this.securityGroupRules,
      this.rbac,
    ])
      this.kinds.set(r.def.kind, r);
  }
}
