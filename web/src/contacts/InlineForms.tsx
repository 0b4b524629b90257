/**
 * The small forms the groups and tags panels open in a row: rename, and confirm a delete.
 * Each takes focus when it opens and closes on Escape (handled here before the panel's own
 * Escape, which would close the whole panel); the row gives focus back to its opener.
 */
import { useEffect, useId, useRef, useState, type FormEvent, type KeyboardEvent } from 'react'
import { FieldError, invalidProps, NO_ERRORS, type FormErrors } from '../forms/field-errors.tsx'

/** Escape inside the form cancels it (and only it). */
function escapeCancels(onCancel: () => void) {
  return (event: KeyboardEvent) => {
    if (event.key !== 'Escape') return
    event.preventDefault()
    onCancel()
  }
}

/** "New name for work": saves with `onRename`, which answers the errors to show (none: done). */
export function RenameForm({ current, what, onRename, onCancel }: { current: string; what: string; onRename: (name: string) => Promise<FormErrors | null>; onCancel: () => void }) {
  const formId = useId().replaceAll(':', '')
  const [name, setName] = useState(current)
  const [errors, setErrors] = useState<FormErrors>(NO_ERRORS)
  const [saving, setSaving] = useState(false)
  const input = useRef<HTMLInputElement>(null)
  useEffect(() => {
    input.current?.focus()
    input.current?.select()
  }, [])
  const submit = async (event: FormEvent) => {
    event.preventDefault()
    if (saving) return
    if (!name.trim()) return setErrors({ fields: { name: 'Enter a name.' }, form: null })
    setSaving(true)
    const found = await onRename(name.trim())
    setSaving(false)
    if (found) {
      setErrors(found)
      input.current?.focus()
    }
  }
  return (
    <form className="inline-form" onSubmit={submit} onKeyDown={escapeCancels(onCancel)} aria-label={`Rename ${what} ${current}`}>
      <label htmlFor={`${formId}-name`}>New name for {current}</label>
      <input id={`${formId}-name`} ref={input} value={name} onChange={(event) => setName(event.target.value)} {...invalidProps(formId, 'name', errors)} />
      <FieldError formId={formId} field="name" errors={errors} />
      {errors.form && (
        <span className="error" role="alert">
          {errors.form}
        </span>
      )}
      <span className="actions">
        <button type="submit" aria-disabled={saving}>
          {saving ? 'Saving…' : 'Save name'}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </span>
    </form>
  )
}

/** "Delete work? It leaves 12 contacts." with the button that does it and one that keeps it. */
export function ConfirmDelete({ question, confirmLabel, onConfirm, onCancel }: { question: string; confirmLabel: string; onConfirm: () => Promise<string | null>; onCancel: () => void }) {
  const [error, setError] = useState<string | null>(null)
  const [deleting, setDeleting] = useState(false)
  const confirm = useRef<HTMLButtonElement>(null)
  useEffect(() => confirm.current?.focus(), [])
  const run = async () => {
    if (deleting) return
    setDeleting(true)
    const failed = await onConfirm()
    setDeleting(false)
    setError(failed)
  }
  return (
    <div className="inline-form" role="group" aria-label={question} onKeyDown={escapeCancels(onCancel)}>
      <span>{question}</span>
      <span className="actions">
        <button type="button" className="danger" ref={confirm} onClick={run} aria-disabled={deleting}>
          {deleting ? 'Deleting…' : confirmLabel}
        </button>
        <button type="button" onClick={onCancel}>
          Cancel
        </button>
      </span>
      {error && (
        <span className="error" role="alert">
          {error}
        </span>
      )}
    </div>
  )
}
