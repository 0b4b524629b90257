/**
 * A form's errors next to its fields: a BAD_USER_INPUT answer names the field it is about
 * (`extensions.field`, e.g. `input.birthday` or `name`), and its message is shown under that
 * field (`aria-invalid`, `aria-describedby`); any other error is the form's own.
 */
import type { CombinedError } from '@urql/core'
import { apiErrorOf } from '../api/errors.ts'

/** Messages by field name (the first segment after `input.`), and the form's own message. */
export interface FormErrors {
  fields: Record<string, string>
  form: string | null
}

export const NO_ERRORS: FormErrors = { fields: {}, form: null }

/**
 * The field a server error is about: `input.tags.3` → `tags`, `name` → `name`; null when
 * the error names none or names one the form does not have (`known`).
 */
export function fieldOf(path: unknown, known: readonly string[]): string | null {
  if (typeof path !== 'string') return null
  const segments = path.split('.')
  const name = segments[0] === 'input' ? segments[1] : segments[0]
  return name && known.includes(name) ? name : null
}

/**
 * urql's error as {@link FormErrors}: a BAD_USER_INPUT about a field of `known` goes next to it
 * (without the server's `input.field: ` prefix); anything else is the form's message.
 */
export function formErrorsOf(error: CombinedError, known: readonly string[]): FormErrors {
  const first = error.graphQLErrors[0]
  const field = first?.extensions.code === 'BAD_USER_INPUT' ? fieldOf(first.extensions.field, known) : null
  if (first && field) return { fields: { [field]: first.message.replace(/^[\w.]+: /, '') }, form: null }
  return { fields: {}, form: apiErrorOf(error).message }
}

/** The id of the message element of `field` in the form `formId`. */
export const errorId = (formId: string, field: string) => `${formId}-${field}-error`

/** Props for the input of `field`: invalid and described by its message when it has one. */
export function invalidProps(formId: string, field: string, errors: FormErrors) {
  return errors.fields[field] ? { 'aria-invalid': true as const, 'aria-describedby': errorId(formId, field) } : {}
}

/** The message under a field (nothing when it has none). */
export function FieldError({ formId, field, errors }: { formId: string; field: string; errors: FormErrors }) {
  const message = errors.fields[field]
  if (!message) return null
  return (
    <span className="field-error" id={errorId(formId, field)}>
      {message}
    </span>
  )
}
