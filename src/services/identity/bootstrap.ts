/**
 * First start: the Default domain, the admin project and user, the admin > member > reader roles, the
 * region and the service catalog. Idempotent: every start reconciles the catalog with the services mounted.
 */
import { randomBytes } from 'node:crypto';
import { bool } from '../../core/db/index.js';
import { hexId } from '../../core/ids.js';
import type { IdentityManager } from './manager.js';

export interface CatalogEntry {
  type: string;
  name: string;
  /** Full URL of the endpoint (public, internal and admin share it on a single box). */
  url: string;
}

export interface BootstrapResult {
  adminUserId: string;
  adminProjectId: string;
  /** Set only when the password was generated on this start (print it once). */
  generatedPassword?: string;
}

export async function bootstrap(
  mgr: IdentityManager,
  opts: { adminPassword?: string; region: string; catalog: CatalogEntry[] },
): Promise<BootstrapResult> {
  const store = mgr.store;
  if (!(await store.get('project', 'default'))) {
    await mgr.createDomain({ id: 'default', name: 'Default', description: 'The default domain' });
  }
  let adminProject = await store.projectByName('default', 'admin');
  if (!adminProject)
    adminProject = await mgr.createProject({
      name: 'admin',
      domain_id: 'default',
      description: 'Bootstrap project for initializing the cloud.',
    });
  const roles: Record<string, string> = {};
  for (const name of ['admin', 'member', 'reader', 'service', 'manager']) {
    const r = (await store.roleByName(name)) ?? (await mgr.createRole({ name }));
    roles[name] = r.id;
  }
  const implies = (await store.impliedRules()).map((r) => `${r.prior_role_id}>${r.implied_role_id}`);
  for (const [a, b] of [
    ['admin', 'manager'],
    ['manager', 'member'],
    ['member', 'reader'],
  ] as const) {
    if (!implies.includes(`${roles[a]}>${roles[b]}`)) await mgr.createImpliedRole(roles[a]!, roles[b]!);
  }

  let generatedPassword: string | undefined;
  let admin = await store.userByName('default', 'admin');
  if (!admin) {
    const password = opts.adminPassword ?? (generatedPassword = randomBytes(12).toString('base64url'));
    admin = await mgr.createUser({
      name: 'admin',
      domain_id: 'default',
      password,
      default_project_id: adminProject.id,
      // The operator's account is not subject to expiry or lockout rules (Keystone's advice for it).
      options: {
        ignore_password_expiry: true,
        ignore_change_password_upon_first_use: true,
        ignore_lockout_failure_attempts: true,
      },
    });
    await store.setMeta('bootstrap_password_generated', generatedPassword ? 'true' : 'false');
  } else if (opts.adminPassword) {
    // A password given at start wins, as `keystone-manage bootstrap` resets it.
    const [pw] = await store.passwords(admin.id);
    const { verifyPassword } = await import('./passwords.js');
    if (!pw || !(await verifyPassword(opts.adminPassword, pw.hash))) {
      await mgr.updateUser(admin.id, { password: opts.adminPassword, enabled: true });
    }
  }
  for (const a of [
    { type: 'UserProject' as const, target_id: adminProject.id },
    { type: 'UserSystem' as const, target_id: 'system' },
  ]) {
    await store.addAssignment({
      type: a.type,
      actor_id: admin.id,
      target_id: a.target_id,
      role_id: roles.admin!,
      inherited: 0,
    });
  }

  if (!(await store.get('region', opts.region))) {
    await store.insert('region', { id: opts.region, description: '', parent_region_id: null, extra: '{}' });
  }
  // Catalog: one service per type with public/internal/admin endpoints at the given URL.
  for (const entry of opts.catalog) {
    let svc = (await store.listServices({ type: entry.type })).find((s) => s.name === entry.name);
    if (!svc) {
      svc = { id: hexId(), type: entry.type, name: entry.name, description: '', enabled: 1, extra: '{}' };
      await store.insert('service', svc);
    }
    const eps = await store.listEndpoints({ serviceId: svc.id });
    for (const iface of ['public', 'internal', 'admin']) {
      const ep = eps.find((e) => e.interface === iface && e.region_id === opts.region);
      if (!ep) {
        await store.insert('endpoint', {
          id: hexId(),
          service_id: svc.id,
          interface: iface,
          url: entry.url,
          region_id: opts.region,
          enabled: 1,
          extra: '{}',
        });
      } else if (ep.url !== entry.url || !bool(ep.enabled)) {
        await store.update('endpoint', ep.id, { url: entry.url, enabled: 1 });
      }
    }
  }
  mgr.generation++;
  return { adminUserId: admin.id, adminProjectId: adminProject.id, generatedPassword };
}
