/**
 * What the compute service offers other services (ctx.services.compute), so consumers import the contract
 * from core, never from src/services/compute.
 */
import type { Credentials } from '../auth/policy.js';

/** A server as other services may see it (findServers). */
export interface ServerSummary {
  id: string;
  name: string;
  /** Nova's status (ACTIVE, SHUTOFF, ERROR, …). */
  status: string;
  project_id: string;
}

export interface ComputeFacade {
  /** Wait until background work (scheduling, agent tasks, reports) is done. */
  settle(): Promise<void>;
  /**
   * Servers whose id — or else exact name — is `ref`, among those a caller with these credentials may see
   * (the rule of GET /servers/{id}, so another project's server is not found). Names are looked up in the
   * caller's project, in every project for an admin. Used by the network service's explain, which resolves
   * `server:<name|id>` through it.
   */
  findServers(creds: Credentials, ref: string): Promise<ServerSummary[]>;
}
