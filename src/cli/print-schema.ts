/** `npm run schema:print`: writes schema.graphql from the Pothos schema (a test fails when it is stale). */
import { writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { printSchemaSDL } from '../graphql/schema.ts'

const target = fileURLToPath(new URL('../../schema.graphql', import.meta.url))
await writeFile(target, printSchemaSDL())
process.stdout.write(`wrote ${target}\n`)
