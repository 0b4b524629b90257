/**
 * Imports: the Import node (owner-scoped), `import(id)`, `imports(first, after)` and an import's
 * `errors(first, after)` (keyset pages with signed cursors), the `importProgress(id)`
 * subscription, and `importContacts(file)` / `importCalendar(file)`, whose `File` was streamed
 * into storage by the upload plugin before execution (graphql/upload-plugin.ts).
 */
import { GraphQLError } from 'graphql'
import type { Import } from '../../generated/prisma/client.ts'
import { badUserInput, notFound } from '../../errors.ts'
import { DEFAULT_IMPORTS_PAGE, findImport, importProgressStream, listImportErrors, listImports, MAX_IMPORTS_PAGE } from '../../imports/import-queries.ts'
import { builder } from '../builder.ts'
import { connectionOf, pageComplexity } from '../connection.ts'
import { viewerOf, type AuthenticatedContext } from '../context.ts'
import { StagedUpload } from '../staged-upload.ts'
import { ImportStatusEnum } from './enums.ts'

builder.scalarType('File', {
  description:
    'A file sent with the GraphQL multipart request spec (https://github.com/jaydenseric/graphql-multipart-request-spec): `operations`, then `map`, then the file part. Only as a variable of a multipart request.',
  serialize: () => {
    throw new GraphQLError('File is an input type')
  },
  parseValue: (value) => {
    if (value instanceof StagedUpload) return value
    throw new GraphQLError('Send the file as a multipart request (operations, map, then the file), not as a JSON value')
  },
  parseLiteral: () => {
    throw new GraphQLError('Send the file as a multipart request variable, not as a literal')
  },
})

const ImportErrorType = builder.prismaObject('ImportError', {
  description: 'A rejected record of an import.',
  fields: (t) => ({
    position: t.exposeInt('position', { description: 'The card or event number (1-based), or the line a CSV row starts on' }),
    field: t.exposeString('field', { nullable: true }),
    reason: t.exposeString('reason'),
    raw: t.exposeString('raw', { nullable: true, description: "The record's text (at most 2 KiB)" }),
  }),
})

/** Cost of a page: `first` times its selection. */
const pageCost = pageComplexity(DEFAULT_IMPORTS_PAGE, MAX_IMPORTS_PAGE)

const ImportErrorConnection = builder.connectionObject({ type: ImportErrorType, name: 'ImportErrorConnection' })

export const ImportNode = builder.prismaNode('Import', {
  description: 'An import of a contacts or calendar file: its status, counts and rejected records.',
  id: { field: 'id' },
  nullable: true,
  findUnique: (id, context) => ({ id, userId: viewerOf(context) }),
  fields: (t) => ({
    status: t.expose('status', { type: ImportStatusEnum }),
    format: t.exposeString('format', { description: 'vcard, csv, csv-google, csv-outlook or ics' }),
    total: t.exposeInt('total', { nullable: true, description: 'Records in the file, when known (once it finished)' }),
    done: t.exposeInt('done', { description: 'Records read so far (imported and rejected)' }),
    created: t.exposeInt('created'),
    updated: t.exposeInt('updated'),
    unchanged: t.exposeInt('unchanged'),
    rejected: t.exposeInt('rejected'),
    errors: t.field({
      type: ImportErrorConnection,
      description: 'The rejected records, in file order (the first 10,000 of an import are kept).',
      complexity: pageCost,
      args: { first: t.arg.int({ defaultValue: DEFAULT_IMPORTS_PAGE, description: `1..${MAX_IMPORTS_PAGE}` }), after: t.arg.string() },
      // The parent Import was loaded with its owner in the where: its errors are the viewer's.
      resolve: async (row, args, context) => connectionOf(await listImportErrors(context.prisma, row.id, args.first ?? DEFAULT_IMPORTS_PAGE, args.after), args.after),
    }),
    error: t.exposeString('error', { nullable: true, description: 'Why it failed' }),
    createdAt: t.expose('createdAt', { type: 'DateTime' }),
    startedAt: t.expose('startedAt', { type: 'DateTime', nullable: true }),
    finishedAt: t.expose('finishedAt', { type: 'DateTime', nullable: true }),
  }),
})

const ImportConnection = builder.connectionObject({ type: ImportNode, name: 'ImportConnection' })

builder.queryFields((t) => {
  // No imports:read: the credential that imports follows its imports with the same scope.
  const authenticated = t.withAuth({ scope: 'imports:write' })
  return {
    import: authenticated.field({
      type: ImportNode,
      nullable: true,
      description: "One of the viewer's imports; another user's or an unknown id: NOT_FOUND.",
      args: { id: t.arg.globalID({ required: true, for: ImportNode }) },
      resolve: async (_root, { id }, context) => {
        const row = await findImport(context.prisma, context.userId, id.id)
        if (!row) throw notFound('import')
        return row
      },
    }),
    imports: authenticated.field({
      type: ImportConnection,
      nullable: true,
      description: "The viewer's imports, newest first.",
      complexity: pageCost,
      args: { first: t.arg.int({ defaultValue: DEFAULT_IMPORTS_PAGE, description: `1..${MAX_IMPORTS_PAGE}` }), after: t.arg.string() },
      resolve: async (_root, args, context) => connectionOf(await listImports(context.prisma, context.userId, args.first ?? DEFAULT_IMPORTS_PAGE, args.after), args.after),
    }),
  }
})

builder.subscriptionField('importProgress', (t) =>
  t.withAuth({ scope: 'imports:write' }).field({
    type: ImportNode,
    description: "The import now, then after each batch; ends once it SUCCEEDED or FAILED. Another user's or an unknown id: NOT_FOUND.",
    args: { id: t.arg.globalID({ required: true, for: ImportNode }) },
    subscribe: (_root, { id }, context) => importProgressStream(context.prisma, context.pubsub, context.userId, id.id),
    resolve: (row: Import) => row,
  }),
)

/** Takes the staged upload of this request for an import of `kind`, queues its job, answers the Import. */
async function startImport(context: AuthenticatedContext, file: StagedUpload, kind: StagedUpload['kind']): Promise<Import> {
  if (file.userId !== context.userId || file.kind !== kind || file.claimed) throw badUserInput('this file was sent for another import', 'file')
  file.claimed = true
  await context.imports.enqueue(file.importId).catch((error: unknown) => context.logger.warn({ err: error, importId: file.importId }, 'import not queued; the next start resumes it'))
  const row = await findImport(context.prisma, context.userId, file.importId)
  if (!row) throw notFound('import')
  return row
}

builder.mutationFields((t) => {
  const authenticated = t.withAuth({ scope: 'imports:write' })
  return {
    importContacts: authenticated.field({
      type: ImportNode,
      description: 'Imports a vCard (3.0, 4.0) or CSV (Google, Outlook) file, sent as a multipart request. Answers at once (QUEUED); follow it with importProgress.',
      args: { file: t.arg({ type: 'File', required: true }) },
      resolve: (_root, { file }, context) => startImport(context, file, 'CONTACTS'),
    }),
    importCalendar: authenticated.field({
      type: ImportNode,
      description: 'Imports an iCalendar (.ics) file as busy time, sent as a multipart request. Answers at once (QUEUED); follow it with importProgress.',
      args: { file: t.arg({ type: 'File', required: true }) },
      resolve: (_root, { file }, context) => startImport(context, file, 'CALENDAR'),
    }),
  }
})
