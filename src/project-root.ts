/**
 * The project's root directory, for the files the server reads beside its code (prisma/, web/dist/,
 * schema.graphql). Found from this module's own location, which is `src/` when run from source and
 * `dist/server/` or `dist/cli/` once bundled (scripts/build-server.mjs): the nearest directory above
 * it that holds a package.json.
 */
import { existsSync } from 'node:fs'
import path from 'node:path'

function findRoot(from: string): string {
  for (let directory = from; ; directory = path.dirname(directory)) {
    if (existsSync(path.join(directory, 'package.json'))) return directory
    if (path.dirname(directory) === directory) throw new Error(`no package.json above ${from}`)
  }
}

/** Absolute path of the directory holding the project's package.json. */
export const PROJECT_ROOT = findRoot(import.meta.dirname)
