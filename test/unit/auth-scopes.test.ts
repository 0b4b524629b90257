/**
 * Authentication is declared, not hand-written: every root field carries the
 * `authenticated` scope (@pothos/plugin-scope-auth), and an anonymous request is
 * refused before any resolver or subscribe body runs, with the same
 * UNAUTHENTICATED error as before the plugin. No database: the refusal comes first.
 */
import { parse, subscribe, graphql, type GraphQLObjectType } from 'graphql'
import { describe, expect, it } from 'vitest'
import { ClientError } from '../../src/errors.ts'
import { UNAUTHENTICATED_MESSAGE } from '../../src/graphql/context.ts'
import { schema } from '../../src/graphql/schema.ts'

const rootTypes = [schema.getQueryType(), schema.getMutationType(), schema.getSubscriptionType()] as GraphQLObjectType[]
const anonymous = { userId: null, prisma: new Proxy({}, { get: () => { throw new Error('the database was reached') } }) }

describe('the authenticated scope', () => {
  it.each(rootTypes.flatMap((type) => Object.values(type.getFields()).map((field) => [`${type.name}.${field.name}`, field] as const)))(
    '%s declares it',
    (_name, field) => {
      expect((field.extensions as { pothosOptions?: { authScopes?: unknown } }).pothosOptions?.authScopes).toEqual({ authenticated: true })
    },
  )

  it.each([
    ['a query', '{ me { email } }'],
    ['a node lookup', '{ node(id: "Q29udGFjdDowMDAwMDAwMC0wMDAwLTQwMDAtODAwMC0wMDAwMDAwMDAwMDA=") { id } }'],
    ['a mutation', 'mutation { createGroup(name: "Chess") { id } }'],
  ])('refuses %s from an anonymous request with UNAUTHENTICATED, before resolving', async (_label, source) => {
    const result = await graphql({ schema, source, contextValue: anonymous })
    const original = result.errors?.[0]?.originalError
    expect(original).toBeInstanceOf(ClientError)
    expect(original).toMatchObject({ code: 'UNAUTHENTICATED', message: UNAUTHENTICATED_MESSAGE })
  })

  it('refuses an anonymous subscription when it is created: no stream starts', async () => {
    const result = await subscribe({ schema, document: parse('subscription { suggestions { __typename } }'), contextValue: anonymous })
    expect(Symbol.asyncIterator in result).toBe(false)
    const original = (result as { errors?: { originalError?: unknown }[] }).errors?.[0]?.originalError
    expect(original).toMatchObject({ code: 'UNAUTHENTICATED', message: UNAUTHENTICATED_MESSAGE })
  })
})
