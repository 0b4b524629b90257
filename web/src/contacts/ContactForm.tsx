/**
 * Adding or editing a contact: every field the API takes, the tags as chips, the groups as
 * checkboxes, the server's BAD_USER_INPUT messages under their fields. An edit sends only
 * what changed (a cleared field as null). Escape cancels.
 */
import { useCallback, useEffect, useId, useReducer, useRef, type FormEvent, type KeyboardEvent, type ReactNode } from 'react'
import { useMutation, useQuery } from 'urql'
import { CreateContact, GroupsQuery, SetContactGroups, UpdateContact, type ContactFields } from '../api/documents.ts'
import { CIRCLES, circleLabel } from '../format.ts'
import { FieldError, formErrorsOf, invalidProps, type FormErrors } from '../forms/field-errors.tsx'
import type { ResultOf } from '../graphql.ts'
import { useEscapeKey } from '../keyboard.ts'
import {
  changedGroups,
  contactFormReducer,
  createInput,
  FORM_FIELDS,
  FREQUENCIES,
  frequencyLabel,
  initialFormState,
  updateInput,
  valuesOf,
  type ContactValues,
  type TextField,
} from './contact-form-state.ts'
import { CONTACT_WRITE } from './writes.ts'
import './contacts.css'

type Contact = ResultOf<typeof ContactFields>

/** Under an `ApiProvider`. Without `contact`: a new contact. */
export interface ContactFormProps {
  contact?: Contact
  onSaved: (contact: Contact) => void
  onCancel: () => void
}

interface TextInputSpec {
  field: TextField
  label: string
  type?: string
  hint?: string
  autoComplete?: string
}

const TEXT_INPUTS: TextInputSpec[] = [
  { field: 'name', label: 'Name', autoComplete: 'off' },
  { field: 'email', label: 'E-mail', type: 'email', autoComplete: 'off' },
  { field: 'phone', label: 'Phone', type: 'tel', autoComplete: 'off' },
  { field: 'location', label: 'Location' },
  { field: 'timezone', label: 'Time zone', hint: 'IANA name, e.g. Europe/Berlin' },
  { field: 'birthday', label: 'Birthday', hint: '1990-03-12, or --03-12 without the year' },
  { field: 'anniversary', label: 'Anniversary', hint: '2015-06-20, or --06-20 without the year' },
  { field: 'linkedIn', label: 'LinkedIn' },
  { field: 'instagram', label: 'Instagram' },
  { field: 'xHandle', label: 'X' },
]

/** A labelled control with its hint and its error under it. */
function Row({ formId, field, label, hint, errors, children }: { formId: string; field: string; label: string; hint?: string; errors: FormErrors; children: (props: object) => ReactNode }) {
  const hintId = hint ? `${formId}-${field}-hint` : undefined
  const invalid = invalidProps(formId, field, errors)
  const describedBy = [hintId, 'aria-describedby' in invalid ? invalid['aria-describedby'] : undefined].filter(Boolean).join(' ') || undefined
  return (
    <div className="form-row">
      <label htmlFor={`${formId}-${field}`}>{label}</label>
      {children({ id: `${formId}-${field}`, name: field, ...invalid, 'aria-describedby': describedBy })}
      {hint && (
        <span className="hint" id={hintId}>
          {hint}
        </span>
      )}
      <FieldError formId={formId} field={field} errors={errors} />
    </div>
  )
}

export function ContactForm({ contact, onSaved, onCancel }: ContactFormProps) {
  const formId = useId().replaceAll(':', '')
  const [state, dispatch] = useReducer(contactFormReducer, contact, (from) => initialFormState(from ? valuesOf(from) : undefined))
  const [, createContact] = useMutation(CreateContact)
  const [, updateContact] = useMutation(UpdateContact)
  const [, setContactGroups] = useMutation(SetContactGroups)
  const [{ data: groupsData }] = useQuery({ query: GroupsQuery })
  const groups = groupsData?.me.groups ?? []
  const { values, errors } = state
  const title = contact ? `Edit ${contact.name}` : 'New contact'

  useEscapeKey(true, onCancel)
  const first = useRef<HTMLInputElement>(null)
  useEffect(() => first.current?.focus(), [])
  // The first field in error gets focus, so that a screen reader reads its message.
  const formRef = useRef<HTMLFormElement>(null)
  useEffect(() => {
    const invalid = formRef.current?.querySelector<HTMLElement>('[aria-invalid=true]')
    invalid?.focus()
  }, [state.errorsShown])

  const save = useCallback(
    async (submitted: ContactValues) => {
      const failed = (error: Parameters<typeof formErrorsOf>[0]) => dispatch({ type: 'failed', errors: formErrorsOf(error, FORM_FIELDS) })
      let saved: Contact
      if (contact) {
        const input = updateInput(state.initial, submitted)
        saved = contact
        if (Object.keys(input).length > 0) {
          const result = await updateContact({ id: contact.id, input }, CONTACT_WRITE)
          if (!result.data) return result.error && failed(result.error)
          saved = result.data.updateContact
        }
      } else {
        const result = await createContact({ input: createInput(submitted) }, CONTACT_WRITE)
        if (!result.data) return result.error && failed(result.error)
        saved = result.data.createContact
      }
      const groupIds = changedGroups(contact ? state.initial : { ...submitted, groupIds: [] }, submitted)
      if (groupIds) {
        const result = await setContactGroups({ contactId: saved.id, groupIds }, CONTACT_WRITE)
        if (!result.data) return result.error && failed(result.error)
        saved = result.data.setContactGroups
      }
      dispatch({ type: 'saved', values: valuesOf(saved) })
      onSaved(saved)
    },
    [contact, state.initial, createContact, updateContact, setContactGroups, onSaved],
  )

  const submit = (event: FormEvent) => {
    event.preventDefault()
    if (state.saving) return
    const next = contactFormReducer(state, { type: 'submit' })
    dispatch({ type: 'submit' })
    if (next.saving) void save(next.values)
  }

  const onTagKey = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'Enter') {
      event.preventDefault()
      dispatch({ type: 'addTag' })
    } else if (event.key === 'Backspace' && state.tagDraft === '' && values.tags.length > 0) {
      dispatch({ type: 'removeTag', tag: values.tags.at(-1)! })
    }
  }

  return (
    <form ref={formRef} className="contact-form" aria-labelledby={`${formId}-title`} onSubmit={submit} noValidate>
      <h2 id={`${formId}-title`}>{title}</h2>
      {TEXT_INPUTS.map(({ field, label, type, hint, autoComplete }) => (
        <Row key={field} formId={formId} field={field} label={label} hint={hint} errors={errors}>
          {(props) => (
            <input
              {...props}
              ref={field === 'name' ? first : undefined}
              type={type ?? 'text'}
              autoComplete={autoComplete}
              value={values[field]}
              onChange={(event) => dispatch({ type: 'set', field, value: event.target.value })}
            />
          )}
        </Row>
      ))}
      <Row formId={formId} field="dunbarCircle" label="Circle" errors={errors}>
        {(props) => (
          <select {...props} value={values.dunbarCircle} onChange={(event) => dispatch({ type: 'set', field: 'dunbarCircle', value: event.target.value })}>
            <option value="">No circle</option>
            {CIRCLES.map((circle) => (
              <option key={circle} value={circle}>
                {circleLabel(circle)}
              </option>
            ))}
          </select>
        )}
      </Row>
      <Row formId={formId} field="frequencyPreference" label="How often" hint="Its own cadence; none: its groups' default, else its circle's" errors={errors}>
        {(props) => (
          <select {...props} value={values.frequencyPreference} onChange={(event) => dispatch({ type: 'set', field: 'frequencyPreference', value: event.target.value })}>
            <option value="">None of its own</option>
            {FREQUENCIES.map((frequency) => (
              <option key={frequency} value={frequency}>
                {frequencyLabel[frequency]}
              </option>
            ))}
          </select>
        )}
      </Row>
      <Row formId={formId} field="lastContactDate" label="Last talked" errors={errors}>
        {(props) => <input {...props} type="date" value={values.lastContactDate} onChange={(event) => dispatch({ type: 'set', field: 'lastContactDate', value: event.target.value })} />}
      </Row>
      <div className="form-row">
        <label htmlFor={`${formId}-tags`}>Tags</label>
        {values.tags.length > 0 && (
          <ul className="chips" aria-label="Chosen tags">
            {values.tags.map((tag) => (
              <li key={tag} className="chip">
                <span>{tag}</span>
                <button type="button" aria-label={`Remove tag ${tag}`} onClick={() => dispatch({ type: 'removeTag', tag })}>
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
        <input
          id={`${formId}-tags`}
          {...invalidProps(formId, 'tags', errors)}
          value={state.tagDraft}
          onChange={(event) => dispatch({ type: 'tagDraft', value: event.target.value })}
          onKeyDown={onTagKey}
          placeholder="Type a tag, then Enter"
        />
        <FieldError formId={formId} field="tags" errors={errors} />
      </div>
      {groups.length > 0 && (
        <fieldset className="form-row groups-choice" {...invalidProps(formId, 'groupIds', errors)}>
          <legend>Groups</legend>
          {groups.map((group) => (
            <label key={group.id} className="check">
              <input type="checkbox" checked={values.groupIds.includes(group.id)} onChange={(event) => dispatch({ type: 'toggleGroup', id: group.id, member: event.target.checked })} />{' '}
              {group.name}
            </label>
          ))}
          <FieldError formId={formId} field="groupIds" errors={errors} />
        </fieldset>
      )}
      <Row formId={formId} field="customNotes" label="Notes" errors={errors}>
        {(props) => <textarea {...props} rows={3} value={values.customNotes} onChange={(event) => dispatch({ type: 'set', field: 'customNotes', value: event.target.value })} />}
      </Row>
      {errors.form && (
        <p className="error" role="alert">
          {errors.form}
        </p>
      )}
      <div className="actions">
        <button type="submit" aria-disabled={state.saving}>
          {state.saving ? 'Saving…' : contact ? 'Save changes' : 'Add contact'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </div>
    </form>
  )
}
