// @vitest-environment node
/**
 * `ApiError.code` knows every `extensions.code` the server sends: its `ClientErrorCode`
 * type (checked by `tsc -p web`), and every code literal put in `extensions` by the
 * GraphQL and HTTP layers (checked here by reading the server's sources).
 */
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, expectTypeOf, it } from 'vitest'
import type { ClientErrorCode } from '../../src/errors.ts'
import { SERVER_ERROR_CODES, type ServerErrorCode } from '../src/api/errors.ts'

const serverSrc = new URL('../../src/', import.meta.url).pathname

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return sources(path)
    return entry.name.endsWith('.ts') ? [path] : []
  })
}

describe('ApiError codes', () => {
  it("include the server's ClientErrorCode union", () => {
    expectTypeOf<ClientErrorCode>().toExtend<ServerErrorCode>()
    const union = readFileSync(join(serverSrc, 'errors.ts'), 'utf8').match(/export type ClientErrorCode =([^]*?)\n\n/)?.[1] ?? ''
    const codes = [...union.matchAll(/'([A-Z_]+)'/g)].map((match) => match[1])
    expect(codes.length).toBeGreaterThan(5)
    expect(SERVER_ERROR_CODES).toEqual(expect.arrayContaining(codes))
  })

  it('include every code the GraphQL and HTTP layers put in extensions', () => {
    const found = new Set<string>()
    for (const file of [...sources(join(serverSrc, 'graphql')), ...sources(join(serverSrc, 'http'))]) {
      for (const match of readFileSync(file, 'utf8').matchAll(/extensions: \{[^}]*?\bcode: '([A-Z_]+)'/g)) found.add(match[1]!)
    }
    expect(found.size).toBeGreaterThan(3)
    expect(SERVER_ERROR_CODES).toEqual(expect.arrayContaining([...found]))
  })
})
