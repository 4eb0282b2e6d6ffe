/**
 * Moves: cold and live migration and their revert, resize (claim, confirm, revert), unshelve. The
 * destination is chosen and claimed in the scheduler's transaction; the destination's agent rebuilds the
 * instance, then the source's agent cleans up.
 */
import type { Caller } from '../../../core/auth/caller.js';
import { json } from '../../../core/db/index.js';
import { uuid } from '../../../core/ids.js';
import type { StateReport } from '../../../agent/compute/protocol.js';
import type { FlavorRow, HostRow, ServerRow } from '../rows.js';
import { NoValidHost, selectHost } from '../scheduler.js';
import { err, now, rid } from './base.js';
import { flavorDisk, noUsage } from './hosts.js';
import { eventOf } from './instance-actions.js';
import { Scheduling } from './scheduling.js';
import { specFlavor } from './tasks.js';

export class Moves extends Scheduling {
  /**
   * Move a server to another host (cold migrate → VERIFY_RESIZE, live migrate → same state), or back to
   * its source (revert of a cold migrate).
   */
  async moveServer(
    c: Caller,
    s: ServerRow,
    o: { live: boolean; host?: string; revert?: { source: string } },
  ): Promise<void> {
    this.checkLock(c, s);
    const zones = await this.hostZones();
    const taskState = o.revert ? 'resize_reverting' : o.live ? 'migrating' : 'resize_migrating';
    const t = now();
    let dest: HostRow;
    try {
      dest = await this.store.locked(['scheduler'], async (trx) => {
        const cur = await this.store.server(s.id, {}, trx);
        if (!cur || cur.task_state !== null)
          throw err(
            409,
            `Cannot '${o.live ? 'os-migrateLive' : 'migrate'}' instance ${s.id} while it is in task_state ${cur?.task_state ?? 'deleting'}`,
            'conflictingRequest',
          );
        const hosts = await this.hostStatesIn(trx, zones);
        const choice = selectHost(hosts, {
          vcpus: s.vcpus,
          memoryMb: s.memory_mb,
          diskGb: s.disk_gb,
          availabilityZone: o.revert ? undefined : (s.requested_az ?? undefined),
          host: o.revert?.source ?? o.host,
          forceHost: !!o.revert,
          ignoreHosts: s.host ? [s.host] : [],
        });
        const row = hosts.find((h) => h.row.name === choice.host)!.row;
        await this.store.updateServer(
          s.id,
          {
            host: row.name,
            node: row.hypervisor_hostname,
            availability_zone: choice.az,
            task_state: taskState,
            updated_at: t,
          },
          trx,
        );
        if (o.revert) await this.store.setServerMigrations(s.id, ['finished'], 'reverting', t, trx);
        else
          await this.store.insertMigration(
            {
              uuid: uuid(),
              server_id: s.id,
              project_id: s.project_id,
              user_id: s.user_id,
              source_compute: s.host,
              dest_compute: row.name,
              source_node: s.node,
              dest_node: row.hypervisor_hostname,
              dest_host: row.host_ip,
              old_flavor_id: s.flavor_id,
              new_flavor_id: s.flavor_id,
              migration_type: o.live ? 'live-migration' : 'migration',
              status: o.live ? 'running' : 'migrating',
              created_at: t,
              updated_at: t,
            },
            trx,
          );
        return row;
      });
    } catch (e) {
      if (e instanceof NoValidHost)
        throw err(400, `No valid host was found. ${e.reasons.join('; ')}`, 'badRequest');
      throw e;
    }
    const action = o.revert ? 'revertResize' : o.live ? 'live-migration' : 'migrate';
    await this.recordAction(c, s.id, action, { event: eventOf('migrate_in'), host: dest.name, at: t });
    const moved = (await this.store.server(s.id))!;
    const power =
      s.vm_state === 'stopped' || (o.revert && s.power_state === 4)
        ? 'stopped'
        : s.vm_state === 'paused'
          ? 'paused'
          : 'running';
    const finalVmState = o.revert
      ? power === 'stopped'
        ? 'stopped'
        : 'active'
      : o.live
        ? s.vm_state
        : 'resized';
    this.send(dest.name, {
      op: 'migrate_in',
      uuid: s.id,
      requestId: rid(c),
      spec: await this.spec(moved),
      expectTaskState: taskState,
      powerState: power,
      finalVmState,
    });
  }

  /** A move finished on the destination: record it on the migration and clean the source up. */
  protected async finishMove(s: ServerRow, r: StateReport): Promise<void> {
    const m = await this.store.lastMigration(s.id, ['running', 'migrating', 'reverting']);
    if (!m) return;
    const reverting = m.status === 'reverting';
    const status = r.error
      ? 'error'
      : reverting
        ? 'reverted'
        : m.migration_type === 'live-migration'
          ? 'completed'
          : 'finished';
    await this.store.setMigrationStatus(m.id, status, now());
    const left = reverting ? m.dest_compute : m.source_compute;
    if (!r.error && left && left !== r.host)
      this.send(left, { op: 'migrate_cleanup', uuid: s.id, requestId: r.requestId ?? '' });
  }

  /** Resize claim: check quota delta and host capacity for the new flavor, then record it. */
  async claimResize(c: Caller, s: ServerRow, nf: FlavorRow): Promise<void> {
    const limits = await this.quotaLimits(s.project_id);
    await this.store.locked([`quota:${s.project_id}`, 'scheduler'], async (trx) => {
      const used = await this.store.projectUsage(s.project_id, undefined, trx);
      const dc = nf.vcpus - s.vcpus;
      const dr = nf.ram - s.memory_mb;
      if (dc > 0 && limits.cores! >= 0 && used.cores + dc > limits.cores!)
        throw this.quotaExceeded('cores', dc, used.cores, limits.cores!);
      if (dr > 0 && limits.ram! >= 0 && used.ram + dr > limits.ram!)
        throw this.quotaExceeded('ram', dr, used.ram, limits.ram!);
      const h = await this.store.host(s.host!, trx);
      if (!h) throw new Error(`no host ${s.host}`);
      const u = (await this.store.hostUsage(trx)).get(h.name) ?? noUsage(h.name);
      const disk = flavorDisk(nf);
      if (
        h.vcpus * h.cpu_allocation_ratio - u.vcpus + s.vcpus < nf.vcpus ||
        h.memory_mb * h.ram_allocation_ratio - u.memory_mb + s.memory_mb < nf.ram ||
        h.local_gb * h.disk_allocation_ratio - u.disk_gb + s.disk_gb < disk
      )
        throw err(400, 'No valid host was found. There are not enough hosts available.', 'badRequest');
      await this.store.updateServer(
        s.id,
        {
          old_flavor: s.flavor,
          flavor: JSON.stringify(nf),
          flavor_id: nf.id,
          vcpus: nf.vcpus,
          memory_mb: nf.ram,
          disk_gb: disk,
          updated_at: now(),
        },
        trx,
      );
    });
    void c;
  }

  /** Resize to another flavor on the same host: claim, record the migration, cast. */
  async resize(c: Caller, s: ServerRow, nf: FlavorRow, action: string): Promise<void> {
    const cur = json<FlavorRow>(s.flavor, {} as FlavorRow);
    await this.hostOf(s, action);
    await this.claimResize(c, s, nf);
    const fresh = (await this.store.server(s.id))!;
    const t = now();
    await this.store.insertMigration({
      uuid: crypto.randomUUID(),
      server_id: s.id,
      project_id: s.project_id,
      user_id: s.user_id,
      source_compute: s.host,
      dest_compute: s.host,
      source_node: s.node,
      dest_node: s.node,
      dest_host: null,
      old_flavor_id: cur.id,
      new_flavor_id: nf.id,
      migration_type: 'resize',
      status: 'migrating',
      created_at: t,
      updated_at: t,
    });
    await this.cast(c, fresh, {
      action,
      op: 'resize',
      vmStates: ['active', 'stopped'],
      taskState: 'resize_prep',
      task: () => ({
        op: 'resize',
        uuid: s.id,
        requestId: rid(c),
        from: s.vm_state,
        flavor: specFlavor(nf),
      }),
      capability: 'supportsResize',
    });
  }

  /** confirmResize: keep the new flavor. */
  async confirmResize(c: Caller, s: ServerRow): Promise<void> {
    this.checkLock(c, s);
    if (s.vm_state !== 'resized')
      throw err(
        409,
        `Cannot 'confirmResize' instance ${s.id} while it is in vm_state ${s.vm_state}`,
        'conflictingRequest',
      );
    const power = s.power_state === 4 ? 'stopped' : 'active';
    const ok = await this.store.saveState(
      s.id,
      { vm_state: power, task_state: null, old_flavor: null, updated_at: now() },
      [null],
    );
    if (!ok)
      throw err(
        409,
        `Cannot 'confirmResize' instance ${s.id} while it is in task_state ${s.task_state}`,
        'conflictingRequest',
      );
    await this.store.setServerMigrations(s.id, ['migrating', 'finished'], 'confirmed', now());
    await this.recordAction(c, s.id, 'confirmResize');
  }

  /** revertResize: back to the source host (a cold migration) or to the old flavor (a resize). */
  async revertResize(c: Caller, s: ServerRow, action: string): Promise<void> {
    this.checkLock(c, s);
    if (s.vm_state !== 'resized')
      throw err(
        409,
        `Cannot 'revertResize' instance ${s.id} while it is in vm_state ${s.vm_state}`,
        'conflictingRequest',
      );
    const mig = await this.store.lastMigration(s.id, ['finished']);
    if (mig?.migration_type === 'migration' && mig.source_compute) {
      await this.moveServer(c, s, { live: false, revert: { source: mig.source_compute } });
      return;
    }
    const old = json<FlavorRow>(s.old_flavor ?? s.flavor, {} as FlavorRow);
    await this.cast(c, s, {
      action,
      op: 'resize_revert',
      vmStates: ['resized'],
      taskState: 'resize_reverting',
      task: () => ({ op: 'resize_revert', uuid: s.id, requestId: rid(c), flavor: specFlavor(old) }),
    });
    await this.store.setServerMigrations(s.id, ['migrating', 'finished'], 'reverted', now());
  }

  /** Unshelve: schedule again (optionally into another zone) and boot from the shelved snapshot. */
  async unshelve(c: Caller, s: ServerRow, az: string | undefined): Promise<void> {
    const ok = await this.store.saveState(
      s.id,
      {
        task_state: 'scheduling',
        host: null,
        node: null,
        updated_at: now(),
        ...(az ? { requested_az: az } : {}),
      },
      [null],
    );
    if (!ok)
      throw err(
        409,
        `Cannot 'unshelve' instance ${s.id} while it is in task_state ${s.task_state}`,
        'conflictingRequest',
      );
    await this.recordAction(c, s.id, 'unshelve', { event: eventOf('unshelve') });
    void this.track(
      (async () => {
        const fresh = (await this.store.server(s.id))!;
        const host = await this.schedule(fresh);
        if (!host) {
          await this.store.saveState(s.id, { vm_state: 'shelved_offloaded', task_state: null }, [null]);
          return;
        }
        await this.store.saveState(s.id, { task_state: 'unshelving' }, ['networking']);
        this.send(host, {
          op: 'unshelve',
          uuid: s.id,
          requestId: rid(c),
          // Boot from the shelved snapshot when there is one (the server keeps showing its image).
          spec: await this.spec({ ...fresh, host, image_ref: fresh.shelved_image_id ?? fresh.image_ref }),
        });
      })(),
    );
  }
}
