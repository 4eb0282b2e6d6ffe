/**
 * Scheduling: choosing and claiming hosts in one serialized transaction (the filters and weights are
 * scheduler.ts), then networking and the spawn for a batch of new servers.
 */
import type { Caller } from '../../../core/auth/caller.js';
import { json } from '../../../core/db/index.js';
import type { ImageInfo } from '../facades.js';
import type { FlavorRow, ServerRow } from '../rows.js';
import { NoValidHost, selectHost, type HostState, type SchedulingRequest } from '../scheduler.js';
import type { Q } from '../store/index.js';
import { now } from './base.js';
import { noUsage } from './hosts.js';
import { Volumes } from './volumes.js';

export interface ScheduleOptions {
  host?: string;
  forceHost?: boolean;
  ignoreHosts?: string[];
  imageProperties?: Record<string, string>;
}

export class Scheduling extends Volumes {
  /** The scheduler's view of every host inside its transaction: liveness, zone, usage. */
  protected async hostStatesIn(trx: Q, zones: Map<string, string>): Promise<HostState[]> {
    const usage = await this.store.hostUsage(trx);
    return (await this.store.hosts(trx, false)).map((row) => ({
      row,
      up: this.isUp(row),
      az: zones.get(row.name) ?? this.opts.defaultAvailabilityZone,
      usage: usage.get(row.name) ?? noUsage(row.name),
    }));
  }

  /** Schedule (claim), allocate networks, cast spawn — for a batch of new servers. */
  protected async build(
    servers: ServerRow[],
    o: { forcedHost?: string; forceHost: boolean; image?: ImageInfo; requestId: string; caller: Caller },
  ): Promise<void> {
    const chosen = await this.scheduleMany(servers, {
      host: o.forcedHost,
      forceHost: o.forceHost,
      imageProperties: o.image?.properties,
    });
    for (const s of servers) {
      const choice = chosen.get(s.id);
      if (!choice) continue;
      const fresh = await this.allocateNetworks({ ...s, host: choice }, o.caller);
      if (!fresh) continue;
      this.send(choice, {
        op: 'spawn',
        uuid: s.id,
        requestId: o.requestId,
        spec: await this.spec(fresh, o.image),
      });
    }
  }

  /** Pick and claim a host for one server, in the serialized scheduler transaction. Undefined: ERROR. */
  async schedule(s: ServerRow, o: ScheduleOptions = {}): Promise<string | undefined> {
    return (await this.scheduleMany([s], o)).get(s.id);
  }

  /** The affinity input of a server group: its policy, rules and the hosts of its other members. */
  private async groupOf(trx: Q, s: ServerRow): Promise<SchedulingRequest['group']> {
    const g = await this.store.group(s.server_group_id!, trx);
    if (!g) return undefined;
    return {
      policy: g.policy,
      rules: json(g.rules, {}),
      memberHosts: await this.store.groupMemberHosts(g.id, s.id, trx),
    };
  }

  /**
   * Pick and claim hosts for the servers of one request in one serialized transaction (usage is counted
   * once, then updated as each choice is made, as Nova's scheduler does for a multi-create). Servers that
   * fit nowhere end in ERROR with "No valid host".
   */
  async scheduleMany(
    servers: ServerRow[],
    o: ScheduleOptions = {},
  ): Promise<Map<string, string | undefined>> {
    const zones = await this.hostZones();
    const out = new Map<string, string | undefined>();
    const failed: { s: ServerRow; reasons: string[] }[] = [];
    await this.store.locked(['scheduler'], async (trx) => {
      const hosts = await this.hostStatesIn(trx, zones);
      const groups = new Map<string, SchedulingRequest['group']>();
      for (const s of servers) {
        const cur = await this.store.server(s.id, { deleted: true }, trx);
        if (!cur || cur.deleted || cur.task_state !== 'scheduling') {
          out.set(s.id, undefined);
          continue;
        }
        let group: SchedulingRequest['group'];
        if (s.server_group_id) {
          group = groups.get(s.server_group_id);
          if (!group) {
            group = await this.groupOf(trx, s);
            if (group) groups.set(s.server_group_id, group);
          }
        }
        const flavor = json<FlavorRow>(s.flavor, {} as FlavorRow);
        let choice;
        try {
          choice = selectHost(hosts, {
            vcpus: s.vcpus,
            memoryMb: s.memory_mb,
            diskGb: s.disk_gb,
            availabilityZone: s.requested_az ?? undefined,
            host: o.host,
            forceHost: o.forceHost,
            ignoreHosts: o.ignoreHosts,
            group,
            imageProperties: o.imageProperties,
            flavorExtraSpecs: json(flavor.extra_specs, {}),
          });
        } catch (e) {
          if (!(e instanceof NoValidHost)) throw e;
          failed.push({ s, reasons: e.reasons });
          out.set(s.id, undefined);
          continue;
        }
        const h = hosts.find((x) => x.row.name === choice.host)!;
        // The claim: the row now holds the host; the in-memory usage follows for the next server.
        h.usage = {
          ...h.usage,
          count: h.usage.count + 1,
          vcpus: h.usage.vcpus + s.vcpus,
          memory_mb: h.usage.memory_mb + s.memory_mb,
          disk_gb: h.usage.disk_gb + s.disk_gb,
        };
        group?.memberHosts.push(choice.host);
        await this.store.updateServer(
          s.id,
          {
            host: choice.host,
            node: h.row.hypervisor_hostname,
            availability_zone: choice.az,
            task_state: 'networking',
            updated_at: now(),
          },
          trx,
        );
        out.set(s.id, choice.host);
      }
    });
    for (const { s, reasons } of failed) {
      const t = await this.failServer(
        s.id,
        {
          message: 'No valid host was found. There are not enough hosts available.',
          details: reasons.join('; '),
        },
        ['scheduling'],
      );
      await this.store.finishEvent(
        s.id,
        (await this.store.lastRequestId(s.id)) ?? '',
        'conductor_schedule_and_build_instances',
        '',
        'Error',
        t,
        reasons.join('; '),
        'Error',
      );
    }
    return out;
  }
}
