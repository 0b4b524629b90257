import js from '@eslint/js'
import { createNodeResolver, importX } from 'eslint-plugin-import-x'
import tseslint from 'typescript-eslint'

/** The domain: below the GraphQL layer, above the database. */
const DOMAIN = ['accounts', 'auth', 'oauth', 'calendar', 'changes', 'contacts', 'cursors', 'dav', 'exports', 'groups', 'imports', 'jobs', 'net', 'pubsub', 'suggestions', 'seed', 'sync', 'quotas.ts', 'validation.ts'].map((path) => `./src/${path}`)
/** Pure code: no database, no GraphQL, no clock (`now` is passed in). */
const PURE = [
  ...['priority.ts', 'reason.ts', 'ranking.ts', 'slot-fitting.ts', 'threshold-merge.ts', 'wall-clock.ts'].map((file) => `./src/suggestions/${file}`),
  './src/contacts/cadence.ts',
  './src/contacts/match-keys.ts',
  // The synced fields of a vCard and the write-back's 3-way decision (the sync itself is not pure).
  './src/sync/card-fields.ts',
  './src/calendar/free-slots.ts',
  // Calendar imports: content lines, iCalendar times, series expansion (the reader and the writes are not pure).
  ...['ics-lines.ts', 'ics-time.ts', 'expand-series.ts'].map((file) => `./src/imports/calendar/${file}`),
  // The export writers: rows in, vCard / CSV / iCalendar text out.
  ...['content-lines.ts', 'vcard.ts', 'google-csv.ts', 'icalendar.ts'].map((file) => `./src/exports/${file}`),
  // The deterministic generator of demo and bench data (seed.ts and bulk-insert.ts write it).
  ...['generate.ts', 'random.ts', 'vocabulary.ts', 'users.ts', 'dunbar.ts', 'contacts.ts', 'calendar.ts', 'rows.ts'].map((file) => `./src/seed/${file}`),
]
/**
 * All that pure code (and memory/, metrics/) may import from src: an allow list, so a new module
 * that reads the database, the clock or the network is refused without being named here. Paths
 * relative to ./src: the other pure files, time.ts's constants (the clock is clock.ts), the error
 * type, Prisma's enums (not its client), and memory/ (metrics reads the heap through it).
 */
const PURE_MAY_IMPORT = [...PURE.map((path) => path.replace(/^\.\/src\//, './')), './time.ts', './errors.ts', './generated/prisma/enums.ts', './memory']
/** Leaves: everything may import them, so they import nothing from src but each other. */
const LEAVES = ['time.ts', 'clock.ts', 'errors.ts', 'logger.ts', 'config.ts', 'project-root.ts']

export default tseslint.config(
  { ignores: ['node_modules/', 'src/generated/', '.data/', 'scratch/', 'coverage/', 'web/dist/', 'dist/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { globals: { process: 'readonly', Buffer: 'readonly', URL: 'readonly' } },
    rules: {
      'no-console': 'error',
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    // The arrows point down: graphql -> domain -> db. An import that points up fails `npm run lint`
    // with the message of the zone it breaks; an import that closes a loop fails with import-x/no-cycle.
    files: ['src/**/*.ts'],
    plugins: { 'import-x': importX },
    settings: {
      // Imports name their `.ts` file, so the node resolver finds it; no-cycle then parses the modules an
      // import leads to only for these extensions (without this setting it silently sees no cycle).
      'import-x/extensions': ['.ts'],
      'import-x/parsers': { '@typescript-eslint/parser': ['.ts'] },
      'import-x/resolver-next': [createNodeResolver()],
    },
    rules: {
      // A value import that closes a loop fails. The plugin cannot count type-only imports (it skips
      // them); test/unit/dependency-rule.test.ts checks that src has no loop even counting them.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './src/db',
              from: './src',
              except: ['./db', './generated', './errors.ts', './logger.ts', './config.ts', './project-root.ts'],
              message: 'db/ is the bottom layer: it imports no domain, GraphQL or HTTP code (seeding lives in src/seed/).',
            },
            {
              target: DOMAIN,
              from: ['./src/graphql', './src/http', './src/app.ts', './src/main.ts', './src/cli'],
              message: 'Domain code does not import the GraphQL or HTTP layers: they call it, not the other way round.',
            },
            {
              target: [...PURE, './src/memory', './src/metrics'],
              from: './src',
              except: PURE_MAY_IMPORT,
              message:
                "Pure code (scoring, the threshold merge, slot fitting, cadence, free slots, the seed generator, memory, metrics) imports only other pure code, time.ts's constants, errors.ts and Prisma's enums: no database, GraphQL, I/O or clock (eslint.config.js, PURE_MAY_IMPORT).",
            },
            {
              target: LEAVES.map((file) => `./src/${file}`),
              from: './src',
              except: LEAVES.map((file) => `./${file}`),
              message: `${LEAVES.join(', ')} are leaves that everything imports: they import nothing from src but each other (move a constant they need down into them).`,
            },
          ],
        },
      ],
    },
  },
  {
    // Pure code reads no clock: `now` is a parameter, so its tests need no fake timers.
    files: PURE.map((path) => path.replace(/^\.\//, '')),
    rules: {
      'no-restricted-syntax': [
        'error',
        { selector: "NewExpression[callee.name='Date'][arguments.length=0]", message: 'Pure code reads no clock: take `now` as a parameter.' },
        { selector: "CallExpression[callee.object.name='Date'][callee.property.name='now']", message: 'Pure code reads no clock: take `now` as a parameter.' },
        { selector: "CallExpression[callee.object.name='performance'][callee.property.name='now']", message: 'Pure code reads no clock: take `now` as a parameter.' },
      ],
    },
  },
  {
    files: ['web/src/**', 'web/test/**'],
    languageOptions: { globals: { window: 'readonly', document: 'readonly', navigator: 'readonly', localStorage: 'readonly', setTimeout: 'readonly', clearTimeout: 'readonly' } },
  },
  {
    files: ['scripts/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly' } },
  },
  {
    // Programs for partners to copy (docs/partners.md): they talk to a person on the console.
    files: ['examples/**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', fetch: 'readonly', Buffer: 'readonly', URLSearchParams: 'readonly' } },
    rules: { 'no-console': 'off' },
  },
)
