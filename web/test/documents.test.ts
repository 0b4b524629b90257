// @vitest-environment node
/**
 * The documents the app sends still match the server's schema: every one validates
 * against `schema.graphql`, and the introspection types gql.tada checks them with
 * (`src/graphql-env.d.ts`) are generated from the schema as it is now.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { generateOutput } from '@gql.tada/cli-utils'
import { stringifyDocument } from '@urql/core'
import { buildSchema, parse, validate } from 'graphql'
import { describe, expect, it } from 'vitest'
import { allDocuments } from '../src/api/documents.ts'

const webDir = new URL('..', import.meta.url).pathname
const schema = buildSchema(readFileSync(join(webDir, '../schema.graphql'), 'utf8'))

describe('GraphQL documents', () => {
  for (const [name, document] of Object.entries(allDocuments)) {
    it(`${name} is valid against schema.graphql`, () => {
      const errors = validate(schema, parse(stringifyDocument(document)))
      expect(errors.map((error) => error.message)).toEqual([])
    })
  }

  it('src/graphql-env.d.ts is generated from the current schema.graphql (npx gql-tada generate output -c web/tsconfig.json)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gql-tada-'))
    try {
      const output = join(dir, 'graphql-env.d.ts')
      await generateOutput({ output, tsconfig: join(webDir, 'tsconfig.json'), silent: true })
      expect(readFileSync(join(webDir, 'src/graphql-env.d.ts'), 'utf8')).toBe(readFileSync(output, 'utf8'))
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }, 30_000)
})
