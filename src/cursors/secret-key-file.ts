/**
 * Outside production, a server without SECRET_KEY keeps a random one in its
 * data directory, so the cursors it hands out survive a restart.
 */
import { randomBytes } from 'node:crypto'
import { link, mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import path from 'node:path'

/** The file, inside DATA_DIR, that holds the development secret key. */
export const SECRET_KEY_FILE = 'secret-key'

/**
 * The key in `dataDir/secret-key`, created (64 random characters, mode 0600)
 * when missing. Two processes starting at once agree: the key is written to a
 * file of its own and linked into place (atomic, refused when the file exists),
 * so the loser reads the winner's whole key. Throws when the file exists
 * but holds fewer than 32 characters (someone edited it).
 */
export async function loadOrCreateSecretKey(dataDir: string): Promise<string> {
  const file = path.join(dataDir, SECRET_KEY_FILE)
  await mkdir(dataDir, { recursive: true })
  const draft = `${file}.${process.pid}.${randomBytes(4).toString('hex')}`
  try {
    await writeFile(draft, `${randomBytes(48).toString('base64url')}\n`, { flag: 'wx', mode: 0o600 })
    await link(draft, file)
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error
  } finally {
    await rm(draft, { force: true })
  }
  const key = (await readFile(file, 'utf8')).trim()
  if (key.length < 32) throw new Error(`${file} holds no usable key (fewer than 32 characters): delete it to get a new one, or set SECRET_KEY`)
  return key
}
