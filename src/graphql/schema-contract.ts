/**
 * The versioning policy of the API as a pure check (docs/partners.md, "Versioning and deprecation"):
 * the published contract (docs/schema.published.graphql, written by `npm run schema:publish`) may only
 * lose or change a part in a breaking way once that part carried, in the published contract,
 * `@deprecated(reason: "... Removal on or after YYYY-MM-DD ...")` with a date that has passed; and every
 * deprecation names such a date, at least {@link DEPRECATION_NOTICE_DAYS} days after the day it is
 * first published. Breaking changes are graphql-js's own `findBreakingChanges` (graphql 16).
 *
 * Types, union members and interfaces cannot carry `@deprecated`: a type may go (or change kind, or leave
 * a union) once it is retired, i.e. every field, argument and input field of the published contract that
 * names it may go. Anything else breaking (a required argument or input field added, an interface
 * dropped, a directive changed) is never allowed.
 */
import {
  BreakingChangeType,
  findBreakingChanges,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  type BreakingChange,
  type GraphQLSchema,
} from 'graphql'

/** Minimum days between publishing a deprecation and the removal date it names. */
export const DEPRECATION_NOTICE_DAYS = 90

/** How a deprecation reason names its removal date (the date is UTC, `YYYY-MM-DD`). */
export const REMOVAL_DATE_PATTERN = /Removal on or after (\d{4}-\d{2}-\d{2})/

/** One rule of the policy broken, at a schema coordinate (`Type.field`, `Type.field(arg:)`, `Enum.VALUE`, `Type`). */
export interface ContractViolation {
  coordinate: string
  /** `breaking-change`, `missing-removal-date`, `short-notice`, `removal-date-moved-earlier`. */
  rule: 'breaking-change' | 'missing-removal-date' | 'short-notice' | 'removal-date-moved-earlier'
  message: string
}

/** A part of a schema that can carry `@deprecated`, with its reason (null: not deprecated). */
interface Deprecatable {
  coordinate: string
  deprecationReason: string | null
  /** The named type it refers to (a field's or argument's type; none for an enum value). */
  refersTo?: string
}

const DAY_MS = 86_400_000

/** `date` as `YYYY-MM-DD` (UTC). */
export function isoDay(date: Date): string {
  return date.toISOString().slice(0, 10)
}

/** Pure: the removal date a deprecation reason names (`YYYY-MM-DD`, a real calendar day), or undefined. */
export function removalDateOf(reason: string | null | undefined): string | undefined {
  const day = reason ? REMOVAL_DATE_PATTERN.exec(reason)?.[1] : undefined
  if (day === undefined) return undefined
  const parsed = new Date(`${day}T00:00:00.000Z`)
  return Number.isNaN(parsed.getTime()) || isoDay(parsed) !== day ? undefined : day
}

/** Every field, argument, input field and enum value of `schema` (introspection types left out), by coordinate. */
function deprecatables(schema: GraphQLSchema): Map<string, Deprecatable> {
  const parts = new Map<string, Deprecatable>()
  const add = (part: Deprecatable) => parts.set(part.coordinate, part)
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__')) continue
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        add({ coordinate: `${type.name}.${field.name}`, deprecationReason: field.deprecationReason ?? null, refersTo: getNamedType(field.type).name })
        for (const arg of field.args) {
          add({ coordinate: `${type.name}.${field.name}(${arg.name}:)`, deprecationReason: arg.deprecationReason ?? null, refersTo: getNamedType(arg.type).name })
        }
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) {
        add({ coordinate: `${type.name}.${field.name}`, deprecationReason: field.deprecationReason ?? null, refersTo: getNamedType(field.type).name })
      }
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) add({ coordinate: `${type.name}.${value.name}`, deprecationReason: value.deprecationReason ?? null })
    }
  }
  return parts
}

/** Pure: the deprecated parts of `schema` by coordinate, each with its reason. */
export function deprecationsOf(schema: GraphQLSchema): Map<string, string> {
  return new Map([...deprecatables(schema).values()].flatMap((part) => (part.deprecationReason === null ? [] : [[part.coordinate, part.deprecationReason] as const])))
}

/**
 * What a breaking change is about: a deprecatable part's coordinate, a type's name (`type`), or
 * nothing that a deprecation can excuse (`never`). graphql 16 describes changes in fixed sentences.
 */
function subjectOf(change: BreakingChange): { part: string } | { type: string } | { never: true } {
  const text = change.description
  switch (change.type) {
    case BreakingChangeType.FIELD_REMOVED:
    case BreakingChangeType.FIELD_CHANGED_KIND: {
      const match = /^(\w+)\.(\w+) /.exec(text)
      return match ? { part: `${match[1]}.${match[2]}` } : { never: true }
    }
    case BreakingChangeType.ARG_REMOVED:
    case BreakingChangeType.ARG_CHANGED_KIND: {
      const match = /^(\w+)\.(\w+) arg (\w+) /.exec(text)
      return match ? { part: `${match[1]}.${match[2]}(${match[3]}:)` } : { never: true }
    }
    case BreakingChangeType.REQUIRED_ARG_ADDED: {
      // A required argument on a field that may go anyway is the field going.
      const match = /^A required arg \w+ on (\w+)\.(\w+) was added\.$/.exec(text)
      return match ? { part: `${match[1]}.${match[2]}` } : { never: true }
    }
    case BreakingChangeType.VALUE_REMOVED_FROM_ENUM: {
      const match = /^(\w+) was removed from enum type (\w+)\.$/.exec(text)
      return match ? { part: `${match[2]}.${match[1]}` } : { never: true }
    }
    case BreakingChangeType.TYPE_REMOVED:
    case BreakingChangeType.TYPE_CHANGED_KIND:
    case BreakingChangeType.TYPE_REMOVED_FROM_UNION: {
      const match = /^(?:Standard scalar )?(\w+) (?:was removed|changed from)/.exec(text)
      return match ? { type: match[1]! } : { never: true }
    }
    default:
      return { never: true }
  }
}

/**
 * Pure: every way `current` breaks the policy against `published` on `today` (only its UTC day counts).
 * Empty when the change is allowed. The rules:
 *
 * 1. `breaking-change`: each of graphql-js's breaking changes from `published` to `current` concerns a part
 *    that carried, in `published`, a removal date on or before today (a type: every part naming it did).
 * 2. `missing-removal-date`: every `@deprecated` of `current` names a date ("Removal on or after YYYY-MM-DD").
 * 3. `short-notice`: a deprecation that `published` does not carry yet names a date at least
 *    {@link DEPRECATION_NOTICE_DAYS} days after today (publish it the day it is added).
 * 4. `removal-date-moved-earlier`: a published removal date never moves earlier.
 */
export function checkSchemaEvolution(published: GraphQLSchema, current: GraphQLSchema, today: Date): ContractViolation[] {
  const day = isoDay(today)
  const earliestNewDate = isoDay(new Date(Date.parse(`${day}T00:00:00.000Z`) + DEPRECATION_NOTICE_DAYS * DAY_MS))
  const before = deprecatables(published)
  const after = deprecatables(current)
  const violations: ContractViolation[] = []

  /** Whether the published part may go today, and why not. */
  const due = (coordinate: string): string | undefined => {
    const part = before.get(coordinate)
    if (!part) return `not in the published contract`
    if (part.deprecationReason === null) return 'it was not deprecated in the published contract'
    const date = removalDateOf(part.deprecationReason)
    if (date === undefined) return 'its published deprecation names no removal date'
    return date <= day ? undefined : `its removal date ${date} has not come (today is ${day})`
  }

  for (const change of findBreakingChanges(published, current)) {
    const subject = subjectOf(change)
    let reason: string | undefined
    let coordinate: string
    if ('part' in subject) {
      coordinate = subject.part
      reason = due(coordinate)
    } else if ('type' in subject) {
      coordinate = subject.type
      const uses = [...before.values()].filter((part) => part.refersTo === subject.type)
      const notDue = uses.find((part) => due(part.coordinate) !== undefined)
      reason = notDue ? `${notDue.coordinate} still uses it and may not go: ${due(notDue.coordinate)}` : undefined
    } else {
      coordinate = change.description.replace(/\.$/, '')
      reason = 'no deprecation can announce this change'
    }
    if (reason !== undefined) violations.push({ coordinate, rule: 'breaking-change', message: `${change.description} Not allowed: ${reason}.` })
  }

  for (const part of after.values()) {
    if (part.deprecationReason === null) continue
    const date = removalDateOf(part.deprecationReason)
    if (date === undefined) {
      violations.push({ coordinate: part.coordinate, rule: 'missing-removal-date', message: `${part.coordinate} is deprecated without "Removal on or after YYYY-MM-DD" in its reason.` })
      continue
    }
    const publishedPart = before.get(part.coordinate)
    const publishedDate = publishedPart?.deprecationReason == null ? undefined : removalDateOf(publishedPart.deprecationReason)
    if (publishedPart?.deprecationReason == null && date < earliestNewDate) {
      violations.push({ coordinate: part.coordinate, rule: 'short-notice', message: `${part.coordinate} is newly deprecated with removal on ${date}: give at least ${DEPRECATION_NOTICE_DAYS} days (${earliestNewDate} or later).` })
    } else if (publishedDate !== undefined && date < publishedDate) {
      violations.push({ coordinate: part.coordinate, rule: 'removal-date-moved-earlier', message: `${part.coordinate}: the published removal date ${publishedDate} may not move earlier (to ${date}).` })
    }
  }
  return violations
}
