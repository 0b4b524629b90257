/**
 * `npm run schema:publish`: writes the published contract, docs/schema.published.graphql, from the
 * Pothos schema, after checking the change against the contract published before (schema-contract.ts,
 * today's UTC date): a breaking change that no due deprecation announced, a deprecation without a
 * removal date or with less than 90 days' notice, and the file is left as it was (exit 1, each reason
 * on stderr). The first publication has nothing to check against.
 */
import { readFile, writeFile } from 'node:fs/promises'
import path from 'node:path'
import { buildSchema } from 'graphql'
import { checkSchemaEvolution } from '../graphql/schema-contract.ts'
import { printSchemaSDL } from '../graphql/schema.ts'
import { PROJECT_ROOT } from '../project-root.ts'
import { errorCode, errorReason, exitWith } from '../failure.ts'

/** Where the published contract lives (committed; partners and the versioning test read it). */
const PUBLISHED_SCHEMA_PATH = path.join(PROJECT_ROOT, 'docs', 'schema.published.graphql')

const current = printSchemaSDL()
const before = await readFile(PUBLISHED_SCHEMA_PATH, 'utf8').catch((error: unknown) =>
  errorCode(error) === 'ENOENT' ? undefined : exitWith(`cannot read ${PUBLISHED_SCHEMA_PATH}: ${errorReason(error)}`),
)
if (before !== undefined) {
  const violations = checkSchemaEvolution(buildSchema(before), buildSchema(current), new Date())
  if (violations.length > 0) {
    exitWith(
      `not published: the change breaks the versioning policy (docs/partners.md, "Versioning and deprecation"):\n${violations.map((violation) => `- ${violation.message}`).join('\n')}`,
    )
  }
}
if (before === current) {
  process.stdout.write(`${PUBLISHED_SCHEMA_PATH} is already current\n`)
} else {
  await writeFile(PUBLISHED_SCHEMA_PATH, current).catch((error: unknown) => exitWith(`cannot write ${PUBLISHED_SCHEMA_PATH}: ${errorReason(error)}`))
  process.stdout.write(`wrote ${PUBLISHED_SCHEMA_PATH}\n`)
}
