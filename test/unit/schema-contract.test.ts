/**
 * The versioning policy (src/graphql/schema-contract.ts): the checker on small synthetic schemas, and the
 * real schema against the published contract (docs/schema.published.graphql, `npm run schema:publish`).
 */
import { readFile } from 'node:fs/promises'
import { buildSchema } from 'graphql'
import { describe, expect, it } from 'vitest'
import { checkSchemaEvolution, deprecationsOf, removalDateOf } from '../../src/graphql/schema-contract.ts'
import { printSchemaSDL } from '../../src/graphql/schema.ts'

const TODAY = new Date('2026-06-15T10:00:00Z')

/** A small schema: `extra` goes into `Query`, `types` after it. */
const sdl = (extra: string, types = '') => buildSchema(`type Query {\n  me: User\n${extra}\n}\ntype User { id: ID! }\nenum Circle { INNER CLOSE }\n${types}`)
const check = (published: string, current: string, today = TODAY, types: [string, string] = ['', '']) =>
  checkSchemaEvolution(sdl(published, types[0]), sdl(current, types[1]), today)
const rules = (violations: { rule: string }[]) => violations.map((violation) => violation.rule)

describe('the versioning checker', () => {
  it('lets additive changes through at any time', () => {
    expect(check('', '  circle: Circle\n  user(id: ID, name: String): User')).toEqual([])
  })

  it('refuses the removal of a field that was never deprecated', () => {
    const violations = check('  legacy: String', '')
    expect(violations).toEqual([expect.objectContaining({ coordinate: 'Query.legacy', rule: 'breaking-change' })])
    expect(violations[0]!.message).toMatch(/was not deprecated/)
  })

  it('allows the removal once the published removal date has passed (or is today)', () => {
    const deprecated = '  legacy: String @deprecated(reason: "Use `me`. Removal on or after 2026-06-15.")'
    expect(check(deprecated, '')).toEqual([])
    expect(check(deprecated, '', new Date('2026-09-01T00:00:00Z'))).toEqual([])
  })

  it('refuses the removal before the date', () => {
    const deprecated = '  legacy: String @deprecated(reason: "Use `me`. Removal on or after 2026-06-16.")'
    const violations = check(deprecated, '')
    expect(rules(violations)).toEqual(['breaking-change'])
    expect(violations[0]!.message).toMatch(/2026-06-16 has not come \(today is 2026-06-15\)/)
  })

  it('refuses the removal when the published deprecation names no date', () => {
    expect(check('  legacy: String @deprecated(reason: "Use me")', '')[0]!.message).toMatch(/names no removal date/)
  })

  it('judges an argument, an enum value and a type change the same way', () => {
    const due = 'Removal on or after 2026-01-01'
    expect(check(`  find(id: ID, old: String @deprecated(reason: "${due}")): User`, '  find(id: ID): User')).toEqual([])
    expect(rules(check('  find(id: ID, old: String): User', '  find(id: ID): User'))).toEqual(['breaking-change'])
    expect(check(`  legacy: String @deprecated(reason: "${due}")`, '  legacy: Int @deprecated(reason: "Removal on or after 2026-01-01")')).toEqual([])
    expect(rules(check('  legacy: String', '  legacy: Int'))).toEqual(['breaking-change'])
    expect(check('', '', TODAY, [`enum Kind { A B @deprecated(reason: "${due}") }\nextend type Query { kind: Kind }`, 'enum Kind { A }\nextend type Query { kind: Kind }'])).toEqual([])
    expect(rules(check('', '', TODAY, ['enum Kind { A B }\nextend type Query { kind: Kind }', 'enum Kind { A }\nextend type Query { kind: Kind }']))).toEqual(['breaking-change'])
  })

  it('lets a type go once every field naming it could go, not before', () => {
    const withOld = (reason: string) => [`type Old { id: ID }\nextend type Query { old: Old ${reason} }`, ''] as [string, string]
    expect(check('', '', TODAY, withOld('@deprecated(reason: "Removal on or after 2026-01-01")'))).toEqual([])
    // The field alone would be refused, and so is its type.
    expect(check('', '', TODAY, withOld('')).map((violation) => violation.coordinate).sort()).toEqual(['Old', 'Query.old'])
  })

  it('refuses breaking changes no deprecation can announce (a required argument on a live field)', () => {
    expect(rules(check('  find(id: ID): User', '  find(id: ID, name: String!): User'))).toEqual(['breaking-change'])
  })

  it('wants a removal date on every deprecation, 90 days out when new, never moved earlier', () => {
    expect(rules(check('', '  legacy: String @deprecated(reason: "Use me")'))).toEqual(['missing-removal-date'])
    expect(rules(check('', '  legacy: String @deprecated'))).toEqual(['missing-removal-date'])
    expect(rules(check('', '  legacy: String @deprecated(reason: "Removal on or after 2026-02-30")'))).toEqual(['missing-removal-date'])
    expect(rules(check('  legacy: String', '  legacy: String @deprecated(reason: "Removal on or after 2026-09-12")'))).toEqual(['short-notice'])
    expect(check('  legacy: String', '  legacy: String @deprecated(reason: "Removal on or after 2026-09-13")')).toEqual([])
    const published = '  legacy: String @deprecated(reason: "Removal on or after 2026-07-01")'
    // Once published, its date stands even if less than 90 days remain.
    expect(check(published, published)).toEqual([])
    expect(check(published, '  legacy: String @deprecated(reason: "Removal on or after 2026-12-01")')).toEqual([])
    expect(rules(check(published, '  legacy: String @deprecated(reason: "Removal on or after 2026-06-30")'))).toEqual(['removal-date-moved-earlier'])
  })

  it('reads the removal date of a reason', () => {
    expect(removalDateOf('Use `name`. Removal on or after 2027-01-31.')).toBe('2027-01-31')
    expect(removalDateOf('Removal on or after 2027-13-01')).toBeUndefined()
    expect(removalDateOf(null)).toBeUndefined()
  })
})

it('the schema keeps the published contract (docs/schema.published.graphql; see docs/partners.md, "Versioning and deprecation")', async () => {
  const published = buildSchema(await readFile(new URL('../../docs/schema.published.graphql', import.meta.url), 'utf8'))
  const current = buildSchema(printSchemaSDL())
  const violations = checkSchemaEvolution(published, current, new Date())
  expect(violations.map((violation) => violation.message)).toEqual([])
  // A deprecation is published in the change that makes it (its 90 days of notice are checked that day, by
  // schema:publish and by the line above): otherwise this test would start failing on a later day by itself.
  expect(deprecationsOf(current), 'run `npm run schema:publish` in the change that deprecates').toEqual(deprecationsOf(published))
})
