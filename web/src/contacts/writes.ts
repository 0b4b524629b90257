/**
 * What a write makes stale in urql's document cache, beyond the types its answer holds:
 * a cached query holding any of these typenames asks again.
 */
import type { OperationContext } from '@urql/core'

/** A contact written: every list of contacts (even an empty one), the groups' counts and the tags (`me`). */
export const CONTACT_WRITE: Partial<OperationContext> = { additionalTypenames: ['ContactConnection', 'User'] }

/** A group written or deleted: the groups (`me`), and contacts that show their groups and cadence. */
export const GROUP_WRITE: Partial<OperationContext> = { additionalTypenames: ['User', 'Contact', 'ContactConnection'] }

/** A tag renamed or deleted on every contact: the tags (`me`) and the contacts. */
export const TAG_WRITE: Partial<OperationContext> = { additionalTypenames: ['User', 'Contact', 'ContactConnection'] }
