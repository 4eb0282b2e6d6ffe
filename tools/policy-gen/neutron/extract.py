#!/usr/bin/env python3
"""Extract Neutron's default policy rules for the resources Stackbox implements.

Usage: python3 tools/policy-gen/neutron/extract.py <neutron checkout> > tools/policy-gen/neutron/rules.json

Reads neutron/conf/policies/<module>.py from the checkout (at the commit the README names) without installing
Neutron: oslo.policy, oslo.log and neutron-lib's policy helpers are stubbed below with the few names those
modules use (neutron-lib's check-string constants are copied from neutron_lib/policy/rules.py). Writes JSON:
the source commit, the named check-string constants (neutron-lib's and base.py's, for generate.ts to name
them back) and every rule as upstream has it (name, check string, scope types, description, operations),
with the module it comes from. generate.ts turns that into src/services/network/policies/*.ts.
"""
import importlib
import json
import os
import subprocess
import sys
import types

# The policy modules, in the order the rules are registered (Neutron's neutron/conf/policies/__init__.py order,
# restricted to what this service implements).
MODULES = ['base', 'network', 'subnet', 'port', 'router', 'floatingip', 'security_group', 'rbac',
           'quotas', 'network_ip_availability', 'availability_zone']

# neutron_lib/policy/rules.py
LIB_RULES = {}
LIB_RULES['SERVICE'] = 'rule:service_api'
LIB_RULES['ADMIN'] = 'rule:admin_only'
LIB_RULES['PROJECT_MANAGER'] = 'role:manager and project_id:%(project_id)s'
LIB_RULES['PROJECT_MEMBER'] = 'role:member and project_id:%(project_id)s'
LIB_RULES['PROJECT_READER'] = 'role:reader and project_id:%(project_id)s'
for k in ['SERVICE', 'PROJECT_MANAGER', 'PROJECT_MEMBER', 'PROJECT_READER']:
    LIB_RULES['ADMIN_OR_' + k] = '(' + LIB_RULES['ADMIN'] + ') or (' + LIB_RULES[k] + ')'
LIB_RULES['RULE_PARENT_OWNER'] = 'rule:ext_parent_owner'
for k in ['MANAGER', 'MEMBER', 'READER']:
    LIB_RULES['PARENT_OWNER_' + k] = 'role:%s and ' % k.lower() + LIB_RULES['RULE_PARENT_OWNER']
    LIB_RULES['ADMIN_OR_PARENT_OWNER_' + k] = (
        '(' + LIB_RULES['ADMIN'] + ') or (' + LIB_RULES['PARENT_OWNER_' + k] + ')')

# neutron_lib/policy/__init__.py
LIB_POLICY = {
    'RULE_ADMIN_OR_OWNER': 'rule:admin_or_owner',
    'RULE_ADMIN_ONLY': 'rule:admin_only',
    'RULE_ANY': 'rule:regular_user',
    'RULE_ADVSVC': 'rule:context_is_advsvc',
    'RULE_SERVICE_ROLE': 'rule:service_api',
    'RULE_ADMIN_OR_NET_OWNER': 'rule:admin_or_network_owner',
    'RULE_ADMIN_OR_PARENT_OWNER': 'rule:admin_or_ext_parent_owner',
}


def stub(name, **attrs):
    m = types.ModuleType(name)
    m.__dict__.update(attrs)
    sys.modules[name] = m
    return m


class RuleDefault:
    def __init__(self, name, check_str, description=None, operations=None, scope_types=None, **_):
        self.name, self.check_str, self.description = name, check_str, description
        self.operations, self.scope_types = operations or [], scope_types or []


class DeprecatedRule:
    def __init__(self, *a, **k):
        pass


class Versions:
    def __getattr__(self, name):
        return name


def install_stubs(neutron_dir):
    stub('oslo_policy')
    sys.modules['oslo_policy'].policy = stub(
        'oslo_policy.policy', RuleDefault=RuleDefault, DocumentedRuleDefault=RuleDefault,
        DeprecatedRule=DeprecatedRule, Operation=dict)
    stub('oslo_log')
    sys.modules['oslo_log'].versionutils = stub('oslo_log.versionutils', deprecated=Versions())
    lib = stub('neutron_lib')
    pol = stub('neutron_lib.policy', policy_and=lambda *a: ' and '.join(a),
               policy_or=lambda *a: ' or '.join(a), **LIB_POLICY)
    pol.rules = stub('neutron_lib.policy.rules', **LIB_RULES)
    lib.policy = pol
    # The policy modules without neutron/__init__.py and neutron/conf/__init__.py (they import the world).
    for pkg, path in [('neutron', ''), ('neutron.conf', 'conf'), ('neutron.conf.policies', 'conf/policies')]:
        m = stub(pkg)
        m.__path__ = [os.path.join(neutron_dir, 'neutron', path)]


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    neutron_dir = os.path.abspath(sys.argv[1])
    install_stubs(neutron_dir)
    rules = []
    for name in MODULES:
        mod = importlib.import_module('neutron.conf.policies.' + name)
        for r in mod.list_rules():
            rules.append({'module': name, 'name': r.name, 'check': r.check_str, 'scopeTypes': r.scope_types,
                          'description': ' '.join((r.description or '').split()),
                          'operations': [{'method': o['method'], 'path': o['path']} for o in r.operations]})
    base = importlib.import_module('neutron.conf.policies.base')
    constants = {**LIB_RULES, **LIB_POLICY}
    for k, val in vars(base).items():
        if k.isupper() and isinstance(val, str):
            constants[k] = val
    commit = subprocess.run(['git', '-C', neutron_dir, 'rev-parse', 'HEAD'], capture_output=True,
                            text=True).stdout.strip()
    json.dump({'source': {'repository': 'https://opendev.org/openstack/neutron', 'commit': commit},
               'constants': constants, 'rules': rules}, sys.stdout, indent=1)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
