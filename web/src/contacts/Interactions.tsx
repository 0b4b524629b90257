/**
 * A contact's interactions: the history newest first, a page at a time ("Load more"), and the
 * form that logs one with a kind, a note and a date ("Yesterday" is one click; a past day is
 * sent as its local noon, today as now).
 */
import { useId, useState, type FormEvent } from 'react'
import { useMutation, useQuery } from 'urql'
import { ContactInteractionsQuery, LogInteraction, type ContactFields } from '../api/documents.ts'
import { apiErrorOf } from '../api/errors.ts'
import { formatDateTime } from '../format.ts'
import { FieldError, formErrorsOf, invalidProps, NO_ERRORS } from '../forms/field-errors.tsx'
import type { ResultOf } from '../graphql.ts'
import { localDate, localNoon } from './contact-form-state.ts'

type Contact = ResultOf<typeof ContactFields>

export const KINDS = ['CALL', 'MESSAGE', 'EMAIL', 'MEETING', 'OTHER'] as const
type Kind = (typeof KINDS)[number]
export const HISTORY_PAGE_SIZE = 20

/** "Call", "Meeting"… */
export const kindLabel = (kind: string) => kind.charAt(0) + kind.slice(1).toLowerCase()

/** `occurredAt` for a day picked in the form: now for today, else that day's local noon. */
export function occurredAtFor(day: string, now: Date): string {
  return day === localDate(now) ? now.toISOString() : localNoon(day)
}

function yesterday(now: Date): string {
  return localDate(new Date(now.getFullYear(), now.getMonth(), now.getDate() - 1, 12))
}

/** The log form; `onLogged` gets the contact as the mutation returned it. */
export function LogInteractionForm({ contact, onLogged }: { contact: Contact; onLogged: (contact: Contact) => void }) {
  const formId = useId().replaceAll(':', '')
  const [kind, setKind] = useState<Kind>('CALL')
  const [note, setNote] = useState('')
  const [day, setDay] = useState(() => localDate(new Date()))
  const [{ fetching: saving }, logInteraction] = useMutation(LogInteraction)
  const [errors, setErrors] = useState(NO_ERRORS)
  const [message, setMessage] = useState<string | null>(null)
  const today = localDate(new Date())
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (saving) return
    setMessage(null)
    setErrors(NO_ERRORS)
    const input = { kind, occurredAt: occurredAtFor(day || today, new Date()), ...(note.trim() ? { note: note.trim() } : {}) }
    const { data, error } = await logInteraction({ contactId: contact.id, input })
    if (!data) {
      const found = error ? formErrorsOf(error, ['kind', 'note', 'occurredAt']) : { fields: {}, form: 'unknown error' }
      setErrors(found)
      if (found.form) setMessage(`Could not log it: ${found.form}`)
      return
    }
    onLogged(data.logInteraction)
    setNote('')
    setDay(localDate(new Date()))
    setMessage('Interaction logged.')
  }
  return (
    <form className="log-interaction" onSubmit={submit} aria-labelledby={`${formId}-title`}>
      <h2 id={`${formId}-title`}>Log interaction</h2>
      <label>
        Kind{' '}
        <select value={kind} onChange={(event) => setKind(event.target.value as Kind)}>
          {KINDS.map((value) => (
            <option key={value} value={value}>
              {kindLabel(value)}
            </option>
          ))}
        </select>
      </label>
      <label>
        Date{' '}
        <input type="date" value={day} max={today} onChange={(event) => setDay(event.target.value)} {...invalidProps(formId, 'occurredAt', errors)} />
        <FieldError formId={formId} field="occurredAt" errors={errors} />
      </label>
      <button type="button" onClick={() => setDay(yesterday(new Date()))} aria-pressed={day === yesterday(new Date())}>
        Yesterday
      </button>
      <label className="note">
        Note <textarea rows={2} value={note} onChange={(event) => setNote(event.target.value)} maxLength={10_000} {...invalidProps(formId, 'note', errors)} />
        <FieldError formId={formId} field="note" errors={errors} />
      </label>
      <button type="submit" aria-disabled={saving}>
        {saving ? 'Saving…' : 'Log interaction'}
      </button>
      <p role="status">{message}</p>
    </form>
  )
}

/** One page of the history (the document cache keeps it once answered). */
function HistoryPage({ contactId, after, userZone }: { contactId: string; after: string | null; userZone: string | null }) {
  const [{ data }] = useQuery({ query: ContactInteractionsQuery, variables: { id: contactId, first: HISTORY_PAGE_SIZE, after } })
  const node = data?.node
  if (node?.__typename !== 'Contact') return null
  return node.interactions.edges.map(({ node: interaction }) => (
    <li key={interaction.id} className="interaction" data-testid="interaction">
      <span className="kind">{kindLabel(interaction.kind)}</span> <time dateTime={interaction.occurredAt}>{formatDateTime(interaction.occurredAt, userZone)}</time>
      {interaction.note && <p className="note">{interaction.note}</p>}
    </li>
  ))
}

/** The history, newest first: a {@link HistoryPage} per page asked for; the last one's query gives the state. */
export function InteractionHistory({ contactId, userZone }: { contactId: string; userZone: string | null }) {
  const [afters, setAfters] = useState<(string | null)[]>([null])
  const after = afters.at(-1) ?? null
  const [last, reexecute] = useQuery({ query: ContactInteractionsQuery, variables: { id: contactId, first: HISTORY_PAGE_SIZE, after } })
  const connection = last.data?.node?.__typename === 'Contact' ? last.data.node.interactions : null
  const loadMore = () => {
    if (last.fetching) return
    if (last.error) return reexecute({ requestPolicy: 'network-only' })
    const endCursor = connection?.pageInfo.endCursor
    if (endCursor && !afters.includes(endCursor)) setAfters([...afters, endCursor])
  }
  return (
    <section className="history" aria-labelledby="history-title">
      <h2 id="history-title">History{connection ? ` (${connection.totalCount})` : ''}</h2>
      {connection?.totalCount === 0 && <p className="muted">Nothing logged yet.</p>}
      <ol className="interactions" aria-busy={last.fetching}>
        {afters.map((pageAfter) => (
          <HistoryPage key={pageAfter ?? ''} contactId={contactId} after={pageAfter} userZone={userZone} />
        ))}
      </ol>
      {last.error && !last.fetching && (
        <p className="error" role="alert">
          {apiErrorOf(last.error).message}
        </p>
      )}
      {(connection?.pageInfo.hasNextPage || last.error) && (
        <button type="button" onClick={loadMore} aria-disabled={last.fetching}>
          {last.fetching ? 'Loading…' : 'Load more'}
        </button>
      )}
    </section>
  )
}
