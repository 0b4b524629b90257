/** One contact: its fields, and "log interaction" (after which the suggestions no longer list it). */
import { useState, type FormEvent } from 'react'
import { useMutation, useQuery } from 'urql'
import { ContactQuery, LogInteraction } from '../api/documents.ts'
import { apiErrorOf } from '../api/errors.ts'
import { useUnauthorized } from '../api/provider.tsx'
import { circleLabel, formatDate, formatDateTime } from '../format.ts'
import type { ResultOf } from '../graphql.ts'
import { Link } from '../router.tsx'

type Contact = ResultOf<typeof LogInteraction>['logInteraction']

const KINDS = ['CALL', 'MESSAGE', 'EMAIL', 'MEETING', 'OTHER'] as const
type Kind = (typeof KINDS)[number]

/** Under an `ApiProvider`. */
export interface ContactPageProps {
  id: string
  userZone: string | null
  onUnauthorized: () => void
}

function Field({ label, value }: { label: string; value: string | null | undefined }) {
  if (!value) return null
  return (
    <>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </>
  )
}

function LogInteractionForm({ contact, onLogged }: { contact: Contact; onLogged: (contact: Contact) => void }) {
  const [kind, setKind] = useState<Kind>('CALL')
  const [note, setNote] = useState('')
  const [{ fetching: saving }, logInteraction] = useMutation(LogInteraction)
  const [message, setMessage] = useState<string | null>(null)
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setMessage(null)
    const { data, error } = await logInteraction({ contactId: contact.id, input: { kind, ...(note.trim() ? { note: note.trim() } : {}) } })
    if (!data) return setMessage(`Could not log it: ${error ? apiErrorOf(error).message : 'unknown error'}`)
    onLogged(data.logInteraction)
    setNote('')
    setMessage('Interaction logged.')
  }
  return (
    <form className="log-interaction" onSubmit={submit} aria-labelledby="log-title">
      <h2 id="log-title">Log interaction</h2>
      <label>
        Kind{' '}
        <select value={kind} onChange={(event) => setKind(event.target.value as Kind)}>
          {KINDS.map((value) => (
            <option key={value} value={value}>
              {value.charAt(0) + value.slice(1).toLowerCase()}
            </option>
          ))}
        </select>
      </label>
      <label>
        Note <input value={note} onChange={(event) => setNote(event.target.value)} maxLength={2000} />
      </label>
      <button type="submit" disabled={saving}>
        {saving ? 'Saving…' : 'Log interaction'}
      </button>
      <p role="status">{message}</p>
    </form>
  )
}

function Missing() {
  return (
    <p role="alert">
      No such contact. <Link to="/contacts">All contacts</Link>
    </p>
  )
}

export function ContactPage({ id, userZone, onUnauthorized }: ContactPageProps) {
  const [{ data, error, fetching }] = useQuery({ query: ContactQuery, variables: { id } })
  // The contact as the last logged interaction returned it, while the query still has the
  // answer from before (the mutation makes an active query ask again; its answer wins then).
  const [logged, setLogged] = useState<{ contact: Contact; over: typeof data } | null>(null)
  useUnauthorized(error, onUnauthorized)

  if (fetching && !data) return <p aria-busy="true">Loading…</p>
  if (error) {
    const { code, message, unauthorized } = apiErrorOf(error)
    // Signing out (useUnauthorized): until then, still loading.
    if (unauthorized) return <p aria-busy="true">Loading…</p>
    if (code === 'NOT_FOUND' || code === 'BAD_USER_INPUT') return <Missing />
    return <p role="alert">{message}</p>
  }
  const node = data?.node
  if (node?.__typename !== 'Contact') return <Missing />
  const contact = logged && logged.over === data ? logged.contact : node
  return (
    <article aria-labelledby="contact-name" className="contact">
      <p>
        <Link to="/contacts">← Contacts</Link>
      </p>
      <h1 id="contact-name">{contact.name}</h1>
      <dl>
        <Field label="Circle" value={circleLabel(contact.dunbarCircle)} />
        <Field label="Last talked" value={contact.lastContactDate ? formatDateTime(contact.lastContactDate, userZone) : 'Never'} />
        <Field label="Next due" value={formatDate(contact.nextDueAt, userZone)} />
        <Field label="How often" value={contact.frequencyPreference?.toLowerCase()} />
        <Field label="E-mail" value={contact.email} />
        <Field label="Phone" value={contact.phone} />
        <Field label="Location" value={contact.location} />
        <Field label="Time zone" value={contact.timezone} />
        <Field label="LinkedIn" value={contact.linkedIn} />
        <Field label="Instagram" value={contact.instagram} />
        <Field label="X" value={contact.xHandle} />
        <Field label="Groups" value={contact.groups.map((group) => group.name).join(', ')} />
        <Field label="Tags" value={contact.tags.join(', ')} />
        <Field label="Notes" value={contact.customNotes} />
        {contact.archived && <Field label="Archived" value="yes" />}
      </dl>
      <LogInteractionForm contact={contact} onLogged={(updated) => setLogged({ contact: updated, over: data })} />
    </article>
  )
}
