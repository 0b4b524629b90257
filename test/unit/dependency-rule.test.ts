/**
 * The rules that keep imports pointing down (eslint.config.js,
 * `import-x/no-restricted-paths`) and free of loops (`import-x/no-cycle`):
 * each zone refuses a deliberately wrong import, an import that closes a loop
 * through the real tree is refused, and the right direction passes. The plugin's
 * no-cycle skips type-only imports, so the last test walks src's import graph
 * itself (type imports included) and finds no loop.
 * `npm run lint` enforces them on the real tree; this shows they are armed.
 */
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { ESLint } from 'eslint'
import ts from 'typescript'
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

  it('refuses pure code importing a domain module that reads the database (an allow list, not a list of folders)', async () => {
    expect(await violations('src/suggestions/ranking.ts', "import { loadSuggestionState } from './suggestion-status.ts'\nexport const probe = loadSuggestionState\n")).toEqual([
      expect.stringContaining('Pure code'),
    ])
    expect(await violations('src/suggestions/slot-fitting.ts', "import { loadFreeSlots } from '../calendar/load-free-slots.ts'\nexport const probe = loadFreeSlots\n")).toEqual([
      expect.stringContaining('Pure code'),
    ])
    expect(await violations('src/metrics/metrics.ts', "import { createChangeAnnouncer } from '../changes/announce.ts'\nexport const probe = createChangeAnnouncer\n")).toEqual([
      expect.stringContaining('Pure code'),
    ])
  })

  it('lets pure code import what it needs: other pure code, time constants, Prisma enums, memory/', async () => {
    const allowed =
      "import { cadenceDays } from '../contacts/cadence.ts'\nimport { DAY_MS } from '../time.ts'\nimport type { DunbarCircle } from '../generated/prisma/enums.ts'\n" +
      "import { ClientError } from '../errors.ts'\nimport { compareRanked } from './ranking.ts'\n" +
      'export const probe = [cadenceDays, DAY_MS, ClientError, compareRanked]\nexport type Probe = DunbarCircle\n'
    expect(await violations('src/suggestions/priority.ts', allowed)).toEqual([])
    expect(await violations('src/metrics/metrics.ts', "import { readProcessHeap } from '../memory/memory-monitor.ts'\nexport const probe = readProcessHeap\n")).toEqual([])
  })

  it('refuses pure code importing the clock (time.ts has only constants; the clock is clock.ts)', async () => {
    expect(await violations('src/suggestions/priority.ts', "import { systemClock } from '../clock.ts'\nexport const probe = () => systemClock.now()\n")).toEqual([
      expect.stringContaining('Pure code'),
    ])
    expect(await violations('src/seed/contacts.ts', "import type { Clock } from '../clock.ts'\nexport type Probe = Clock\n")).toEqual([expect.stringContaining('Pure code')])
  })

  it('refuses a leaf (time, clock, errors, logger, config) importing anything from src but another leaf', async () => {
    expect(await violations('src/errors.ts', "import { openDatabase } from './db/database.ts'\nexport const probe = openDatabase\n")).toEqual([
      expect.stringContaining('are leaves'),
    ])
    expect(await violations('src/config.ts', "import { useRequestLimits } from './graphql/limits/index.ts'\nexport const probe = useRequestLimits\n")).toEqual([
      expect.stringContaining('are leaves'),
    ])
    expect(await violations('src/time.ts', "import { corsPolicy } from './http/cors.ts'\nexport const probe = corsPolicy\n")).toEqual([
      expect.stringContaining('are leaves'),
    ])
    expect(await violations('src/logger.ts', "import type { LogLevel } from './config.ts'\nexport type Probe = LogLevel\n")).toEqual([])
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
    expect(await clock('src/suggestions/ranking.ts', 'export const probe = () => performance.now()\n')).toEqual([expect.stringContaining('Pure code reads no clock')])
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

  it('no-cycle lets a module import what does not lead back to it, and does not see type-only imports (the graph test below does)', async () => {
    expect(await cycles('src/contacts/probe.ts', "import { createContact } from './contact-writes.ts'\nexport const probe = createContact\n")).toEqual([])
    expect(await cycles('src/jobs/job-work.ts', "import type { Jobs } from './jobs.ts'\nexport type Probe = Jobs\n")).toEqual([])
  })

  it('src has no import loop, counting type-only imports (which import-x/no-cycle skips)', () => {
    const graph = importGraph('src')
    expect(Object.keys(graph).length).toBeGreaterThan(100)
    expect(loops(graph)).toEqual([])
    // Armed: the type import that once closed a loop of nine files (jobs, the engine, the status module, announce).
    const probe = { ...graph, 'src/changes/announce.ts': [...graph['src/changes/announce.ts']!, 'src/jobs/jobs.ts'] }
    expect(loops(probe)).toEqual([expect.arrayContaining(['src/changes/announce.ts', 'src/jobs/jobs.ts', 'src/suggestions/generator.ts'])])
  })
})

/** Every .ts file under `root` (src/generated aside) and the src files it imports, `import type` and `export ... from` included. */
function importGraph(root: string): Record<string, string[]> {
  const files = readdirSync(root, { recursive: true, encoding: 'utf8' })
    .map((file) => join(root, file))
    .filter((file) => file.endsWith('.ts') && !file.startsWith(join(root, 'generated')))
  const known = new Set(files)
  const graph: Record<string, string[]> = {}
  for (const file of files) {
    const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true)
    graph[file] = importedFiles
      .map(({ fileName }) => fileName)
      .filter((name) => name.startsWith('.'))
      .map((name) => relative('.', resolve(dirname(file), name)))
      .filter((target) => known.has(target))
  }
  return graph
}

/** The loops of `graph`: its strongly connected components of more than one file (Tarjan), each sorted. */
function loops(graph: Record<string, string[]>): string[][] {
  let next = 0
  const index = new Map<string, number>()
  const low = new Map<string, number>()
  const stack: string[] = []
  const onStack = new Set<string>()
  const found: string[][] = []
  const visit = (file: string) => {
    index.set(file, next)
    low.set(file, next++)
    stack.push(file)
    onStack.add(file)
    for (const target of graph[file] ?? []) {
      if (!index.has(target)) {
        visit(target)
        low.set(file, Math.min(low.get(file)!, low.get(target)!))
      } else if (onStack.has(target)) low.set(file, Math.min(low.get(file)!, index.get(target)!))
    }
    if (low.get(file) === index.get(file)) {
      const component: string[] = []
      let member: string
      do {
        member = stack.pop()!
        onStack.delete(member)
        component.push(member)
      } while (member !== file)
      if (component.length > 1) found.push(component.sort())
    }
  }
  for (const file of Object.keys(graph)) if (!index.has(file)) visit(file)
  return found
}
