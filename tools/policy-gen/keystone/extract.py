#!/usr/bin/env python3
"""Extract Keystone's default policy rules from a Keystone checkout into rules.json.

    git clone https://opendev.org/openstack/keystone /tmp/keystone
    git -C /tmp/keystone checkout 30ef2ffa65a3486ef882f00538e20f2253c57d4c
    python3 tools/policy-gen/keystone/extract.py /tmp/keystone > tools/policy-gen/keystone/rules.json
    npx prettier --write tools/policy-gen/keystone/rules.json

No Keystone dependencies are needed: oslo.policy and oslo.log are stubbed, and each module of
keystone/common/policies is loaded from its file. Besides each rule's final check string, the check string's
*expression* is kept (literal text and references to named constants, from the module's syntax tree), so the
generator (generate.ts) can write the TypeScript with the same named constants Keystone uses (base.py's
SYSTEM_READER, ADMIN_OR_SYSTEM_READER, ... and each module's own).

Normalisations, as Stackbox's policies have always had them: an operation whose method is a list is expanded
to one operation a method; paths are stripped (identity:list_projects_for_user has a stray leading space).
"""
import ast
import importlib.util
import json
import subprocess
import sys
import types

# The modules Stackbox serves, in the order of keystone.common.policies.list_rules().
MODULES = [
    'application_credential', 'auth', 'credential', 'domain', 'endpoint', 'grant', 'group', 'implied_role',
    'policy', 'project', 'region', 'role', 'role_assignment', 'service', 'token', 'user',
]


class _Rule:
    def __init__(self, name, check_str, description=None, operations=None, scope_types=None, **_):
        self.name, self.check_str, self.description = name, check_str, description
        self.operations, self.scope_types = operations, scope_types


class _Anything:
    def __getattr__(self, _name):
        return _Anything()


def _stub_modules():
    oslo_policy = types.ModuleType('oslo_policy')
    policy = types.ModuleType('oslo_policy.policy')
    policy.RuleDefault = _Rule
    policy.DocumentedRuleDefault = _Rule
    policy.DeprecatedRule = _Rule
    oslo_policy.policy = policy
    oslo_log = types.ModuleType('oslo_log')
    versionutils = types.ModuleType('oslo_log.versionutils')
    versionutils.deprecated = _Anything()
    oslo_log.versionutils = versionutils
    sys.modules.update({'oslo_policy': oslo_policy, 'oslo_policy.policy': policy, 'oslo_log': oslo_log,
                        'oslo_log.versionutils': versionutils})
    for pkg in ('keystone', 'keystone.common', 'keystone.common.policies'):
        m = types.ModuleType(pkg)
        m.__path__ = []
        sys.modules[pkg] = m


def _load(root, name):
    path = f'{root}/keystone/common/policies/{name}.py'
    spec = importlib.util.spec_from_file_location(f'keystone.common.policies.{name}', path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod
    setattr(sys.modules['keystone.common.policies'], name, mod)
    spec.loader.exec_module(mod)
    with open(path) as f:
        tree = ast.parse(f.read())
    return mod, tree


def _parts(node, mod):
    """A string expression as [literal | {"ref": name}], adjacent literals merged."""
    out = []

    def walk(n):
        if isinstance(n, ast.BinOp) and isinstance(n.op, ast.Add):
            walk(n.left)
            walk(n.right)
        elif isinstance(n, ast.Constant) and isinstance(n.value, str):
            out.append(n.value)
        elif isinstance(n, ast.Name):
            out.append({'ref': n.id})
        elif isinstance(n, ast.Attribute) and isinstance(n.value, ast.Name) and n.value.id == 'base':
            out.append({'ref': 'base.' + n.attr})
        else:
            out.append(eval(compile(ast.Expression(n), '<expr>', 'eval'), vars(mod)))

    walk(node)
    merged = []
    for p in out:
        if isinstance(p, str) and merged and isinstance(merged[-1], str):
            merged[-1] += p
        elif p != '':
            merged.append(p)
    return merged


def _constants(mod, tree):
    out = []
    for n in tree.body:
        if (isinstance(n, ast.Assign) and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)
                and n.targets[0].id.isupper() and isinstance(getattr(mod, n.targets[0].id), str)):
            out.append({'name': n.targets[0].id, 'expr': _parts(n.value, mod), 'value': getattr(mod, n.targets[0].id)})
    return out


def _check_exprs(mod, tree):
    """Rule name -> its check_str expression, from each RuleDefault / DocumentedRuleDefault call."""
    out = {}
    for n in ast.walk(tree):
        if not (isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
                and n.func.attr in ('RuleDefault', 'DocumentedRuleDefault')):
            continue
        kw = {k.arg: k.value for k in n.keywords}
        name = eval(compile(ast.Expression(kw['name']), '<expr>', 'eval'), vars(mod))
        out[name] = _parts(kw['check_str'], mod)
    return out


def _rule(r, exprs, documented):
    out = {'name': r.name, 'check': r.check_str, 'expr': exprs[r.name]}
    if r.scope_types:
        out['scopeTypes'] = list(r.scope_types)
    if documented:
        out['description'] = r.description
        ops = []
        for op in r.operations or []:
            methods = op['method'] if isinstance(op['method'], list) else [op['method']]
            ops += [{'method': m, 'path': op['path'].strip()} for m in methods]
        out['operations'] = ops
    return out


def main(root):
    _stub_modules()
    commit = subprocess.run(['git', '-C', root, 'rev-parse', 'HEAD'], capture_output=True, text=True).stdout.strip()
    describe = subprocess.run(['git', '-C', root, 'describe', '--tags'], capture_output=True, text=True).stdout.strip()
    base, base_tree = _load(root, 'base')
    base_exprs = _check_exprs(base, base_tree)
    doc = {
        'source': {'repo': 'openstack/keystone', 'commit': commit, 'describe': describe},
        'base': {
            'constants': _constants(base, base_tree),
            'rules': [_rule(r, base_exprs, False) for r in base.list_rules()],
        },
        'modules': [],
    }
    for name in MODULES:
        mod, tree = _load(root, name)
        exprs = _check_exprs(mod, tree)
        doc['modules'].append({
            'module': name,
            'constants': [c for c in _constants(mod, tree) if name != 'base'],
            'rules': [_rule(r, exprs, True) for r in mod.list_rules()],
        })
    json.dump(doc, sys.stdout, indent=2)
    sys.stdout.write('\n')


if __name__ == '__main__':
    if len(sys.argv) != 2:
        sys.exit('usage: extract.py <keystone checkout>')
    main(sys.argv[1])
