/** The object store's rows, as the store returns them (api/ and domain/ use these types, never the store). */
export interface AccountRow {
  account: string;
  project_id: string;
  created_at: string;
  put_timestamp: string;
  meta: string;
  container_count: number;
  object_count: number;
  bytes_used: number;
}
export interface ContainerRow {
  account: string;
  name: string;
  created_at: string;
  put_timestamp: string;
  storage_policy: string;
  meta: string;
  object_count: number;
  bytes_used: number;
}
export interface ObjectRow {
  account: string;
  container: string;
  name: string;
  size: number;
  etag: string;
  content_type: string;
  timestamp: string;
  meta: string;
  delete_at: number | null;
  file: string;
}
/** A page of a listing: names after `after` (or before `before` when reversed), at most `limit`. */
export interface Range {
  after?: string;
  /** Names >= this (a prefix's start). */
  from?: string;
  before?: string;
  reverse?: boolean;
  limit: number;
}
