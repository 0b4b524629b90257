/** Every GraphQL enum of the schema, in one place (the Prisma ones take their values from the generated enums). */
import { AccountKind, AccountStatus, CollectionKind, ContactSource, DunbarCircle, FrequencyPreference, ImportStatus, InteractionKind } from '../../generated/prisma/enums.ts'
import type { CadenceSource } from '../../contacts/cadence.ts'
import { builder } from '../builder.ts'

export const DunbarCircleEnum = builder.enumType(DunbarCircle, {
  name: 'DunbarCircle',
  description: 'Dunbar circle: INNER 5, CLOSE 15, ACTIVE 50, CASUAL 150, ACQUAINTANCE 500.',
})

export const FrequencyPreferenceEnum = builder.enumType(FrequencyPreference, {
  name: 'FrequencyPreference',
  description: 'How often to be in touch. FLEXIBLE follows the Dunbar circle.',
})

export const ContactSourceEnum = builder.enumType(ContactSource, { name: 'ContactSource' })

export const InteractionKindEnum = builder.enumType(InteractionKind, { name: 'InteractionKind' })

/** Where a contact's cadence comes from (`contacts/cadence.ts`). */
export const CadenceSourceEnum = builder.enumType('CadenceSource', { values: ['CONTACT', 'GROUP', 'CIRCLE', 'DEFAULT'] as const satisfies readonly CadenceSource[] })

export const ImportStatusEnum = builder.enumType(ImportStatus, {
  name: 'ImportStatus',
  description: 'QUEUED: stored, waiting for the job; RUNNING; SUCCEEDED; FAILED (see `error`; what was written before stays).',
})

/** The contact keyset orders; the values are the keys `contacts/keyset/contact-page.ts` sorts by. */
export const ContactOrderFieldEnum = builder.enumType('ContactOrderField', {
  values: { NAME: { value: 'name' }, NEXT_DUE_AT: { value: 'nextDueAt' }, LAST_CONTACT_DATE: { value: 'lastContactDate' }, ID: { value: 'id' } } as const,
})

export const OrderDirectionEnum = builder.enumType('OrderDirection', {
  values: { ASC: { value: 'asc' }, DESC: { value: 'desc' } } as const,
})

export const SuggestionStatusEnum = builder.enumType('SuggestionStatus', { values: ['PENDING', 'ACCEPTED', 'DISMISSED', 'SNOOZED'] as const })

export const AccountKindEnum = builder.enumType(AccountKind, { name: 'AccountKind', description: 'CARDDAV: address books (RFC 6352); CALDAV: calendars (RFC 4791).' })

export const AccountStatusEnum = builder.enumType(AccountStatus, {
  name: 'AccountStatus',
  description: 'OK: the last sync succeeded (or none ran yet); SYNCING; NEEDS_REAUTH: the server refused the credentials, connect the account again; ERROR: the last sync failed (see lastError; it is retried or runs again at the next interval).',
})

export const CollectionKindEnum = builder.enumType(CollectionKind, { name: 'CollectionKind' })

/** The phases of `syncProgress` (pubsub/changes.ts SyncProgressNotice, and CURRENT for the first event). */
export const SyncPhaseEnum = builder.enumType('SyncPhase', {
  description: 'CURRENT: the account as it is (first event); STARTED; then per collection LISTING (a full listing of it; none in an incremental sync), READING (objects fetched from the server), WRITING (a page stored here), repeated per page, and DONE; FINISHED: the run ended (see the status), the last event of its syncProgress stream.',
  values: {
    CURRENT: { value: 'current' },
    STARTED: { value: 'started' },
    LISTING: { value: 'listing' },
    READING: { value: 'reading' },
    WRITING: { value: 'writing' },
    DONE: { value: 'done' },
    FINISHED: { value: 'finished' },
  } as const,
})

/** The side of a sync conflict the user keeps (sync/sync-conflicts.ts). */
export const SyncConflictChoiceEnum = builder.enumType('SyncConflictChoice', {
  description: "LOCAL: the value set here goes back into the contact and the account's next sync writes it to the server (If-Match); REMOTE: the server's value, already the contact's, stays.",
  values: { LOCAL: { value: 'LOCAL' }, REMOTE: { value: 'REMOTE' } } as const,
})
