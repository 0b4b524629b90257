/**
 * Trusted documents (issue 16, persisted operations): an app's developer registers the documents the app
 * sends (`registerTrustedDocuments`) and may set the app to run nothing else (`setTrustedDocumentsOnly`).
 * The developer's own session only, like `registerOAuthApp`. Thin resolvers over src/oauth/trusted-documents.ts;
 * the wire side is src/graphql/trusted-documents.ts.
 */
import { MAX_DOCUMENTS_PER_APP, MAX_DOCUMENTS_PER_CALL, registerTrustedDocuments, setTrustedDocumentsOnly } from '../../oauth/trusted-documents.ts'
import { builder } from '../builder.ts'
import { trustedDocumentChecks } from '../trusted-documents.ts'

builder.mutationField('registerTrustedDocuments', (t) =>
  t.withAuth({ session: true }).stringList({
    description: `Registers GraphQL documents as trusted documents of the viewer's app \`clientId\` and returns their ids, in order: the SHA-256 (lowercase hex) of each text as sent (UTF-8). The app's OAuth tokens may then send \`extensions: { persistedQuery: { version: 1, sha256Hash: "<id>" } }\` or \`documentId: "sha256:<id>"\` instead of the text. Each document must parse and validate against this schema within the request limits (BAD_USER_INPUT naming \`documents.<i>\`); ${MAX_DOCUMENTS_PER_CALL} a call, ${MAX_DOCUMENTS_PER_APP} an app (QUOTA_EXCEEDED). Registering a text again changes nothing. Another developer's or an unknown app: NOT_FOUND.`,
    args: {
      clientId: t.arg.string({ required: true, description: "The app's OAuth client_id" }),
      documents: t.arg.stringList({ required: true, description: `1 to ${MAX_DOCUMENTS_PER_CALL} GraphQL documents, each at most MAX_DOCUMENT_BYTES (UTF-8)` }),
    },
    resolve: (_root, { clientId, documents }, context, info) =>
      registerTrustedDocuments(context.prisma, { clientId, ownerId: context.userId }, documents, trustedDocumentChecks(info.schema, context.requestLimits)),
  }),
)

builder.mutationField('setTrustedDocumentsOnly', (t) =>
  t.withAuth({ session: true }).boolean({
    description:
      "Sets whether the viewer's app `clientId` runs its trusted documents only: then a full document from its tokens is refused with PERSISTED_QUERY_ONLY, on every transport, from the next request on. Returns the new setting. Another developer's or an unknown app: NOT_FOUND.",
    args: {
      clientId: t.arg.string({ required: true, description: "The app's OAuth client_id" }),
      enabled: t.arg.boolean({ required: true }),
    },
    resolve: async (_root, { clientId, enabled }, context) => {
      await setTrustedDocumentsOnly(context.prisma, { clientId, ownerId: context.userId }, enabled)
      return enabled
    },
  }),
)
