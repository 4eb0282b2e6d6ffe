/** Rows to Neutron API dictionaries. */
import { bool, json } from '../../core/db/index.js';
import type { Row } from './store.js';

export const DEFAULT_AZ = 'nova';

export function std(r: Row, tags: string[] | undefined) {
  return {
    description: r.description ?? '',
    tags: tags ?? [],
    created_at: r.created_at,
    updated_at: r.updated_at,
    revision_number: Number(r.revision_number),
  };
}

export function networkView(
  r: Row,
  extra: { subnets: string[]; tags?: string[]; sharedForCaller: boolean },
): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    tenant_id: r.project_id,
    project_id: r.project_id,
    admin_state_up: bool(r.admin_state_up),
    mtu: Number(r.mtu),
    status: r.status,
    subnets: extra.subnets,
    shared: extra.sharedForCaller,
    availability_zone_hints: json<string[]>(r.availability_zone_hints, []),
    availability_zones: [DEFAULT_AZ],
    ipv4_address_scope: null,
    ipv6_address_scope: null,
    'router:external': bool(r.external),
    port_security_enabled: bool(r.port_security_enabled),
    l2_adjacency: true,
    is_default: bool(r.is_default),
    'provider:network_type': r.network_type ?? null,
    'provider:physical_network': r.physical_network ?? null,
    'provider:segmentation_id':
      r.segmentation_id === null || r.segmentation_id === undefined ? null : Number(r.segmentation_id),
    ...std(r, extra.tags),
  };
}

export function subnetView(r: Row, tags?: string[]): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    tenant_id: r.project_id,
    project_id: r.project_id,
    network_id: r.network_id,
    ip_version: Number(r.ip_version),
    subnetpool_id: r.subnetpool_id ?? null,
    enable_dhcp: bool(r.enable_dhcp),
    ipv6_ra_mode: r.ipv6_ra_mode ?? null,
    ipv6_address_mode: r.ipv6_address_mode ?? null,
    gateway_ip: r.gateway_ip ?? null,
    cidr: r.cidr,
    allocation_pools: json(r.allocation_pools, []),
    host_routes: json(r.host_routes, []),
    dns_nameservers: json(r.dns_nameservers, []),
    ...std(r, tags),
  };
}

export function portView(
  r: Row,
  extra: { fixedIps: { subnet_id: string; ip_address: string }[]; securityGroups: string[]; tags?: string[] },
): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    network_id: r.network_id,
    tenant_id: r.project_id,
    project_id: r.project_id,
    mac_address: r.mac_address,
    admin_state_up: bool(r.admin_state_up),
    status: r.status,
    device_id: r.device_id,
    device_owner: r.device_owner,
    fixed_ips: extra.fixedIps,
    allowed_address_pairs: json(r.allowed_address_pairs, []),
    security_groups: extra.securityGroups,
    port_security_enabled: bool(r.port_security_enabled),
    'binding:vnic_type': r.binding_vnic_type,
    'binding:host_id': r.binding_host_id,
    'binding:profile': json(r.binding_profile, {}),
    'binding:vif_type': r.binding_vif_type,
    'binding:vif_details': json(r.binding_vif_details, {}),
    ...std(r, extra.tags),
  };
}

export function routerView(
  r: Row,
  extra: { gateway: Record<string, unknown> | null; tags?: string[] },
): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    tenant_id: r.project_id,
    project_id: r.project_id,
    admin_state_up: bool(r.admin_state_up),
    status: r.status,
    external_gateway_info: extra.gateway,
    routes: json(r.routes, []),
    availability_zone_hints: json<string[]>(r.availability_zone_hints, []),
    availability_zones: [DEFAULT_AZ],
    ...std(r, extra.tags),
  };
}

export function floatingIpView(
  r: Row,
  extra: { portDetails: Record<string, unknown> | null; tags?: string[] },
): Record<string, unknown> {
  return {
    id: r.id,
    tenant_id: r.project_id,
    project_id: r.project_id,
    floating_network_id: r.floating_network_id,
    floating_ip_address: r.floating_ip_address,
    router_id: r.router_id ?? null,
    port_id: r.fixed_port_id ?? null,
    fixed_ip_address: r.fixed_ip_address ?? null,
    status: r.status,
    port_details: extra.portDetails,
    ...std(r, extra.tags),
  };
}

export function sgRuleView(r: Row, normalizedCidr: string | null): Record<string, unknown> {
  return {
    id: r.id,
    tenant_id: r.project_id,
    project_id: r.project_id,
    security_group_id: r.security_group_id,
    direction: r.direction,
    ethertype: r.ethertype,
    protocol: r.protocol ?? null,
    port_range_min:
      r.port_range_min === null || r.port_range_min === undefined ? null : Number(r.port_range_min),
    port_range_max:
      r.port_range_max === null || r.port_range_max === undefined ? null : Number(r.port_range_max),
    remote_ip_prefix: r.remote_ip_prefix ?? null,
    remote_group_id: r.remote_group_id ?? null,
    normalized_cidr: normalizedCidr,
    description: r.description ?? '',
    created_at: r.created_at,
    updated_at: r.updated_at,
    revision_number: Number(r.revision_number),
  };
}

export function sgView(r: Row, rules: Record<string, unknown>[], tags?: string[]): Record<string, unknown> {
  return {
    id: r.id,
    name: r.name,
    tenant_id: r.project_id,
    project_id: r.project_id,
    stateful: bool(r.stateful),
    security_group_rules: rules,
    ...std(r, tags),
  };
}

export function rbacView(r: Row): Record<string, unknown> {
  return {
    id: r.id,
    tenant_id: r.project_id,
    project_id: r.project_id,
    object_type: r.object_type,
    object_id: r.object_id,
    target_tenant: r.target_project,
    target_project: r.target_project,
    action: r.action,
  };
}
