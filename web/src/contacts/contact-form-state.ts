/**
 * The contact form's state, pure: the values as typed, the values it started from (an edit
 * sends only what changed, and a cleared field as null), the tags as chips, the groups, and
 * the errors next to the fields.
 */
import type { Circle } from '../format.ts'
import { NO_ERRORS, type FormErrors } from '../forms/field-errors.tsx'
import type { ResultOf, VariablesOf } from '../graphql.ts'
import type { ContactFields, CreateContact, UpdateContact } from '../api/documents.ts'

export const FREQUENCIES = ['WEEKLY', 'BIWEEKLY', 'MONTHLY', 'QUARTERLY', 'BIANNUAL', 'YEARLY', 'FLEXIBLE'] as const
export type Frequency = (typeof FREQUENCIES)[number]

/** "Weekly", "Every two weeks"…: what a frequency means to a person. */
export const frequencyLabel: Record<Frequency, string> = {
  WEEKLY: 'Weekly',
  BIWEEKLY: 'Every two weeks',
  MONTHLY: 'Monthly',
  QUARTERLY: 'Quarterly',
  BIANNUAL: 'Twice a year',
  YEARLY: 'Yearly',
  FLEXIBLE: 'Flexible (follows the circle)',
}

/** The text fields, as both inputs take them. */
export const TEXT_FIELDS = ['name', 'email', 'phone', 'linkedIn', 'instagram', 'xHandle', 'location', 'timezone', 'birthday', 'anniversary', 'customNotes'] as const
export type TextField = (typeof TEXT_FIELDS)[number]

/** Every field the server may name in a BAD_USER_INPUT. */
export const FORM_FIELDS = [...TEXT_FIELDS, 'dunbarCircle', 'frequencyPreference', 'tags', 'lastContactDate', 'groupIds'] as const

export interface ContactValues extends Record<TextField, string> {
  dunbarCircle: Circle | ''
  frequencyPreference: Frequency | ''
  /** `YYYY-MM-DD` in the browser's zone, or '' */
  lastContactDate: string
  tags: string[]
  groupIds: string[]
}

export interface ContactFormState {
  initial: ContactValues
  values: ContactValues
  /** The tag being typed, added on Enter or comma. */
  tagDraft: string
  saving: boolean
  errors: FormErrors
  /** Counts the times errors were shown (the form moves focus to the first field in error then). */
  errorsShown: number
}

export type ContactFormAction =
  | { type: 'set'; field: TextField | 'dunbarCircle' | 'frequencyPreference' | 'lastContactDate'; value: string }
  | { type: 'tagDraft'; value: string }
  | { type: 'addTag' }
  | { type: 'removeTag'; tag: string }
  | { type: 'toggleGroup'; id: string; member: boolean }
  | { type: 'submit' }
  | { type: 'failed'; errors: FormErrors }
  | { type: 'saved'; values: ContactValues }

type Contact = ResultOf<typeof ContactFields>
export type CreateInput = VariablesOf<typeof CreateContact>['input']
export type UpdateInput = VariablesOf<typeof UpdateContact>['input']

const pad = (n: number) => String(n).padStart(2, '0')

/** `YYYY-MM-DD` of an instant in the browser's zone (what a date input shows). */
export function localDate(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
}

/** Noon of a local `YYYY-MM-DD` as an ISO instant: the same day in every nearby zone. */
export function localNoon(day: string): string {
  const [year, month, date] = day.split('-').map(Number)
  return new Date(year!, month! - 1, date!, 12).toISOString()
}

export const EMPTY_VALUES: ContactValues = {
  ...(Object.fromEntries(TEXT_FIELDS.map((field) => [field, ''])) as Record<TextField, string>),
  dunbarCircle: '',
  frequencyPreference: '',
  lastContactDate: '',
  tags: [],
  groupIds: [],
}

/** The form's values for an existing contact (its own cadence only: `frequencyPreference`). */
export function valuesOf(contact: Contact): ContactValues {
  const text = Object.fromEntries(TEXT_FIELDS.map((field) => [field, contact[field] ?? ''])) as Record<TextField, string>
  return {
    ...text,
    dunbarCircle: (contact.dunbarCircle ?? '') as Circle | '',
    frequencyPreference: (contact.frequencyPreference ?? '') as Frequency | '',
    lastContactDate: contact.lastContactDate ? localDate(new Date(contact.lastContactDate)) : '',
    tags: [...contact.tags],
    groupIds: contact.groups.map((group) => group.id),
  }
}

export function initialFormState(values: ContactValues = EMPTY_VALUES): ContactFormState {
  return { initial: values, values, tagDraft: '', saving: false, errors: NO_ERRORS, errorsShown: 0 }
}

/** Tags typed as "a, b": each trimmed, none empty, none twice (case-insensitively). */
function withTags(tags: string[], draft: string): string[] {
  const next = [...tags]
  for (const raw of draft.split(',')) {
    const tag = raw.trim()
    if (tag && !next.some((existing) => existing.toLowerCase() === tag.toLowerCase())) next.push(tag)
  }
  return next
}

/** A field's message goes once its value changes; the form's message stays until the next submit. */
function clearField(errors: FormErrors, field: string): FormErrors {
  if (!(field in errors.fields)) return errors
  const { [field]: _, ...fields } = errors.fields
  return { ...errors, fields }
}

export function contactFormReducer(state: ContactFormState, action: ContactFormAction): ContactFormState {
  switch (action.type) {
    case 'set':
      return { ...state, values: { ...state.values, [action.field]: action.value }, errors: clearField(state.errors, action.field) }
    case 'tagDraft':
      // A comma ends a tag, as in the apps people know.
      if (action.value.includes(',')) {
        const parts = action.value.split(',')
        const rest = parts.pop() ?? ''
        return { ...state, values: { ...state.values, tags: withTags(state.values.tags, parts.join(',')) }, tagDraft: rest, errors: clearField(state.errors, 'tags') }
      }
      return { ...state, tagDraft: action.value }
    case 'addTag':
      return { ...state, values: { ...state.values, tags: withTags(state.values.tags, state.tagDraft) }, tagDraft: '', errors: clearField(state.errors, 'tags') }
    case 'removeTag':
      return { ...state, values: { ...state.values, tags: state.values.tags.filter((tag) => tag !== action.tag) }, errors: clearField(state.errors, 'tags') }
    case 'toggleGroup': {
      const others = state.values.groupIds.filter((id) => id !== action.id)
      return { ...state, values: { ...state.values, groupIds: action.member ? [...others, action.id] : others } }
    }
    case 'submit': {
      // A tag still being typed counts; a missing name never reaches the server.
      const values = { ...state.values, tags: withTags(state.values.tags, state.tagDraft) }
      if (!values.name.trim()) return { ...state, values, tagDraft: '', errors: { fields: { name: 'Enter a name.' }, form: null }, errorsShown: state.errorsShown + 1 }
      return { ...state, values, tagDraft: '', saving: true, errors: NO_ERRORS }
    }
    case 'failed':
      return { ...state, saving: false, errors: action.errors, errorsShown: state.errorsShown + 1 }
    case 'saved':
      return initialFormState(action.values)
  }
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((value, i) => value === b[i])
const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((value) => b.includes(value))

/** `createContact`'s input: the fields given (trimmed), none empty. */
export function createInput(values: ContactValues): CreateInput {
  const input: Record<string, unknown> = { name: values.name.trim() }
  for (const field of TEXT_FIELDS) if (field !== 'name' && values[field].trim()) input[field] = values[field].trim()
  if (values.dunbarCircle) input.dunbarCircle = values.dunbarCircle
  if (values.frequencyPreference) input.frequencyPreference = values.frequencyPreference
  if (values.lastContactDate) input.lastContactDate = localNoon(values.lastContactDate)
  if (values.tags.length > 0) input.tags = values.tags
  return input as CreateInput
}

/** `updateContact`'s input: only what changed from `initial`; a field emptied is null (cleared). */
export function updateInput(initial: ContactValues, values: ContactValues): UpdateInput {
  const input: Record<string, unknown> = {}
  for (const field of TEXT_FIELDS) {
    const value = values[field].trim()
    if (value !== initial[field].trim()) input[field] = value === '' ? null : value
  }
  if (values.dunbarCircle !== initial.dunbarCircle) input.dunbarCircle = values.dunbarCircle || null
  if (values.frequencyPreference !== initial.frequencyPreference) input.frequencyPreference = values.frequencyPreference || null
  if (values.lastContactDate !== initial.lastContactDate) input.lastContactDate = values.lastContactDate ? localNoon(values.lastContactDate) : null
  if (!sameList(values.tags, initial.tags)) input.tags = values.tags
  return input as UpdateInput
}

/** The groups to set with `setContactGroups`, or null when they did not change. */
export function changedGroups(initial: ContactValues, values: ContactValues): string[] | null {
  return sameSet(values.groupIds, initial.groupIds) ? null : values.groupIds
}
