import { readFile } from 'node:fs/promises'
import { expect, it } from 'vitest'
import { printSchemaSDL } from '../../src/graphql/schema.ts'

it('schema.graphql is current (run `npm run schema:print` after changing the schema)', async () => {
  const committed = await readFile(new URL('../../schema.graphql', import.meta.url), 'utf8')
  expect(committed).toBe(printSchemaSDL())
})
