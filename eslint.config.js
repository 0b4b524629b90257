import js from '@eslint/js'
import { createNodeResolver, importX } from 'eslint-plugin-import-x'
import tseslint from 'typescript-eslint'

/** The domain: below the GraphQL layer, above the database. */
const DOMAIN = ['auth', 'calendar', 'changes', 'contacts', 'cursors', 'groups', 'jobs', 'pubsub', 'suggestions', 'seed', 'quotas.ts', 'validation.ts'].map((path) => `./src/${path}`)
/** Pure code: no database, no GraphQL, no clock (`now` is passed in). */
const PURE = [
  ...['priority.ts', 'reason.ts', 'ranking.ts', 'slot-fitting.ts', 'threshold-merge.ts', 'wall-clock.ts'].map((file) => `./src/suggestions/${file}`),
  './src/contacts/cadence.ts',
  './src/calendar/free-slots.ts',
  // The deterministic generator of demo and bench data (seed.ts and bulk-insert.ts write it).
  ...['generate.ts', 'random.ts', 'vocabulary.ts', 'users.ts', 'dunbar.ts', 'contacts.ts', 'calendar.ts', 'rows.ts'].map((file) => `./src/seed/${file}`),
]

export default tseslint.config(
  { ignores: ['node_modules/', 'src/generated/', '.data/', 'scratch/', 'coverage/', 'web/dist/'] },
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
      // Type-only imports are erased at run time and do not count; a value import that closes a loop fails.
      'import-x/no-cycle': ['error', { ignoreExternal: true }],
      'import-x/no-restricted-paths': [
        'error',
        {
          zones: [
            {
              target: './src/db',
              from: './src',
              except: ['./db', './generated', './errors.ts', './logger.ts', './config.ts'],
              message: 'db/ is the bottom layer: it imports no domain, GraphQL or HTTP code (seeding lives in src/seed/).',
            },
            {
              target: DOMAIN,
              from: ['./src/graphql', './src/http', './src/app.ts', './src/main.ts', './src/cli'],
              message: 'Domain code does not import the GraphQL or HTTP layers: they call it, not the other way round.',
            },
            {
              target: [...PURE, './src/memory', './src/metrics'],
              from: ['./src/db', './src/graphql', './src/http', './src/generated/prisma/client.ts', './src/jobs', './src/pubsub', './src/contacts/keyset'],
              message: 'Pure code (scoring, the threshold merge, slot fitting, memory, metrics) imports no database, GraphQL or I/O layer.',
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
)
