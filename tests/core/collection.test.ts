import { describe, expect, it } from 'vitest';
import {
  glanceNext,
  lastParam,
  neutronLinks,
  novaLinks,
  pageHref,
  parseLimit,
  splitPage,
} from '../../src/core/http/collection.js';

const invalid = (raw: string) => new Error(`bad limit ${raw}`);

describe('parseLimit', () => {
  it('reads, clamps and rejects', () => {
    expect(parseLimit(undefined, { max: 1000, invalid })).toBeUndefined();
    expect(parseLimit('10', { max: 1000, invalid })).toBe(10);
    expect(parseLimit('5000', { max: 1000, invalid })).toBe(1000);
    expect(parseLimit('99999999999999999999999', { max: 1000, invalid })).toBe(1000);
    expect(parseLimit('0', { max: 1000, invalid })).toBe(0);
    expect(parseLimit('0', { max: 1000, invalid, zero: 'none' })).toBeUndefined();
    expect(() => parseLimit('0', { max: 1000, invalid, zero: 'error' })).toThrow('bad limit 0');
    for (const bad of ['-1', 'abc', '1.5', '', '1e3', ' 3'])
      expect(() => parseLimit(bad, { max: 1000, invalid })).toThrow(`bad limit ${bad}`);
  });
  it('signed dialect accepts blanks and + but not negatives', () => {
    expect(parseLimit(' +7 ', { max: 1000, invalid, signed: true })).toBe(7);
    expect(parseLimit('-0', { max: 1000, invalid, signed: true })).toBe(0);
    expect(() => parseLimit('-3', { max: 1000, invalid, signed: true })).toThrow();
  });
});

describe('links', () => {
  it('keeps the other parameters and moves the marker', () => {
    const q = { status: 'ACTIVE', limit: '2', marker: 'a', tag: ['x', 'y'] };
    expect(lastParam(q, 'tag')).toBe('y');
    expect(pageHref('http://h/v2.1/servers', q, { marker: 'b' })).toBe(
      'http://h/v2.1/servers?status=ACTIVE&limit=2&tag=x&tag=y&marker=b',
    );
    expect(novaLinks('http://h/v2.1/servers', q, [{ id: 'a1' }, { id: 'a2' }], 2)).toEqual([
      { rel: 'next', href: 'http://h/v2.1/servers?status=ACTIVE&tag=x&tag=y&limit=2&marker=a2' },
    ]);
    expect(novaLinks('http://h/v2.1/servers', q, [{ id: 'a1' }], 2)).toEqual([]);
    expect(novaLinks('http://h/kp', {}, [{ name: 'k' }], 1, (k) => k.name)[0]!.href).toBe(
      'http://h/kp?limit=1&marker=k',
    );
  });
  it('Neutron: next and previous, page_reverse', () => {
    const items = [{ id: '1' }, { id: '2' }];
    expect(neutronLinks('/n', { limit: '2', marker: '0' }, { limit: 2, marker: '0' }, items, true)).toEqual([
      { rel: 'next', href: '/n?limit=2&marker=2' },
      { rel: 'previous', href: '/n?limit=2&marker=1&page_reverse=True' },
    ]);
    expect(
      neutronLinks('/n', { limit: '2', page_reverse: 'True' }, { limit: 2, pageReverse: true }, items, true),
    ).toEqual([{ rel: 'previous', href: '/n?limit=2&marker=1&page_reverse=True' }]);
    expect(neutronLinks('/n', {}, {}, items, true)).toEqual([]);
  });
  it('Glance next and splitPage', () => {
    expect(glanceNext('/v2/images', { limit: '1', marker: 'x' }, 'y')).toBe('/v2/images?limit=1&marker=y');
    expect(glanceNext('/v2/images', {}, undefined)).toBeUndefined();
    expect(splitPage([1, 2, 3], 2)).toEqual({ items: [1, 2], hasMore: true });
    expect(splitPage([1, 2], 2)).toEqual({ items: [1, 2], hasMore: false });
    expect(splitPage([1, 2], undefined)).toEqual({ items: [1, 2], hasMore: false });
  });
});
