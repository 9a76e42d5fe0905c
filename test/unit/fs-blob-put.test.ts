// FsBlobStore.put remembers that its temporary folder exists (one call less per upload): it must
// still write when that folder has been removed since, and a failed upload must leave nothing.
// A folder that is a symlink out of the store is refused, and leaves no folder out there.
// Bytes into a folder put has just made are written beside their target (not through the shared
// temporary folder); such a temporary name is never listed, nor taken as a key.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { FsBlobStore } from '../../src/blobs/fs.js';
import { artifactKey, RESERVED_ROOT_SEGMENT } from '../../src/blobs/keys.js';
import { meteredBlobStore } from '../../src/blobs/metered.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-fs-put-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

const text = async (store: FsBlobStore, key: string) => {
  const chunks: Buffer[] = [];
  for await (const c of (await store.get(key)).body) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString();
};

describe('FsBlobStore.put', () => {
  it('writes into new and existing folders, and after its temporary folder was removed', async () => {
    const store = new FsBlobStore(root);
    await store.put('a/b/one.txt', Readable.from([Buffer.from('1')]));
    await store.put('a/b/one.txt', Readable.from([Buffer.from('2')]));
    fs.rmSync(path.join(root, RESERVED_ROOT_SEGMENT), { recursive: true });
    await store.put('a/c/two.txt', Readable.from([Buffer.from('3')]));
    expect(await text(store, 'a/b/one.txt')).toBe('2');
    expect(await text(store, 'a/c/two.txt')).toBe('3');
    expect(fs.readdirSync(path.join(root, RESERVED_ROOT_SEGMENT))).toEqual([]);
  });

  it('takes bytes as well as a stream: stored whole, replacing, no temporary file left', async () => {
    const store = new FsBlobStore(root);
    await store.put('b/bytes.json', Buffer.from('{"spans": []}'));
    await store.put('b/bytes.json', new TextEncoder().encode('{"spans": [1]}'));
    expect(await text(store, 'b/bytes.json')).toBe('{"spans": [1]}');
    expect(fs.readdirSync(path.join(root, RESERVED_ROOT_SEGMENT))).toEqual([]);
  });

  it('counts the bytes going in once stored, whether a stream or bytes (metered store)', async () => {
    const counted: number[] = [];
    const store = meteredBlobStore(new FsBlobStore(root), (direction, n) => direction === 'in' && counted.push(n));
    await store.put('c/one.txt', Buffer.from('12345'));
    await store.put('c/two.txt', Readable.from([Buffer.from('123')]));
    expect(counted.reduce((a, b) => a + b, 0)).toBe(8);
  });

  it('leaves neither the file nor a temporary one when the body fails', async () => {
    const store = new FsBlobStore(root);
    const failing = new Readable({ read() { this.destroy(new Error('client went away')); } });
    await expect(store.put('a/d/three.txt', failing)).rejects.toThrow();
    await expect(store.get('a/d/three.txt')).rejects.toMatchObject({ code: 'RESOURCE_DOES_NOT_EXIST' });
    expect(fs.readdirSync(path.join(root, RESERVED_ROOT_SEGMENT))).toEqual([]);
  });

  it('writes bytes into new folders after its temporary folder was removed, and never out through a symlink', async () => {
    const store = new FsBlobStore(root);
    await store.put('s/t/small.json', Buffer.from('one'));
    fs.rmSync(path.join(root, RESERVED_ROOT_SEGMENT), { recursive: true });
    await store.put('s/t/small.json', Buffer.from('two'));
    expect(await text(store, 's/t/small.json')).toBe('two');
    // A parent that is a file, and a folder that is a symlink out of the store: refused, nothing left.
    await expect(store.put('s/t/small.json/below.txt', Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
    const outside = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-fs-put-outside-'));
    try {
      fs.symlinkSync(outside, path.join(root, 's', 'escape'));
      // Refused, and no folder is left out there, a stream as well as bytes.
      await expect(store.put('s/escape/new/file.txt', Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
      await expect(store.put('s/escape/file.txt', Buffer.from('x'))).rejects.toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
      await expect(store.put('s/escape/other/file.txt', Readable.from([Buffer.from('x')]))).rejects.toMatchObject({ code: 'INVALID_PARAMETER_VALUE' });
      expect(fs.readdirSync(outside)).toEqual([]);
    } finally {
      fs.rmSync(outside, { recursive: true, force: true });
    }
    expect(fs.readdirSync(path.join(root, RESERVED_ROOT_SEGMENT))).toEqual([]);
  });

  it('writes bytes into a new folder beside the file and renames them there; such names are neither listed nor keys', async () => {
    const fresh = fs.mkdtempSync(path.join(os.tmpdir(), 'cairn-fs-put-beside-'));
    try {
      const store = new FsBlobStore(fresh);
      await store.put('1/traces/tr-1/artifacts/traces.json', Buffer.from('{"spans": []}'));
      expect(await text(store, '1/traces/tr-1/artifacts/traces.json')).toBe('{"spans": []}');
      expect(fs.readdirSync(path.join(fresh, '1/traces/tr-1/artifacts'))).toEqual(['traces.json']);
      // The shared temporary folder was not needed (nor made) for it.
      expect(fs.existsSync(path.join(fresh, RESERVED_ROOT_SEGMENT))).toBe(false);
      // What a crash between the open and the rename would leave: not an artifact.
      fs.writeFileSync(path.join(fresh, '1/traces/tr-1/artifacts', `${RESERVED_ROOT_SEGMENT}-crashed`), 'half');
      expect((await store.list('1/traces/tr-1/artifacts')).map((e) => e.name)).toEqual(['traces.json']);
      expect(() => artifactKey(`1/traces/tr-1/artifacts/${RESERVED_ROOT_SEGMENT}-crashed`)).toThrow(/reserved/);
      expect(() => artifactKey(`a/${RESERVED_ROOT_SEGMENT}-x/b.txt`)).toThrow(/reserved/);
      // A folder that already exists takes its bytes through the shared temporary folder, as before.
      await store.put('1/traces/tr-1/artifacts/traces.json', Buffer.from('{"spans": [1]}'));
      expect(await text(store, '1/traces/tr-1/artifacts/traces.json')).toBe('{"spans": [1]}');
      expect(fs.readdirSync(path.join(fresh, RESERVED_ROOT_SEGMENT))).toEqual([]);
    } finally {
      fs.rmSync(fresh, { recursive: true, force: true });
    }
  });
});
