/**
 * Authentication and tokens: password / token / application_credential methods, scoping, Fernet-style
 * issue and validation, revocation events, lockout and password expiry.
 */
import { randomBytes } from 'node:crypto';
import type { AuthContext, TokenValidator } from '../../core/auth/context.js';
import type { Credentials } from '../../core/auth/policy.js';
import { ApiError, badRequest, notFound, unauthorized } from '../../core/errors.js';
import { bool, json } from '../../core/db/index.js';
import type { IdentityManager } from './manager.js';
import { hashPassword, verifyPassword } from './passwords.js';
import { FairQueue, QueueFull } from '../../core/fair-queue.js';
import { availableParallelism } from 'node:os';
import { GLOBAL_ROLE_DOMAIN, type ProjectRow, type RevocationRow, type UserRow } from './store.js';
import { KeyRepository, packPayload, unpackPayload, type TokenPayload } from './tokens.js';

export interface ScopeRequest {
  project?: { id?: string; name?: string; domain?: { id?: string; name?: string } };
  domain?: { id?: string; name?: string };
  system?: { all?: boolean };
  'OS-TRUST:trust'?: unknown;
}

export interface AuthRequest {
  identity: {
    methods: string[];
    password?: {
      user: { id?: string; name?: string; password: string; domain?: { id?: string; name?: string } };
    };
    token?: { id: string };
    application_credential?: {
      id?: string;
      name?: string;
      secret: string;
      user?: { id?: string; name?: string; domain?: { id?: string; name?: string } };
    };
  };
  scope?: ScopeRequest | 'unscoped';
}

/** A validated token with everything the token body and the request context need. */
export interface TokenData extends AuthContext {
  payload: TokenPayload;
  user: UserRow;
  userDomain: ProjectRow;
  project?: ProjectRow;
  projectDomain?: ProjectRow;
  domain?: ProjectRow;
  appCred?: { id: string; name: string; restricted: boolean };
  passwordExpiresAt: string | null;
}

const authFailed = () => unauthorized('The request you have made requires authentication.');

/**
 * Password checks (bcrypt, ~0.2 s of CPU at cost 12) share one fair queue: as many at once as there are cores,
 * taken round-robin by user, at most LOGIN.perUser waiting per user and LOGIN.perSource per client address;
 * past that a login is refused with 429 before any hashing, so a flood of wrong passwords for one account
 * delays another user's login by about one check, and token validation (no hashing) is not queued at all.
 */
export const LOGIN = { perUser: 8, perSource: 64 };
const b64Audit = () => randomBytes(16).toString('base64url').slice(0, 22);

export class TokenService implements TokenValidator {
  private revocations: RevocationRow[] = [];
  private revSeq = 0;
  private lastPoll = 0;
  private cache = new Map<string, { gen: number; at: number; data: TokenData }>();

  private readonly checks = new FairQueue(
    Math.max(1, availableParallelism()),
    LOGIN.perUser,
    LOGIN.perSource,
  );
  private dummyHash?: Promise<string>;

  constructor(
    private readonly mgr: IdentityManager,
    readonly keys: KeyRepository,
  ) {
    mgr.onRevoke.push(() => {
      this.lastPoll = 0; // reload on next validation
      this.cache.clear();
    });
  }

  async init(): Promise<void> {
    await this.mgr.store.pruneRevocations(new Date().toISOString());
    await this.pollRevocations(true);
  }

  /** Revocation events are kept in memory; other API processes' events are picked up within a second. */
  private async pollRevocations(force = false): Promise<void> {
    const now = Date.now();
    if (!force && now - this.lastPoll < 1000) return;
    this.lastPoll = now;
    const rows = await this.mgr.store.revocationsSince(this.revSeq);
    if (rows.length) {
      this.revocations.push(...rows);
      this.revSeq = rows[rows.length - 1]!.seq;
      this.cache.clear();
    }
  }

  private isRevoked(d: {
    payload: TokenPayload;
    userDomainId: string;
    projectId?: string;
    projectDomainId?: string;
    domainId?: string;
  }): boolean {
    const issued = d.payload.issuedAt;
    for (const e of this.revocations) {
      if (issued > Date.parse(e.issued_before)) continue;
      if (e.user_id && e.user_id !== d.payload.userId) continue;
      if (e.project_id && e.project_id !== d.projectId) continue;
      if (e.audit_id && e.audit_id !== d.payload.auditIds[0]) continue;
      if (e.audit_chain_id && e.audit_chain_id !== d.payload.auditIds[d.payload.auditIds.length - 1])
        continue;
      if (
        e.domain_id &&
        e.domain_id !== d.userDomainId &&
        e.domain_id !== d.projectDomainId &&
        e.domain_id !== d.domainId
      )
        continue;
      return true;
    }
    return false;
  }

  // ------------------------------------------------------------------ issue
  async authenticate(
    req: AuthRequest,
    opts: { nocatalog?: boolean; source?: string } = {},
  ): Promise<{ token: string; data: TokenData }> {
    const source = opts.source ?? 'local';
    const methods = req.identity.methods;
    if (!Array.isArray(methods) || methods.length === 0)
      throw badRequest('Expecting to find identity methods.');
    const known = ['password', 'token', 'application_credential'];
    for (const m of methods) {
      if (!known.includes(m)) throw unauthorized(`Attempted to authenticate with an unsupported method.`);
      if (!(m in req.identity)) throw badRequest(`Expecting to find ${m} in identity.`);
    }
    let user: UserRow | undefined;
    let expiresAt = Date.now() + this.mgr.config.identity.tokenExpirationSeconds * 1000;
    let auditIds = [b64Audit()];
    let usedMethods: string[] = [];
    let appCred:
      | {
          id: string;
          projectId: string | null;
          system: string | null;
          roles: string[];
          expires: string | null;
        }
      | undefined;
    let parent: TokenData | undefined;

    if (methods.includes('token')) {
      parent = await this.validate(req.identity.token!.id);
      if (parent.appCred)
        throw unauthorized('A token issued by an application credential cannot be rescoped.');
      user = parent.user;
      expiresAt = parent.expiresAt.getTime();
      auditIds = [b64Audit(), parent.auditIds[parent.auditIds.length - 1]!];
      usedMethods = [...parent.methods];
    }
    if (methods.includes('password')) {
      const u = await this.passwordAuth(req.identity.password!.user, source);
      if (user && user.id !== u.id) throw authFailed();
      user = u;
    }
    if (methods.includes('application_credential')) {
      const r = await this.appCredAuth(req.identity.application_credential!, source);
      if (user && user.id !== r.user.id) throw authFailed();
      user = r.user;
      appCred = r.cred;
      if (appCred.expires) expiresAt = Math.min(expiresAt, Date.parse(appCred.expires));
    }
    for (const m of methods) if (!usedMethods.includes(m)) usedMethods.push(m);
    if (!user) throw authFailed();

    // Scope
    let scope: TokenPayload['scope'] = 'unscoped';
    let scopeId: string | undefined;
    const s = req.scope;
    if (appCred) {
      if (
        s &&
        s !== 'unscoped' &&
        (s.domain || s.system || (s.project && s.project.id && s.project.id !== appCred.projectId))
      ) {
        throw unauthorized('Application credentials cannot request a scope.');
      }
      if (appCred.system) {
        scope = 'system';
        scopeId = 'all';
      } else {
        scope = 'project';
        scopeId = appCred.projectId!;
      }
    } else if (s && s !== 'unscoped') {
      const n = (s.project ? 1 : 0) + (s.domain ? 1 : 0) + (s.system ? 1 : 0) + (s['OS-TRUST:trust'] ? 1 : 0);
      if (n > 1)
        throw badRequest('Specify either a project, a domain or the system scope, not more than one.');
      if (s['OS-TRUST:trust']) throw new ApiError(403, 'Trusts are not supported.');
      if (s.project) {
        const p = await this.resolveProject(s.project);
        scope = 'project';
        scopeId = p.id;
      } else if (s.domain) {
        const d = await this.resolveDomain(s.domain);
        scope = 'domain';
        scopeId = d.id;
      } else if (s.system) {
        if (s.system.all !== true) throw badRequest('Only the system scope "all" is supported.');
        scope = 'system';
        scopeId = 'all';
      }
    } else if (!s && parent && parent.payload.scope !== 'unscoped') {
      // Re-authenticating with a scoped token and no scope keeps its scope.
      scope = parent.payload.scope;
      scopeId = parent.payload.scopeId;
    } else if (!s && user.default_project_id) {
      // Keystone scopes to the default project when none is requested and the user has a role there.
      const p = await this.mgr.store.get('project', user.default_project_id);
      if (p && bool(p.enabled)) {
        const roles = await this.mgr.effectiveRoleIds(user.id, { projectId: p.id });
        if (roles.size > 0) {
          scope = 'project';
          scopeId = p.id;
        }
      }
    }

    const payload: TokenPayload = {
      userId: user.id,
      methods: usedMethods,
      scope,
      scopeId,
      expiresAt,
      issuedAt: Date.now(),
      auditIds,
      appCredId: appCred?.id,
    };
    const token = this.keys.encrypt(packPayload(payload));
    // Building the token data checks scope access (no roles → 401) exactly as validation will.
    let data: TokenData;
    try {
      data = await this.build(token, payload, { forIssue: true });
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) throw unauthorized(e.message);
      throw e;
    }
    void opts;
    await this.mgr.store.update('user', user.id, { last_active_at: new Date().toISOString() });
    return { token, data };
  }

  private async resolveDomain(d: { id?: string; name?: string }): Promise<ProjectRow> {
    let dom: ProjectRow | undefined;
    if (d.id) dom = await this.mgr.store.get('project', d.id);
    else if (d.name) dom = await this.mgr.store.projectByName('<<keystone.domain.root>>', d.name);
    else throw badRequest('Expecting to find id or name in domain.');
    if (!dom || !bool(dom.is_domain)) throw unauthorized(`Could not find domain: ${d.id ?? d.name}.`);
    if (!bool(dom.enabled)) throw unauthorized(`Domain ${dom.id} is disabled.`);
    return dom;
  }

  private async resolveProject(p: {
    id?: string;
    name?: string;
    domain?: { id?: string; name?: string };
  }): Promise<ProjectRow> {
    let proj: ProjectRow | undefined;
    if (p.id) proj = await this.mgr.store.get('project', p.id);
    else if (p.name) {
      if (!p.domain) throw badRequest('Expecting to find domain in project.');
      const dom = await this.resolveDomain(p.domain);
      proj = await this.mgr.store.projectByName(dom.id, p.name);
    } else throw badRequest('Expecting to find id or name in project.');
    if (!proj) throw unauthorized(`Could not find project: ${p.id ?? p.name}.`);
    return proj;
  }

  private async resolveUser(u: {
    id?: string;
    name?: string;
    domain?: { id?: string; name?: string };
  }): Promise<UserRow> {
    let user: UserRow | undefined;
    if (u.id) user = await this.mgr.store.get('user', u.id);
    else if (u.name) {
      if (!u.domain) throw badRequest('Expecting to find domain in user.');
      let domId = u.domain.id;
      if (!domId) {
        if (!u.domain.name) throw badRequest('Expecting to find id or name in domain.');
        const dom = await this.mgr.store.projectByName('<<keystone.domain.root>>', u.domain.name);
        if (!dom) throw authFailed();
        domId = dom.id;
      }
      user = await this.mgr.store.userByName(domId, u.name);
    } else throw badRequest('Expecting to find id or name in user.');
    if (!user) throw authFailed();
    return user;
  }

  /** A secret checked in the fair queue (see LOGIN); a full queue is a 429 in Keystone's format. */
  private async check(
    key: string,
    source: string,
    secret: string,
    hash: string | undefined,
  ): Promise<boolean> {
    try {
      // An unknown user costs the same hashing as a known one, so names cannot be told apart by timing.
      this.dummyHash ??= hashPassword(randomBytes(16).toString('hex'), this.mgr.config.identity.bcryptRounds);
      const h = hash ?? (await this.dummyHash);
      return await this.checks.run(key, source, async () => (await verifyPassword(secret, h)) && !!hash);
    } catch (e) {
      if (e instanceof QueueFull)
        throw new ApiError(
          429,
          'Too many concurrent authentication attempts; try again later.',
          'Too Many Requests',
          {
            'retry-after': '1',
          },
        );
      throw e;
    }
  }

  private async passwordAuth(
    u: { id?: string; name?: string; password: string; domain?: { id?: string; name?: string } },
    source: string,
  ) {
    if (typeof u?.password !== 'string') throw badRequest('Expecting to find password in user.');
    let user: UserRow;
    try {
      user = await this.resolveUser(u);
    } catch (e) {
      if (e instanceof ApiError && e.status === 401)
        await this.check(
          `unknown:${u.domain?.id ?? u.domain?.name ?? ''}/${u.id ?? u.name}`,
          source,
          u.password,
          undefined,
        );
      throw e;
    }
    const sc = this.mgr.config.identity.securityCompliance;
    const store = this.mgr.store;
    const userOpts = json<Record<string, unknown>>(user.options, {});
    const lockout = sc.lockoutFailureAttempts > 0 && userOpts.ignore_lockout_failure_attempts !== true;
    const windowMs = sc.lockoutDurationSeconds * 1000;
    if (lockout && user.failed_auth_count >= sc.lockoutFailureAttempts) {
      const lockedUntil = Date.parse(user.failed_auth_at ?? '') + windowMs;
      if (Date.now() < lockedUntil) throw unauthorized(`The account is locked for user: ${user.id}.`);
    }
    const [pw] = await store.passwords(user.id);
    const ok = await this.check(user.id, source, u.password, pw?.hash);
    if (!ok) {
      if (lockout) await store.recordAuthFailure(user.id, new Date(Date.now() - windowMs).toISOString());
      throw authFailed();
    }
    if (lockout) {
      // Failures counted while this check ran (a concurrent flood) lock the account for this attempt too.
      const now = await store.get('user', user.id);
      if (now && now.failed_auth_count >= sc.lockoutFailureAttempts) {
        const lockedUntil = Date.parse(now.failed_auth_at ?? '') + windowMs;
        if (Date.now() < lockedUntil) throw unauthorized(`The account is locked for user: ${user.id}.`);
      }
    }
    if (user.failed_auth_count > 0)
      await store.update('user', user.id, { failed_auth_count: 0, failed_auth_at: null });
    if (!bool(user.enabled)) throw unauthorized(`User ${user.id} is disabled.`);
    const dom = await store.get('project', user.domain_id);
    if (!dom || !bool(dom.enabled)) throw unauthorized(`Domain ${user.domain_id} is disabled.`);
    const ignoreExpiry = userOpts.ignore_password_expiry === true;
    if (pw!.expires_at && Date.parse(pw!.expires_at) <= Date.now() && !ignoreExpiry) {
      throw unauthorized(`The password is expired and needs to be changed for user: ${user.id}.`);
    }
    return user;
  }

  private async appCredAuth(
    a: NonNullable<AuthRequest['identity']['application_credential']>,
    source: string,
  ) {
    if (typeof a?.secret !== 'string')
      throw badRequest('Expecting to find secret in application_credential.');
    const store = this.mgr.store;
    let cred;
    if (a.id) cred = await store.get('application_credential', a.id);
    else if (a.name && a.user) {
      const user = await this.resolveUser(a.user);
      cred = await store.appCredByName(user.id, a.name);
    } else throw badRequest('Expecting to find id, or name and user, in application_credential.');
    const ok = await this.check(`appcred:${a.id ?? a.name}`, source, a.secret, cred?.secret_hash);
    if (!ok || !cred) throw authFailed();
    if (cred.expires_at && Date.parse(cred.expires_at) <= Date.now()) throw authFailed();
    const user = await store.get('user', cred.user_id);
    if (!user || !bool(user.enabled)) throw authFailed();
    return {
      user,
      cred: {
        id: cred.id,
        projectId: cred.project_id,
        system: cred.system,
        roles: json<{ id: string }[]>(cred.roles, []).map((r) => r.id),
        expires: cred.expires_at,
      },
    };
  }

  // ------------------------------------------------------------------ validate
  async validate(token: string, opts: { allowExpired?: boolean } = {}): Promise<TokenData> {
    await this.pollRevocations();
    const hit = this.cache.get(token);
    const now = Date.now();
    if (hit && hit.gen === this.mgr.generation && now - hit.at < 5000 && hit.data.expiresAt.getTime() > now) {
      return hit.data;
    }
    const plain = this.keys.decrypt(token);
    const payload = plain && unpackPayload(plain);
    if (!payload) throw notFound('Could not find token.', 'TokenNotFound');
    if (payload.expiresAt <= now && !opts.allowExpired)
      throw notFound('Could not find token.', 'TokenNotFound');
    const gen = this.mgr.generation;
    const data = await this.build(token, payload, {});
    if (!opts.allowExpired || payload.expiresAt > now) {
      if (this.cache.size > 10_000) this.cache.clear();
      this.cache.set(token, { gen, at: now, data });
    }
    return data;
  }

  /** Revoke one token by its audit id (DELETE /v3/auth/tokens). */
  async revokeToken(token: string): Promise<void> {
    const data = await this.validate(token);
    await this.mgr.revoke({ auditId: data.auditIds[0] });
  }

  private async build(token: string, payload: TokenPayload, o: { forIssue?: boolean }): Promise<TokenData> {
    const store = this.mgr.store;
    const gone = () => notFound('Could not find token.', 'TokenNotFound');
    const user = await store.get('user', payload.userId);
    if (!user || !bool(user.enabled)) throw gone();
    const userDomain = await store.get('project', user.domain_id);
    if (!userDomain || !bool(userDomain.enabled)) throw gone();
    let project: ProjectRow | undefined;
    let projectDomain: ProjectRow | undefined;
    let domain: ProjectRow | undefined;
    let roleIds = new Set<string>();
    if (payload.scope === 'project') {
      project = await store.get('project', payload.scopeId!);
      if (!project) throw gone();
      projectDomain = bool(project.is_domain) ? project : await store.get('project', project.domain_id);
      if (!bool(project.enabled) || !projectDomain || !bool(projectDomain.enabled)) {
        throw o.forIssue ? unauthorized(`Project ${project.id} is disabled.`) : gone();
      }
      roleIds = await this.mgr.effectiveRoleIds(user.id, { projectId: project.id });
    } else if (payload.scope === 'domain') {
      domain = await store.get('project', payload.scopeId!);
      if (!domain || !bool(domain.enabled)) throw gone();
      roleIds = await this.mgr.effectiveRoleIds(user.id, { domainId: domain.id });
    } else if (payload.scope === 'system') {
      roleIds = await this.mgr.effectiveRoleIds(user.id, { system: true });
    }
    let appCred: TokenData['appCred'];
    if (payload.appCredId) {
      const cred = await store.get('application_credential', payload.appCredId);
      if (!cred || (cred.expires_at && Date.parse(cred.expires_at) <= Date.now())) throw gone();
      const allowed = await this.mgr.expandImplied(json<{ id: string }[]>(cred.roles, []).map((r) => r.id));
      roleIds = new Set([...roleIds].filter((r) => allowed.has(r)));
      appCred = { id: cred.id, name: cred.name, restricted: !bool(cred.unrestricted) };
    }
    if (payload.scope !== 'unscoped' && roleIds.size === 0) {
      const what = project ? `project ${project.id}` : domain ? `domain ${domain.id}` : 'the system';
      throw o.forIssue ? unauthorized(`User ${user.id} has no access to ${what}.`) : gone();
    }
    if (
      this.isRevoked({
        payload,
        userDomainId: user.domain_id,
        projectId: project?.id,
        projectDomainId: projectDomain?.id,
        domainId: domain?.id,
      })
    ) {
      throw gone();
    }
    const roles = (await store.listRoles({ ids: [...roleIds] })).map((r) => ({
      id: r.id,
      name: r.name,
      ...(r.domain_id !== GLOBAL_ROLE_DOMAIN ? { domain_id: r.domain_id } : {}),
    }));
    const creds: Credentials = {
      user_id: user.id,
      user_domain_id: user.domain_id,
      project_id: project?.id ?? null,
      project_domain_id: projectDomain?.id ?? null,
      domain_id: domain?.id ?? null,
      system_scope: payload.scope === 'system' ? 'all' : null,
      roles: roles.filter((r) => !('domain_id' in r)).map((r) => r.name),
      is_admin: false,
      is_admin_project: payload.scope === 'project',
      service_user_id: null,
      token: {
        user_id: user.id,
        project: project ? { id: project.id, domain: { id: projectDomain!.id } } : undefined,
        domain: domain ? { id: domain.id } : undefined,
        application_credential: appCred ? { id: appCred.id, restricted: appCred.restricted } : undefined,
      },
    } as unknown as Credentials;
    const [pw] = await store.passwords(user.id);
    return {
      token,
      payload,
      user,
      userDomain,
      project,
      projectDomain,
      domain,
      appCred,
      passwordExpiresAt: pw?.expires_at ?? null,
      userId: user.id,
      userName: user.name,
      userDomainId: userDomain.id,
      userDomainName: userDomain.name,
      projectId: project?.id,
      projectName: project?.name,
      projectDomainId: projectDomain?.id,
      projectDomainName: projectDomain?.name,
      domainId: domain?.id,
      domainName: domain?.name,
      system: payload.scope === 'system',
      roles,
      expiresAt: new Date(payload.expiresAt),
      issuedAt: new Date(payload.issuedAt),
      auditIds: payload.auditIds,
      methods: payload.methods,
      applicationCredentialId: appCred?.id,
      creds,
    };
  }
}
