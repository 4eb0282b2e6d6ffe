/**
 * Named check strings for the object store. Swift has no oslo.policy; these encode keystoneauth's defaults
 * (swift/common/middleware/keystoneauth.py) as rules, so an operator can override them like any other:
 * the operator roles (`admin`, `member`) own their project's account (`AUTH_<project_id>`, read and write,
 * ACLs included), `reader` reads it (keystoneauth's project reader roles), `ResellerAdmin` reaches every
 * account. The target is `{ project_id: <the account's project> }`. Container ACLs (X-Container-Read/Write)
 * grant further access per container; they are data, not policy (see domain/access.ts).
 */
import { rule, type PolicyRule } from '../../../core/auth/policy.js';

export const RESELLER_ADMIN = 'role:ResellerAdmin';
export const PROJECT_OPERATOR =
  '(role:admin and project_id:%(project_id)s) or (role:member and project_id:%(project_id)s)';
export const PROJECT_READER = 'role:reader and project_id:%(project_id)s';
export const OPERATOR = `rule:object-store:reseller_admin or rule:object-store:operator`;
export const READER = `${OPERATOR} or rule:object-store:reader`;

/** Rules Swift's middleware applies to an account, whatever the container. */
export const baseRules: PolicyRule[] = [
  rule('object-store:reseller_admin', RESELLER_ADMIN, 'keystoneauth reseller_admin_role: every account.'),
  rule(
    'object-store:operator',
    PROJECT_OPERATOR,
    "keystoneauth operator_roles: the owner of the project's account (swift_owner: reads, writes, ACLs).",
    { scope: ['project'] },
  ),
  rule(
    'object-store:reader',
    PROJECT_READER,
    "keystoneauth project_reader_roles: reads the project's account.",
    {
      scope: ['project'],
    },
  ),
  rule('object-store:info', '', 'The capabilities document (/info): anyone, as Swift serves it.'),
];
