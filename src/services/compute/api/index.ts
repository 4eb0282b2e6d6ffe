/** Every compute route, one file per Nova resource (as nova/api/openstack/compute/ splits them). */
import type { FastifyInstance } from 'fastify';
import type { ComputeManager } from '../manager/index.js';
import { remoteConsoleRoutes } from './actions/consoles.js';
import { aggregateRoutes } from './aggregates.js';
import { availabilityZoneRoutes } from './availability-zones.js';
import { extensionRoutes } from './extensions.js';
import { flavorAccessRoutes } from './flavor-access.js';
import { flavorExtraSpecRoutes } from './flavor-extra-specs.js';
import { flavorRoutes } from './flavors.js';
import { hypervisorRoutes } from './hypervisors.js';
import { instanceActionRoutes } from './instance-actions.js';
import { interfaceRoutes } from './interfaces.js';
import { ipRoutes } from './ips.js';
import { keypairRoutes } from './keypairs.js';
import { limitRoutes } from './limits.js';
import { migrationRoutes } from './migrations.js';
import { quotaRoutes } from './quota-sets.js';
import { securityGroupRoutes } from './security-groups.js';
import { serverActionRoutes } from './server-actions.js';
import { serverGroupRoutes } from './server-groups.js';
import { serverMetadataRoutes } from './server-metadata.js';
import { serverTagRoutes } from './server-tags.js';
import { serverTopologyRoutes } from './server-topology.js';
import { serverRoutes } from './servers.js';
import { serviceRoutes } from './services.js';
import { usageRoutes } from './simple-tenant-usage.js';
import { volumeAttachmentRoutes } from './volume-attachments.js';

export function computeRoutes(app: FastifyInstance, mgr: ComputeManager, base: string): void {
  for (const routes of [
    serverRoutes,
    serverActionRoutes,
    remoteConsoleRoutes,
    ipRoutes,
    serverMetadataRoutes,
    serverTagRoutes,
    instanceActionRoutes,
    interfaceRoutes,
    securityGroupRoutes,
    volumeAttachmentRoutes,
    serverTopologyRoutes,
    flavorRoutes,
    flavorAccessRoutes,
    flavorExtraSpecRoutes,
    keypairRoutes,
    limitRoutes,
    quotaRoutes,
    availabilityZoneRoutes,
    hypervisorRoutes,
    serviceRoutes,
    aggregateRoutes,
    serverGroupRoutes,
    usageRoutes,
    migrationRoutes,
    extensionRoutes,
  ] as ((app: FastifyInstance, mgr: ComputeManager, base: string) => void)[])
    routes(app, mgr, base);
}
