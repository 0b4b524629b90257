// `node bench/cpu-profile-categories.mjs <file.cpuprofile> [--json]`: attributes a V8 CPU profile (node --cpu-prof)
// of a server under `npm run bench:load` to the categories of a walk's cost (bench/README.md, "Where a walk's time goes").
import { readFileSync } from 'node:fs'
const prof = JSON.parse(readFileSync(process.argv[2], 'utf8'))
const byId = new Map(prof.nodes.map((n) => [n.id, n]))
const parent = new Map()
for (const n of prof.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
const time = new Map()
for (let i = 0; i < prof.samples.length; i++) time.set(prof.samples[i], (time.get(prof.samples[i]) ?? 0) + (prof.timeDeltas[i] ?? 0))
const leafRules = [
  [/^\(garbage collector\)/, 'garbage collection'],
  [/^\(idle\)/, 'idle'],
  [/^\(program\)|^runMicrotasks/, 'V8/runtime (program, microtasks)'],
  [/node_modules\/(pg|pg-protocol|pg-pool|pg-types|postgres-array|pg-connection-string|@prisma\/adapter-pg|pglite-prisma-adapter)\//, 'statement: driver (pg wire, row parsing)'],
  [/node_modules\/@prisma\/client|^wasm:|@prisma\/client/, 'Prisma client (query building, result mapping, wasm)'],
  [/src\/generated\//, 'Prisma client (query building, result mapping, wasm)'],
  [/node_modules\/(ws|graphql-ws)\//, 'graphql-ws framing'],
  [/node_modules\/(@graphql-tools|graphql|@pothos|@envelop|graphql-yoga|@graphql-yoga|@whatwg-node|@repeaterjs)\//, 'GraphQL execution and serialization'],
  [/src\/suggestions\/(priority|reason|ranking|threshold-merge)\.ts/, 'scoring and the merge'],
  [/src\/(suggestions\/slot-fitting|calendar\/|suggestions\/wall-clock)|node_modules\/luxon/, 'slot fitting and free time'],
  [/src\/suggestions\/admission/, 'admission'],
  [/node_modules\/prom-client|src\/metrics|src\/memory/, 'metrics and memory monitor'],
  [/node_modules\/pino|src\/logger/, 'logging'],
  [/src\/cursors|node:internal\/crypto/, 'cursors (HMAC, canonical JSON)'],
  [/node_modules\/zod/, 'validation (zod)'],
  [/src\/suggestions\//, 'engine shell (generator, live, sharing)'],
  [/src\/contacts\//, 'statement: keyset reader (our code)'],
]
const name = (n) => `${n.callFrame.functionName}@${n.callFrame.url}`
const categoryOf = (id) => {
  // Walk up: module loading and socket writes are told by their callers.
  const chain = []
  for (let p = id; p !== undefined; p = parent.get(p)) chain.push(name(byId.get(p)))
  const joined = chain.join(' < ')
  if (/compileSourceTextModule|esm\/hooks|esm\/loader|cjs\/loader|esm\/translators|module_job/.test(joined)) return 'module loading (tsx at run time)'
  if (/src\/graphql\/types\/suggestion\.ts/.test(joined) && /@prisma|node_modules\/pg/.test(chain[0])) return "resolving each suggestion's Contact"
  const leaf = chain[0]
  if (/^(writev|writeUtf8String|writeBuffer)@/.test(leaf) || /stream_base_commons|internal\/streams|node:net/.test(leaf)) {
    if (/node_modules\/(pg|pg-protocol)\//.test(joined)) return 'statement: driver (pg wire, row parsing)'
    if (/node_modules\/ws\//.test(joined)) return 'graphql-ws framing'
    if (/pino|logger/.test(joined)) return 'logging'
    return 'other socket I/O'
  }
  for (const [rule, category] of leafRules) if (rule.test(leaf)) return category
  for (const link of chain.slice(1)) for (const [rule, category] of leafRules.slice(3)) if (rule.test(link)) return category
  return 'other'
}
const totals = new Map()
let all = 0
for (const [id, us] of time) {
  const category = categoryOf(id)
  totals.set(category, (totals.get(category) ?? 0) + us)
  all += us
}
const rows = [...totals].sort((a, b) => b[1] - a[1])
if (process.argv.includes('--json')) process.stdout.write(JSON.stringify(Object.fromEntries(rows.map(([c, us]) => [c, Math.round(us / 1000)]))) + '\n')
else for (const [c, us] of rows) process.stdout.write(`${(us / 1000).toFixed(0).padStart(7)} ms ${((100 * us) / all).toFixed(1).padStart(5)}%  ${c}` + '\n')
