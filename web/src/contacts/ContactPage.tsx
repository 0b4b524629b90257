/** One contact: its fields, and "log interaction" (after which the suggestions no longer list it). */
import { useEffect, useState, type FormEvent } from 'react'
import { ApiError, type ApiClient } from '../api/client.ts'
import { ContactQuery, LogInteraction } from '../api/documents.ts'
import { circleLabel, formatDate, formatDateTime } from '../format.ts'
import type { ResultOf } from '../graphql.ts'
import { Link } from '../router.tsx'

type Contact = ResultOf<typeof LogInteraction>['logInteraction']

const KINDS = ['CALL', 'MESSAGE', 'EMAIL', 'MEETING', 'OTHER'] as const
type Kind = (typeof KINDS)[number]

type Load = { state: 'loading' } | { state: 'missing' } | { state: 'failed'; message: string } | { state: 'ready'; contact: Contact }

export interface ContactPageProps {
  client: ApiClient
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

function LogInteractionForm({ client, contact, onLogged }: { client: ApiClient; contact: Contact; onLogged: (contact: Contact) => void }) {
  const [kind, setKind] = useState<Kind>('CALL')
  const [note, setNote] = useState('')
  const [status, setStatus] = useState<{ saving: boolean; message: string | null }>({ saving: false, message: null })
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    setStatus({ saving: true, message: null })
    try {
      const { logInteraction } = await client.request(LogInteraction, { contactId: contact.id, input: { kind, ...(note.trim() ? { note: note.trim() } : {}) } })
      onLogged(logInteraction)
      setNote('')
      setStatus({ saving: false, message: 'Interaction logged.' })
    } catch (error) {
      setStatus({ saving: false, message: `Could not log it: ${error instanceof Error ? error.message : 'unknown error'}` })
    }
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
      <button type="submit" disabled={status.saving}>
        {status.saving ? 'Saving…' : 'Log interaction'}
      </button>
      <p role="status">{status.message}</p>
    </form>
  )
}

export function ContactPage({ client, id, userZone, onUnauthorized }: ContactPageProps) {
  const [load, setLoad] = useState<Load>({ state: 'loading' })
  useEffect(() => {
    let current = true
    setLoad({ state: 'loading' })
    client.request(ContactQuery, { id }).then(
      ({ node }) => current && setLoad(node?.__typename === 'Contact' ? { state: 'ready', contact: node } : { state: 'missing' }),
      (error: unknown) => {
        if (!current) return
        if (error instanceof ApiError && error.unauthorized) return onUnauthorized()
        if (error instanceof ApiError && (error.code === 'NOT_FOUND' || error.code === 'BAD_USER_INPUT')) return setLoad({ state: 'missing' })
        setLoad({ state: 'failed', message: error instanceof Error ? error.message : 'Loading failed' })
      },
    )
    return () => {
      current = false
    }
  }, [client, id, onUnauthorized])

  if (load.state === 'loading') return <p aria-busy="true">Loading…</p>
  if (load.state === 'missing') return <p role="alert">No such contact. <Link to="/contacts">All contacts</Link></p>
  if (load.state === 'failed') return <p role="alert">{load.message}</p>
  const { contact } = load
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
      <LogInteractionForm client={client} contact={contact} onLogged={(updated) => setLoad({ state: 'ready', contact: updated })} />
    </article>
  )
}
