/** Every GraphQL document the app sends, typed from the schema (tested against it in documents.test.ts). */
import { graphql } from '../graphql.ts'

export const SuggestionFields = graphql(`
  fragment SuggestionFields on Suggestion {
    id
    priority
    reason
    status
    slot { start end }
    contact { id name dunbarCircle timezone }
  }
`)

export const SuggestionsSubscription = graphql(
  `
  subscription Suggestions($input: SuggestionsInput) {
    suggestions(input: $input) {
      __typename
      ... on SuggestionBatch { cursor scanned suggestions { ...SuggestionFields } }
      ... on SuggestionsThrottled { reason heapUsedBytes }
      ... on SuggestionsComplete { total scanned durationMs }
      ... on SuggestionsUpdated { suggestions { ...SuggestionFields } }
    }
  }
`,
  [SuggestionFields],
)

/** A suggestion as an action or the status lists return it: with when its status was set and when it ends. */
export const ActedSuggestionFields = graphql(
  `
  fragment ActedSuggestionFields on Suggestion { ...SuggestionFields statusEndsAt statusSetAt }
`,
  [SuggestionFields],
)

export const AcceptSuggestion = graphql(
  `
  mutation AcceptSuggestion($id: ID!) { acceptSuggestion(id: $id) { ...ActedSuggestionFields } }
`,
  [ActedSuggestionFields],
)

export const DismissSuggestion = graphql(
  `
  mutation DismissSuggestion($id: ID!) { dismissSuggestion(id: $id) { ...ActedSuggestionFields } }
`,
  [ActedSuggestionFields],
)

export const SnoozeSuggestion = graphql(
  `
  mutation SnoozeSuggestion($id: ID!, $until: DateTime!) { snoozeSuggestion(id: $id, until: $until) { ...ActedSuggestionFields } }
`,
  [ActedSuggestionFields],
)

/** Puts back the status the latest accept / dismiss / snooze replaced (PENDING when none). */
export const UndoSuggestionAction = graphql(
  `
  mutation UndoSuggestionAction($id: ID!) { undoSuggestionAction(id: $id) { ...ActedSuggestionFields } }
`,
  [ActedSuggestionFields],
)

/** Clears a dismissal or snooze (or a plan): the contact can be suggested again at once. */
export const RestoreSuggestion = graphql(
  `
  mutation RestoreSuggestion($id: ID!) { restoreSuggestion(id: $id) { ...ActedSuggestionFields } }
`,
  [ActedSuggestionFields],
)

/** Suggestions whose status is in force: ACCEPTED (planned), DISMISSED and SNOOZED (hidden), latest change first. */
export const SuggestionsByStatusQuery = graphql(
  `
  query SuggestionsByStatus($statuses: [SuggestionStatus!]!, $first: Int) {
    suggestionsByStatus(statuses: $statuses, first: $first) {
      edges { cursor node { ...ActedSuggestionFields } }
      pageInfo { endCursor hasNextPage }
      totalCount
    }
  }
`,
  [ActedSuggestionFields],
)

export const MeQuery = graphql(`
  query Me { me { id email name timezone groups { id name } } }
`)

export const ContactListFields = graphql(`
  fragment ContactListFields on Contact { id name dunbarCircle tags lastContactDate nextDueAt }
`)

export const ContactsQuery = graphql(
  `
  query Contacts($first: Int, $after: String, $filter: ContactFilter, $orderBy: ContactOrder) {
    contacts(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
      edges { cursor node { ...ContactListFields } }
      pageInfo { endCursor hasNextPage }
      totalCount
    }
  }
`,
  [ContactListFields],
)

export const ContactFields = graphql(`
  fragment ContactFields on Contact {
    id name email phone linkedIn instagram xHandle location timezone customNotes
    lastContactDate nextDueAt frequencyPreference dunbarCircle archived tags birthday anniversary
    groups { id name }
    cadence { days frequency source rule group { id name } }
  }
`)

export const ContactQuery = graphql(
  `
  query Contact($id: ID!) { node(id: $id) { __typename ... on Contact { ...ContactFields } } }
`,
  [ContactFields],
)

export const LogInteraction = graphql(
  `
  mutation LogInteraction($contactId: ID!, $input: LogInteractionInput) {
    logInteraction(contactId: $contactId, input: $input) { ...ContactFields }
  }
`,
  [ContactFields],
)

/** A page of the contact's interactions, newest first. */
export const ContactInteractionsQuery = graphql(`
  query ContactInteractions($id: ID!, $first: Int, $after: String) {
    node(id: $id) {
      __typename
      ... on Contact {
        id
        interactions(first: $first, after: $after) {
          edges { cursor node { id kind note occurredAt } }
          pageInfo { endCursor hasNextPage }
          totalCount
        }
      }
    }
  }
`)

export const CreateContact = graphql(
  `
  mutation CreateContact($input: CreateContactInput!) { createContact(input: $input) { ...ContactFields } }
`,
  [ContactFields],
)

export const UpdateContact = graphql(
  `
  mutation UpdateContact($id: ID!, $input: UpdateContactInput!) { updateContact(id: $id, input: $input) { ...ContactFields } }
`,
  [ContactFields],
)

/** `archived: false` unarchives. */
export const ArchiveContact = graphql(
  `
  mutation ArchiveContact($id: ID!, $archived: Boolean!) { archiveContact(id: $id, archived: $archived) { ...ContactFields } }
`,
  [ContactFields],
)

export const SetContactGroups = graphql(
  `
  mutation SetContactGroups($contactId: ID!, $groupIds: [ID!]!) { setContactGroups(contactId: $contactId, groupIds: $groupIds) { ...ContactFields } }
`,
  [ContactFields],
)

export const GroupFields = graphql(`
  fragment GroupFields on Group { id name defaultFrequency memberCount }
`)

/** The viewer's groups by name, with their default cadence and member count. */
export const GroupsQuery = graphql(
  `
  query Groups { me { id groups { ...GroupFields } } }
`,
  [GroupFields],
)

export const CreateGroup = graphql(
  `
  mutation CreateGroup($name: String!, $defaultFrequency: FrequencyPreference) {
    createGroup(name: $name, defaultFrequency: $defaultFrequency) { ...GroupFields }
  }
`,
  [GroupFields],
)

/** `defaultFrequency: null` clears the group's default cadence. */
export const UpdateGroup = graphql(
  `
  mutation UpdateGroup($id: ID!, $input: UpdateGroupInput!) { updateGroup(id: $id, input: $input) { ...GroupFields } }
`,
  [GroupFields],
)

export const DeleteGroup = graphql(`
  mutation DeleteGroup($id: ID!) { deleteGroup(id: $id) }
`)

/** The viewer's tags by name, with how many active contacts have each. */
export const TagsQuery = graphql(`
  query Tags { me { id tags { name contactCount } } }
`)

export const RenameTag = graphql(`
  mutation RenameTag($from: String!, $to: String!) { renameTag(from: $from, to: $to) }
`)

export const DeleteTag = graphql(`
  mutation DeleteTag($name: String!) { deleteTag(name: $name) }
`)

export const ImportFields = graphql(`
  fragment ImportFields on Import {
    id status format total done created updated unchanged rejected error createdAt startedAt finishedAt
  }
`)

export const ImportErrorsFields = graphql(`
  fragment ImportErrorsFields on ImportErrorConnection {
    edges { cursor node { position field reason raw } }
    pageInfo { endCursor hasNextPage }
  }
`)

/** One import: its counts and a page of its rejected rows. */
export const ImportQuery = graphql(
  `
  query Import($id: ID!, $first: Int, $after: String) {
    import(id: $id) { ...ImportFields errors(first: $first, after: $after) { ...ImportErrorsFields } }
  }
`,
  [ImportFields, ImportErrorsFields],
)

/** The import after each batch; the server ends it when the import finishes. */
export const ImportProgressSubscription = graphql(
  `
  subscription ImportProgress($id: ID!) { importProgress(id: $id) { ...ImportFields } }
`,
  [ImportFields],
)

export const ImportsQuery = graphql(
  `
  query Imports($first: Int, $after: String) {
    imports(first: $first, after: $after) {
      edges { cursor node { ...ImportFields } }
      pageInfo { endCursor hasNextPage }
    }
  }
`,
  [ImportFields],
)

export const CalendarFeedQuery = graphql(`
  query CalendarFeed { calendarFeed { createdAt } }
`)

/** A new secret feed URL (the old one stops working); the only answer that holds the URL. */
export const RotateCalendarFeed = graphql(`
  mutation RotateCalendarFeed { rotateCalendarFeed { url createdAt } }
`)

export const RevokeCalendarFeed = graphql(`
  mutation RevokeCalendarFeed { revokeCalendarFeed }
`)

export const AccountFields = graphql(`
  fragment AccountFields on Account {
    id kind url status lastSyncedAt lastError
    counts { contacts events }
    collections { url displayName kind enabled }
  }
`)

/** The viewer's CardDAV / CalDAV accounts, oldest first (never their credentials). */
export const AccountsQuery = graphql(
  `
  query Accounts { accounts { ...AccountFields } }
`,
  [AccountFields],
)

/** Checks the URL and credentials by discovering the collections; BAD_USER_INPUT names `input.url` or `input.password`. */
export const ConnectAccount = graphql(
  `
  mutation ConnectAccount($input: ConnectAccountInput!) { connectAccount(input: $input) { ...AccountFields } }
`,
  [AccountFields],
)

/** The collections that sync, by URL (the others stop syncing); the server then syncs the account. */
export const SetAccountCollections = graphql(
  `
  mutation SetAccountCollections($id: ID!, $collectionUrls: [String!]!) { setAccountCollections(id: $id, collectionUrls: $collectionUrls) { ...AccountFields } }
`,
  [AccountFields],
)

/** Queues a sync now; answers the account as stored (follow it with SyncProgress). */
export const SyncAccount = graphql(
  `
  mutation SyncAccount($id: ID!) { syncAccount(id: $id) { ...AccountFields } }
`,
  [AccountFields],
)

/** Deletes the account's credentials; its contacts stay as local contacts. */
export const DisconnectAccount = graphql(`
  mutation DisconnectAccount($id: ID!) { disconnectAccount(id: $id) }
`)

/** The account now (phase CURRENT), then as its syncs start, move and finish (FINISHED). */
export const SyncProgressSubscription = graphql(
  `
  subscription SyncProgress($accountId: ID!) {
    syncProgress(accountId: $accountId) { phase collectionUrl done total account { ...AccountFields } }
  }
`,
  [AccountFields],
)

export const ApiKeyFields = graphql(`
  fragment ApiKeyFields on ApiKey { id name displayPrefix scopes createdAt expiresAt lastUsedAt revokedAt }
`)

/** The viewer's personal API keys, newest first (revoked and expired ones too); never the keys themselves. */
export const ApiKeysQuery = graphql(
  `
  query ApiKeys { apiKeys { ...ApiKeyFields } }
`,
  [ApiKeyFields],
)

/** Makes a key; the answer holds the key itself, the only time it is ever sent. BAD_USER_INPUT names `input.name`, `input.scopes` or `input.expiresInDays`. */
export const CreateApiKey = graphql(
  `
  mutation CreateApiKey($input: CreateApiKeyInput!) { createApiKey(input: $input) { key apiKey { ...ApiKeyFields } } }
`,
  [ApiKeyFields],
)

/** Revokes a key: refused from now on, its streams closed. */
export const RevokeApiKey = graphql(
  `
  mutation RevokeApiKey($id: ID!) { revokeApiKey(id: $id) { ...ApiKeyFields } }
`,
  [ApiKeyFields],
)

/** The apps the viewer connected through OAuth 2.0, newest first. */
export const ConnectedAppsQuery = graphql(`
  query ConnectedApps { connectedApps { id clientId name scopes connectedAt expiresAt } }
`)

/** Disconnects an app: its tokens stop working, its streams end. */
export const RevokeConnectedApp = graphql(`
  mutation RevokeConnectedApp($id: ID!) { revokeConnectedApp(id: $id) }
`)

/** All documents, for the schema test. */
export const allDocuments = {
  SuggestionsSubscription,
  AcceptSuggestion,
  DismissSuggestion,
  SnoozeSuggestion,
  UndoSuggestionAction,
  RestoreSuggestion,
  SuggestionsByStatusQuery,
  MeQuery,
  ContactsQuery,
  ContactQuery,
  LogInteraction,
  ContactInteractionsQuery,
  CreateContact,
  UpdateContact,
  ArchiveContact,
  SetContactGroups,
  GroupsQuery,
  CreateGroup,
  UpdateGroup,
  DeleteGroup,
  TagsQuery,
  RenameTag,
  DeleteTag,
  ImportQuery,
  ImportProgressSubscription,
  ImportsQuery,
  CalendarFeedQuery,
  RotateCalendarFeed,
  RevokeCalendarFeed,
  AccountsQuery,
  ConnectAccount,
  SetAccountCollections,
  SyncAccount,
  DisconnectAccount,
  SyncProgressSubscription,
  ApiKeysQuery,
  CreateApiKey,
  RevokeApiKey,
  ConnectedAppsQuery,
  RevokeConnectedApp,
}
