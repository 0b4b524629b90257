/**
 * One contact: its fields, cadence rule and important dates; Edit (the form in place),
 * Archive / Unarchive; the history of its interactions and the form that logs one.
 */
import { useCallback, useEffect, useRef, useState, type MouseEvent, type ReactNode } from 'react'
import { useMutation, useQuery } from 'urql'
import { ArchiveContact, ContactQuery, type ContactFields } from '../api/documents.ts'
import { apiErrorOf } from '../api/errors.ts'
import { useUnauthorized } from '../api/provider.tsx'
import { circleLabel, formatDate } from '../format.ts'
import type { ResultOf } from '../graphql.ts'
import { Link } from '../router.tsx'
import { ContactForm } from './ContactForm.tsx'
import { describeYearly } from './important-dates.ts'
import { listUrl, markOpenedFromList, previousEntryIsList } from './list-state.ts'
import { CONTACT_WRITE } from './writes.ts'
import { InteractionHistory, LogInteractionForm } from './Interactions.tsx'
import './contacts.css'

type Contact = ResultOf<typeof ContactFields>

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

/**
 * A page without its contact still has an `<h1>`: the page change puts focus on it and takes
 * the title from it (page-change.ts), and a screen reader hears what went wrong first.
 */
function Unavailable({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="contact" aria-labelledby="contact-missing">
      <h1 id="contact-missing">{title}</h1>
      <p role="alert">{children}</p>
      <p>
        <Link to="/contacts">All contacts</Link>
      </p>
    </section>
  )
}

/**
 * "← Contacts": back to the list as it was. When the entry before this one is the list, it goes
 * back (the browser restores its search, sort, pages and scroll); else it opens the list's last URL.
 */
function BackToList() {
  const back = (event: MouseEvent<HTMLAnchorElement>) => {
    if (event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey || !previousEntryIsList()) return
    event.preventDefault()
    window.history.back()
  }
  return (
    <Link to={listUrl()} onClick={back}>
      ← Contacts
    </Link>
  )
}

const Missing = () => <Unavailable title="Contact not found">No such contact: it may have been deleted, or the link is wrong.</Unavailable>

export function ContactPage({ id, userZone, onUnauthorized }: ContactPageProps) {
  const [{ data, error, fetching }] = useQuery({ query: ContactQuery, variables: { id } })
  // The contact as the last mutation returned it, while the query still has the answer from
  // before (the mutation makes an active query ask again; its answer wins then).
  const [written, setWritten] = useState<{ contact: Contact; over: typeof data } | null>(null)
  const [editing, setEditing] = useState(false)
  const [announcement, setAnnouncement] = useState('')
  const [archiveError, setArchiveError] = useState<string | null>(null)
  const [{ fetching: archiving }, archiveContact] = useMutation(ArchiveContact)
  const editButton = useRef<HTMLButtonElement>(null)
  useUnauthorized(error, onUnauthorized)
  useEffect(markOpenedFromList, [id])
  const wrote = useCallback((contact: Contact) => setWritten({ contact, over: data }), [data])
  const closeForm = useCallback(() => {
    setEditing(false)
    // The button is back once the form is gone.
    requestAnimationFrame(() => editButton.current?.focus())
  }, [])

  if (fetching && !data) return <p aria-busy="true">Loading…</p>
  if (error) {
    const { code, message, unauthorized } = apiErrorOf(error)
    // Signing out (useUnauthorized): until then, still loading.
    if (unauthorized) return <p aria-busy="true">Loading…</p>
    if (code === 'NOT_FOUND' || code === 'BAD_USER_INPUT') return <Missing />
    return <Unavailable title="Contact could not be loaded">{message}</Unavailable>
  }
  const node = data?.node
  if (node?.__typename !== 'Contact') return <Missing />
  const contact = written && written.over === data ? written.contact : node
  const today = new Date()

  const toggleArchived = async () => {
    if (archiving) return
    setArchiveError(null)
    const archived = !contact.archived
    const result = await archiveContact({ id: contact.id, archived }, CONTACT_WRITE)
    if (!result.data) return setArchiveError(`Could not ${archived ? 'archive' : 'unarchive'}: ${result.error ? apiErrorOf(result.error).message : 'unknown error'}`)
    wrote(result.data.archiveContact)
    setAnnouncement(archived ? `${contact.name} is archived: no longer suggested.` : `${contact.name} is active again.`)
  }

  return (
    <article aria-labelledby="contact-name" className="contact">
      <p>
        <BackToList />
      </p>
      <h1 id="contact-name">
        {contact.name}
        {contact.archived && <span className="badge archived-badge">Archived</span>}
      </h1>
      <div className="actions contact-actions">
        <button type="button" ref={editButton} onClick={() => setEditing(true)} aria-expanded={editing}>
          Edit {contact.name}
        </button>
        <button type="button" onClick={toggleArchived} aria-disabled={archiving}>
          {contact.archived ? `Unarchive ${contact.name}` : `Archive ${contact.name}`}
        </button>
      </div>
      <p role="status" className="announce">
        {announcement}
      </p>
      {archiveError && (
        <p role="alert" className="error">
          {archiveError}
        </p>
      )}
      {editing ? (
        <ContactForm
          contact={contact}
          onCancel={closeForm}
          onSaved={(saved) => {
            wrote(saved)
            setAnnouncement(`Saved ${saved.name}.`)
            closeForm()
          }}
        />
      ) : (
        <dl>
          <Field label="Circle" value={circleLabel(contact.dunbarCircle)} />
          <dt>Cadence</dt>
          {/* The server's rule names its source ("the contact's own frequency", "from the group …'s default"): said once. */}
          <dd data-testid="cadence-rule">{contact.cadence.rule}</dd>
          <Field label="Last talked" value={contact.lastContactDate ? formatDate(contact.lastContactDate, userZone) : 'Never'} />
          <Field label="Next due" value={formatDate(contact.nextDueAt, userZone)} />
          <Field label="Birthday" value={contact.birthday && describeYearly(contact.birthday, today)} />
          <Field label="Anniversary" value={contact.anniversary && describeYearly(contact.anniversary, today)} />
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
        </dl>
      )}
      <LogInteractionForm contact={contact} onLogged={wrote} />
      <InteractionHistory contactId={contact.id} userZone={userZone} />
    </article>
  )
}
