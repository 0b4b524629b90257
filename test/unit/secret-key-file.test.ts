import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { loadOrCreateSecretKey, SECRET_KEY_FILE } from '../../src/cursors/secret-key-file.ts'

describe('the development secret key file', () => {
  const dirs: string[] = []
  const freshDir = async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'secret-key-'))
    dirs.push(dir)
    return path.join(dir, 'data') // not there yet: created on first start
  }
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })))
  })

  it('creates a random key on first start (mode 0600) and reads the same key afterwards', async () => {
    const dir = await freshDir()
    const key = await loadOrCreateSecretKey(dir)
    expect(key.length).toBeGreaterThanOrEqual(32)
    expect((await stat(path.join(dir, SECRET_KEY_FILE))).mode & 0o777).toBe(0o600)
    expect(await loadOrCreateSecretKey(dir)).toBe(key)
    expect(await loadOrCreateSecretKey(await freshDir())).not.toBe(key)
  })

  it('gives processes starting at once the same key', async () => {
    const dir = await freshDir()
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadOrCreateSecretKey(dir)))
    expect(new Set(keys).size).toBe(1)
    expect((await readFile(path.join(dir, SECRET_KEY_FILE), 'utf8')).trim()).toBe(keys[0])
  })

  it('refuses a file that holds no usable key', async () => {
    const dir = await freshDir()
    await loadOrCreateSecretKey(dir)
    await writeFile(path.join(dir, SECRET_KEY_FILE), 'short\n')
    await expect(loadOrCreateSecretKey(dir)).rejects.toThrow(/no usable key/)
  })
})
