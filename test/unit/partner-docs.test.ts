/**
 * The partner guide's scope table is the code's: every scope of src/auth/scopes.ts, in its order, with its
 * description (inline code marks aside), and nothing else, so a new scope cannot ship undocumented.
 */
import { readFile } from 'node:fs/promises'
import { expect, it } from 'vitest'
import { SCOPE_DESCRIPTIONS, SCOPES } from '../../src/auth/scopes.ts'

it('docs/partners.md lists every scope with its description, in order', async () => {
  const guide = await readFile(new URL('../../docs/partners.md', import.meta.url), 'utf8')
  const rows = [...guide.matchAll(/^\| `([a-z]+:[a-z]+)` \| (.+) \|$/gm)].map(([, scope, text]) => [scope, text!.replaceAll('`', '')])
  expect(rows).toEqual(SCOPES.map((scope) => [scope, SCOPE_DESCRIPTIONS[scope]]))
})
