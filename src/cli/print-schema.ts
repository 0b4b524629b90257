/** `npm run schema:print`: writes schema.graphql from the Pothos schema (a test fails when it is stale). */
import { writeFile } from 'node:fs/promises'
import path from 'node:path'
import { printSchemaSDL } from '../graphql/schema.ts'
import { PROJECT_ROOT } from '../project-root.ts'
import { errorReason, exitWith } from '../failure.ts'

const target = path.join(PROJECT_ROOT, 'schema.graphql')
await writeFile(target, printSchemaSDL()).catch((error: unknown) => exitWith(`cannot write ${target}: ${errorReason(error)}`))
process.stdout.write(`wrote ${target}\n`)
