/**
 * The rules that keep imports pointing down (eslint.config.js,
 * `import-x/no-restricted-paths`) and free of loops (`import-x/no-cycle`):
 * each zone refuses a deliberately wrong import, an import that closes a loop
 * through the real tree is refused, and the right direction passes.
 * `npm run lint` enforces them on the real tree; this shows they are armed.
 */
import { ESLint } from 'eslint'
import { describe, expect, it } from 'vitest'

const eslint = new ESLint()

async function violations(filePath: string, code: string, rule = 'import-x/no-restricted-paths'): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath })
  return result!.messages.filter((message) => message.ruleId === rule).map((message) => message.message)
}

const cycles = (filePath: string, code: string) => violations(filePath, code, 'import-x/no-cycle')

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

  it('refuses pure code reading the clock, and lets it take `now`', async () => {
    const clock = (filePath: string, code: string) => violations(filePath, code, 'no-restricted-syntax')
    expect(await clock('src/suggestions/priority.ts', 'export const probe = () => Date.now()\n')).toEqual([expect.stringContaining('Pure code reads no clock')])
    expect(await clock('src/seed/contacts.ts', 'export const probe = () => new Date()\n')).toEqual([expect.stringContaining('Pure code reads no clock')])
    expect(await clock('src/suggestions/priority.ts', 'export const probe = (now: Date) => new Date(now.getTime() + 1)\n')).toEqual([])
  })

  it('lets imports point down', async () => {
    expect(await violations('src/graphql/probe.ts', "import { computeNextDueAt } from '../contacts/cadence.ts'\nexport const probe = computeNextDueAt\n")).toEqual([])
    expect(await violations('src/contacts/probe.ts', "import { openDatabase } from '../db/database.ts'\nexport const probe = openDatabase\n")).toEqual([])
  })

  it('refuses an import that closes a cycle, direct or through other modules', async () => {
    // validation.ts imports isValidTimeZone from free-slots.ts: free-slots.ts importing it back is a loop.
    expect(await cycles('src/calendar/free-slots.ts', "import { timeZone } from '../validation.ts'\nexport const probe = timeZone\n")).toEqual([
      expect.stringContaining('Dependency cycle'),
    ])
    // jobs.ts -> in-process-jobs.ts -> job-work.ts: job-work.ts importing jobs.ts closes a loop of three.
    expect(await cycles('src/jobs/job-work.ts', "import { createJobs } from './jobs.ts'\nexport const probe = createJobs\n")).toEqual([
      expect.stringContaining('Dependency cycle'),
    ])
  })

  it('lets a module import what does not lead back to it, and type-only imports (erased at run time)', async () => {
    expect(await cycles('src/contacts/probe.ts', "import { createContact } from './contact-writes.ts'\nexport const probe = createContact\n")).toEqual([])
    expect(await cycles('src/jobs/job-work.ts', "import type { Jobs } from './jobs.ts'\nexport type Probe = Jobs\n")).toEqual([])
  })
})
