/**
 * gql.tada bound to the server's printed schema (`schema.graphql`, introspected into
 * `graphql-env.d.ts` by `npx gql-tada generate output -c web/tsconfig.json`).
 * Fragment masking is off: the app is small and reads fragments' fields directly.
 */
import { initGraphQLTada } from 'gql.tada'
import type { introspection } from './graphql-env.d.ts'

export const graphql = initGraphQLTada<{
  introspection: introspection
  disableMasking: true
  scalars: { DateTime: string; JSON: unknown }
}>()

export type { FragmentOf, ResultOf, VariablesOf } from 'gql.tada'
