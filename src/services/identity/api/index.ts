/** Keystone's v3 resources, one file a resource as keystone/api/*.py (auth routes: ./auth.ts). */
import type { FastifyInstance } from 'fastify';
import type { IdentityManager } from '../manager.js';
import { appCredentialRoutes } from './application-credentials.js';
import { credentialRoutes } from './credentials.js';
import { domainRoutes } from './domains.js';
import { endpointRoutes } from './endpoints.js';
import { grantRoutes } from './grants.js';
import { groupRoutes } from './groups.js';
import { impliedRoleRoutes } from './implied-roles.js';
import { projectTagRoutes } from './project-tags.js';
import { projectRoutes } from './projects.js';
import { regionRoutes } from './regions.js';
import { roleAssignmentRoutes } from './role-assignments.js';
import { roleRoutes } from './roles.js';
import { serviceRoutes } from './services.js';
import { userRoutes } from './users.js';

export function resourceRoutes(app: FastifyInstance, mgr: IdentityManager) {
  domainRoutes(app, mgr);
  projectRoutes(app, mgr);
  projectTagRoutes(app, mgr);
  userRoutes(app, mgr);
  groupRoutes(app, mgr);
  roleRoutes(app, mgr);
  impliedRoleRoutes(app, mgr);
  grantRoutes(app, mgr);
  roleAssignmentRoutes(app, mgr);
  regionRoutes(app, mgr);
  serviceRoutes(app, mgr);
  endpointRoutes(app, mgr);
  appCredentialRoutes(app, mgr);
  credentialRoutes(app, mgr);
}
