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
  query Contacts($first: Int, $after: String, $filter: ContactFilter) {
    contacts(first: $first, after: $after, filter: $filter) {
      edges { cursor node { ...ContactListFields } }
      pageInfo { endCursor hasNextPage }
    }
  }
`,
  [ContactListFields],
)

export const ContactFields = graphql(`
  fragment ContactFields on Contact {
    id name email phone linkedIn instagram xHandle location timezone customNotes
    lastContactDate nextDueAt frequencyPreference dunbarCircle archived tags
    groups { id name }
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
  ImportQuery,
  ImportProgressSubscription,
  ImportsQuery,
  CalendarFeedQuery,
  RotateCalendarFeed,
  RevokeCalendarFeed,
}
