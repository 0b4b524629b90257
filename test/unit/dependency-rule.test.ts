/**
 * The rule that keeps imports pointing down (eslint.config.js,
 * `import-x/no-restricted-paths`): each zone refuses a deliberately wrong
 * import, and the right direction passes. `npm run lint` enforces it on the
 * real tree; this shows it is armed.
 */
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

const eslint = new ESLint()

async function violations(filePath: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath })
  return result!.messages.filter((message) => message.ruleId === 'import-x/no-restricted-paths').map((message) => message.message)
}

describe('the dependency rule', () => {
  it('refuses db/ importing the domain', async () => {
    expect(await violations('src/db/probe.ts', "import { computeNextDueAt } from '../contacts/cadence.ts'\nexport const probe = computeNextDueAt\n")).toEqual([
      expect.stringContaining('db/ is the bottom layer'),
    ])
  })

  it('refuses the domain importing the GraphQL layer', async () => {
    expect(await violations('src/contacts/probe.ts', "import { builder } from '../graphql/builder.ts'\nexport const probe = builder\n")).toEqual([
      expect.stringContaining('Domain code does not import the GraphQL or HTTP layers'),
    ])
  })

  it('refuses pure scoring importing the database', async () => {
    expect(await violations('src/suggestions/priority.ts', "import { openDatabase } from '../db/database.ts'\nexport const probe = openDatabase\n")).toEqual([
      expect.stringContaining('Pure code'),
    ])
  })

  it('refuses the threshold merge importing the database or the page readers', async () => {
    expect(
      await violations('src/suggestions/threshold-merge.ts', "import type { PrismaClient } from '../generated/prisma/client.ts'\nexport type Probe = PrismaClient\n"),
    ).toEqual([expect.stringContaining('Pure code')])
    expect(await violations('src/suggestions/threshold-merge.ts', "import { streamMinimalContacts } from '../contacts/keyset/contact-streams.ts'\nexport const probe = streamMinimalContacts\n")).toEqual([
      expect.stringContaining('Pure code'),
    ])
  })

  it('lets imports point down', async () => {
    expect(await violations('src/graphql/probe.ts', "import { computeNextDueAt } from '../contacts/cadence.ts'\nexport const probe = computeNextDueAt\n")).toEqual([])
    expect(await violations('src/contacts/probe.ts', "import { openDatabase } from '../db/database.ts'\nexport const probe = openDatabase\n")).toEqual([])
  })
})
