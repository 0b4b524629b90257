/**
 * One error vocabulary: a {@link ClientError} becomes a GraphQL error with its
 * `extensions.code`; anything else is logged with the request id and masked
 * (no message, stack or SQL reaches the client). Only those unexpected errors
 * are logged at error level: what a client causes is its own answer, at most a debug line.
 */
import { handleStreamOrSingleExecutionResult, type Plugin } from '@envelop/core'
import { PothosSchemaError, PothosValidationError } from '@pothos/core'
import {
  coerceInputValue,
  GraphQLError,
  isInputType,
  Kind,
  typeFromAST,
  visit,
  BREAK,
  type DocumentNode,
  type GraphQLSchema,
  type ValueNode,
  type VariableDefinitionNode,
} from 'graphql'
import { createGraphQLError, type YogaLogger } from 'graphql-yoga'
import { ClientError } from '../errors.ts'
import { serializeError, type Logger } from '../logger.ts'
import { maskSuggestions } from './anonymous-surface.ts'
import type { GraphQLContext } from './context.ts'

const same = <T>(value: T): T => value

export const UNEXPECTED_ERROR_MESSAGE = 'Unexpected error.'

function coded(error: GraphQLError | undefined, clientError: ClientError): GraphQLError {
  return createGraphQLError(clientError.message, {
    nodes: error?.nodes,
    path: error?.path,
    extensions: { code: clientError.code, ...clientError.details },
  })
}

function masked(error: GraphQLError | undefined, requestId: string | undefined): GraphQLError {
  return createGraphQLError(UNEXPECTED_ERROR_MESSAGE, {
    nodes: error?.nodes,
    path: error?.path,
    extensions: { code: 'INTERNAL_SERVER_ERROR', ...(requestId ? { requestId } : {}) },
  })
}

/**
 * graphql-js parses recursively: a document nested a few thousand levels deep
 * overflows the stack inside its parser. The client's document did that, not a bug of ours.
 */
function isParserOverflow(error: unknown): error is RangeError {
  return error instanceof RangeError && /[\\/]graphql[\\/]language[\\/]/.test(error.stack ?? '')
}

/** What {@link variableField} reads of an execution: its schema, document and raw variables. */
interface Execution {
  schema: GraphQLSchema
  document: DocumentNode
  variableValues?: Record<string, unknown> | null
  operationName?: string | null
}

/** Where variable `name` is used in `value` (an argument's value): the path below the argument, or undefined. */
function pathInValue(value: ValueNode, name: string): (string | number)[] | undefined {
  if (value.kind === Kind.VARIABLE) return value.name.value === name ? [] : undefined
  if (value.kind === Kind.LIST) {
    for (const [index, item] of value.values.entries()) {
      const path = pathInValue(item, name)
      if (path) return [index, ...path]
    }
  }
  if (value.kind === Kind.OBJECT) {
    for (const field of value.fields) {
      const path = pathInValue(field.value, name)
      if (path) return [field.name.value, ...path]
    }
  }
  return undefined
}

/** The argument path where the executed operation first uses variable `name` (`filter.dueBefore`), or undefined. */
function usageOf(execution: Execution, name: string): (string | number)[] | undefined {
  let found: (string | number)[] | undefined
  visit(execution.document, {
    OperationDefinition: (operation) => (execution.operationName && operation.name?.value !== execution.operationName ? false : undefined),
    Argument: (argument) => {
      const path = pathInValue(argument.value, name)
      if (!path) return undefined
      found = [argument.name.value, ...path]
      return BREAK
    },
  })
  return found
}

/** An invalid part of a variable's value: its path as graphql-js prints it in its message, and the field it names. */
interface InvalidPart {
  printed: string
  field: (string | number)[]
}

/**
 * The invalid parts of variable `definition`'s value, in graphql-js's order (it reports one error for each,
 * naming the path only in its message). A missing or unknown input field is named itself (`input.name`),
 * not the object that lacks it.
 */
function invalidPartsOf(execution: Execution, definition: VariableDefinitionNode): InvalidPart[] {
  const type = typeFromAST(execution.schema, definition.type)
  const value = execution.variableValues?.[definition.variable.name.value]
  if (!type || !isInputType(type) || value === undefined) return []
  const parts: InvalidPart[] = []
  coerceInputValue(value, type, (path, _invalid, error) => {
    const named = /^Field "([^"]+)" (?:of required type .* was not provided|is not defined by type)/.exec(error.message)
    const printed = path.map((key) => (typeof key === 'number' ? `[${key}]` : `.${key}`)).join('')
    parts.push({ printed, field: named ? [...path, named[1]!] : [...path] })
  })
  return parts
}

/** How many refusals of each variable path an execution has named so far: two of one path (two missing fields) are told apart by order. */
const refusalsSeen = new WeakMap<Execution, Map<string, number>>()

/**
 * The `field` of graphql-js's refusal of a variable (`Variable "$v" got invalid value ... at "v.x"; ...`, a
 * required one missing): the argument path it fills and the path inside it, as the resolvers name fields
 * (`filter.dueBefore`, `input.tags.0`); the variable's name when no argument uses it. Undefined for any
 * other error.
 */
function variableField(error: GraphQLError, execution: Execution | undefined): string | undefined {
  const definition = error.nodes?.[0]
  if (!execution || error.path || definition?.kind !== Kind.VARIABLE_DEFINITION) return undefined
  const name = definition.variable.name.value
  // The path the message names (none: the variable's value as a whole).
  const printed = new RegExp(`^Variable "\\$${name}" got invalid value .*? at "${name}((?:\\.[_A-Za-z]\\w*|\\[\\d+\\])*)"; `, 's').exec(error.message)?.[1] ?? ''
  const seen = refusalsSeen.get(execution) ?? new Map<string, number>()
  refusalsSeen.set(execution, seen)
  const key = `${name}${printed}`
  const index = seen.get(key) ?? 0
  seen.set(key, index + 1)
  const parts = invalidPartsOf(execution, definition).filter((part) => part.printed === printed)
  return [...(usageOf(execution, name) ?? [name]), ...(parts[index] ?? parts[0])?.field ?? []].join('.')
}

/** The client-facing form of a known error, or undefined for an unexpected one. */
function known(error: GraphQLError | undefined, original: unknown, execution?: Execution): GraphQLError | undefined {
  if (original instanceof ClientError) return coded(error, original)
  if (isParserOverflow(original)) return coded(error, new ClientError('QUERY_TOO_COMPLEX', 'The document is nested too deeply to parse'))
  // Pothos rejects malformed input (e.g. an undecodable global ID) with a validation error.
  if (original instanceof PothosValidationError) return coded(error, new ClientError('BAD_USER_INPUT', original.message))
  // GraphQL's own errors (syntax, validation, variable coercion) are meant for the client;
  // a Pothos schema error is a bug of ours.
  if (!error || original instanceof PothosSchemaError || !(original == null || original instanceof GraphQLError)) return undefined
  // Yoga's request errors carry the JSON parser's error, which quotes the client's whole body: cut to its
  // first words. Changed in place: Yoga picks the HTTP status by the error it made.
  const parserError = error.extensions.originalError as { message?: unknown } | undefined
  if (typeof parserError?.message === 'string') parserError.message = clip(parserError.message, 100)
  const field = error.extensions.field === undefined ? variableField(error, execution) : undefined
  if (error.extensions.code !== undefined && error.message.length <= MAX_MESSAGE_LENGTH && field === undefined) return error
  // graphql-js rejects a variable of the wrong type without a code (nor a field): it is the client's input.
  return createGraphQLError(clip(error.message), {
    nodes: error.nodes,
    path: error.path,
    extensions: { ...error.extensions, code: error.extensions.code ?? 'BAD_USER_INPUT', ...(field === undefined ? {} : { field }) },
  })
}

/** Longest error message sent; longer ones quote the client's own input (a value, a body) at length. */
const MAX_MESSAGE_LENGTH = 1000

function clip(message: string, max = MAX_MESSAGE_LENGTH): string {
  return message.length <= max ? message : `${message.slice(0, max)}…`
}

/** What the client may see of an error raised while executing. */
export function toClientError(error: GraphQLError, context: Partial<GraphQLContext>, logger: Logger, execution?: Execution): GraphQLError {
  const original = error.originalError
  const visible = known(error, original, execution)
  if (visible) return visible
  ;(context.logger ?? logger).error({ err: original, requestId: context.requestId, path: error.path }, 'unexpected error')
  return masked(error, context.requestId)
}

/**
 * Envelop plugin applying {@link toClientError} to every query, mutation and subscription result;
 * with `hideSuggestionsFromAnonymous` (production), also cutting "Did you mean" hints from the
 * errors an anonymous client gets (validation errors are cut by the anonymous-surface guard).
 */
export function useClientErrors(logger: Logger, { hideSuggestionsFromAnonymous = false } = {}): Plugin<GraphQLContext> {
  const hook =
    (context: Partial<GraphQLContext>, execution: Execution) =>
    ({ result, setResult }: { result: { errors?: readonly GraphQLError[] }; setResult: (result: never) => void }) => {
      if (!result.errors?.length) return
      const hide = hideSuggestionsFromAnonymous && !context.userId
      setResult({ ...result, errors: result.errors.map((error) => (hide ? maskSuggestions : same)(toClientError(error, context, logger, execution))) } as never)
    }
  return {
    onExecute: ({ args }) => ({
      onExecuteDone: (payload) => handleStreamOrSingleExecutionResult(payload, hook(args.contextValue, args)),
    }),
    onSubscribe: ({ args }) => ({
      onSubscribeResult: (payload) => handleStreamOrSingleExecutionResult(payload, hook(args.contextValue, args)),
    }),
  }
}

/** Yoga's last line: errors raised outside execution (e.g. while building the context). */
export function maskError(logger: Logger) {
  return (error: unknown): GraphQLError => {
    const graphQLError = error instanceof GraphQLError ? error : undefined
    const original = graphQLError ? graphQLError.originalError : error
    const visible = known(graphQLError, original)
    if (visible) return visible
    logger.error({ err: original }, 'unexpected error')
    return masked(graphQLError, undefined)
  }
}

/** An error as one short line for debug logs: its type and (query-free) message, no stack. */
function summary(value: unknown): unknown {
  if (!(value instanceof Error)) return value
  return { type: value.name, message: (serializeError(value) as { message?: string }).message }
}

/**
 * The logger handed to Yoga. Yoga logs at error level, with the stack, every error
 * its `maskError` changed: that includes client errors given a code, and the
 * unexpected ones {@link maskError} has already logged with their context. So
 * its error lines become debug lines without stacks.
 */
export function yogaLogger(logger: Logger): YogaLogger {
  const line = (args: unknown[]) => (args.length === 1 && typeof args[0] === 'string' ? args[0] : { args: args.map(summary) })
  return {
    debug: (...args: unknown[]) => logger.debug(line(args)),
    info: (...args: unknown[]) => logger.info(line(args)),
    warn: (...args: unknown[]) => logger.warn(line(args)),
    error: (...args: unknown[]) => logger.debug({ errors: args.map(summary) }, 'yoga masked an error (unexpected ones are logged at error by maskError)'),
  }
}

/**
 * For graphql-ws, whose `onSubscribe` parses and validates itself: the errors of
 * a document that does not parse (a syntax error, or one too deep) or does not
 * validate, each with a code as Yoga gives them over HTTP. A parse failure that
 * is not the client's is logged and masked.
 */
export function documentErrors(logger: Logger, stage: 'parse' | 'validate', errors: readonly unknown[]): GraphQLError[] {
  const code = stage === 'parse' ? 'GRAPHQL_PARSE_FAILED' : 'GRAPHQL_VALIDATION_FAILED'
  return errors.map((error) => {
    // graphql-js's own syntax and validation errors are for the client as they are; the rest goes through maskError.
    const visible = error instanceof GraphQLError && error.originalError == null ? error : maskError(logger)(error)
    if (visible.extensions.code !== undefined) return visible
    return createGraphQLError(visible.message, { nodes: visible.nodes, source: visible.source, positions: visible.positions, extensions: { ...visible.extensions, code } })
  })
}
