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

export const AcceptSuggestion = graphql(
  `
  mutation AcceptSuggestion($id: ID!) { acceptSuggestion(id: $id) { ...SuggestionFields } }
`,
  [SuggestionFields],
)

export const DismissSuggestion = graphql(
  `
  mutation DismissSuggestion($id: ID!) { dismissSuggestion(id: $id) { ...SuggestionFields } }
`,
  [SuggestionFields],
)

export const SnoozeSuggestion = graphql(
  `
  mutation SnoozeSuggestion($id: ID!, $until: DateTime!) { snoozeSuggestion(id: $id, until: $until) { ...SuggestionFields } }
`,
  [SuggestionFields],
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

/** All documents, for the schema test. */
export const allDocuments = {
  SuggestionsSubscription,
  AcceptSuggestion,
  DismissSuggestion,
  SnoozeSuggestion,
  MeQuery,
  ContactsQuery,
  ContactQuery,
  LogInteraction,
}
