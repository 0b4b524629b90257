/**
 * A Pothos plugin that names the argument of a global id the Relay plugin cannot decode. Relay decodes
 * every `t.arg.globalID` / `globalIDList` (and such input fields, at any depth) in one argument mapper and
 * throws a PothosValidationError that names the id, not the argument: its BAD_USER_INPUT had no
 * `extensions.field`. This plugin's mapper runs just before Relay's (it is listed after Relay: Pothos
 * builds field configs from the last plugin to the first) and checks the same ids the same way
 * (base64 of `Type:id`, and a type the argument accepts), throwing BAD_USER_INPUT with the argument's
 * path as `field` (`id`, `groupIds.2`, `filter.group`). Ids that pass are left to Relay unchanged.
 */
import SchemaBuilder, { BasePlugin, mapInputFields, PothosValidationError, type InputFieldsMapping, type InputTypeFieldsMapping, type PothosOutputFieldConfig, type SchemaTypes } from '@pothos/core'
import { decodeGlobalID } from '@pothos/plugin-relay'
import { badUserInput } from '../errors.ts'

/** The plugin's name in the builder's `plugins`. */
export const GLOBAL_ID_FIELDS_PLUGIN = 'globalIdFields'

declare global {
  // eslint-disable-next-line @typescript-eslint/no-namespace
  export namespace PothosSchemaTypes {
    interface Plugins<Types extends SchemaTypes> {
      globalIdFields: GlobalIdFieldsPlugin<Types>
    }
  }
}

/** What an id argument accepts: the typenames of its `for` (null: any node type). */
interface IdRule {
  typenames: string[] | null
}

/** Checks one global id; throws BAD_USER_INPUT naming `field` when Relay would refuse it. */
function checkId(value: unknown, rule: IdRule, field: string): void {
  let typename: string
  try {
    typename = decodeGlobalID(String(value)).typename
  } catch (error) {
    if (error instanceof PothosValidationError) throw badUserInput(`${field}: not an id`, field)
    throw error
  }
  if (rule.typenames && !rule.typenames.includes(typename)) throw badUserInput(`${field}: not the id of a ${rule.typenames.join(' or ')}`, field)
}

/** Walks `value` (a list `depth` deep) calling `visit` with each item and its path. */
function eachItem(value: unknown, depth: number, path: string, visit: (item: unknown, path: string) => void): void {
  if (value === null || value === undefined) return
  if (depth === 0) return visit(value, path)
  if (Array.isArray(value)) value.forEach((item, index) => eachItem(item, depth - 1, `${path}.${index}`, visit))
}

/** Checks every id of `values` (arguments, or an input object's fields) that `mappings` marks. */
function checkIds<Types extends SchemaTypes>(values: Record<string, unknown>, mappings: InputFieldsMapping<Types, IdRule>, prefix: string): void {
  for (const [name, mapping] of mappings) {
    eachItem(values[name], mapping.listDepth, `${prefix}${name}`, (item, path) => {
      if (mapping.kind === 'InputObject') {
        if (mapping.fields.map && typeof item === 'object') checkIds(item as Record<string, unknown>, mapping.fields.map, `${path}.`)
      } else if (mapping.value) checkId(item, mapping.value, path)
    })
  }
}

/** The plugin (see the module comment). */
export class GlobalIdFieldsPlugin<Types extends SchemaTypes> extends BasePlugin<Types> {
  private readonly mappingCache = new Map<string, InputTypeFieldsMapping<Types, IdRule>>()

  override onOutputFieldConfig(fieldConfig: PothosOutputFieldConfig<Types>): PothosOutputFieldConfig<Types> {
    const mappings = mapInputFields<Types, IdRule>(
      fieldConfig.args,
      this.buildCache,
      (inputField) => {
        const extensions = inputField.extensions as { isRelayGlobalID?: boolean; relayGlobalIDFor?: { typename: string }[] | null } | undefined
        if (!extensions?.isRelayGlobalID) return null
        return { typenames: extensions.relayGlobalIDFor ? extensions.relayGlobalIDFor.map((type) => type.typename) : null }
      },
      this.mappingCache,
    )
    if (!mappings) return fieldConfig
    return {
      ...fieldConfig,
      argMappers: [
        ...(fieldConfig.argMappers ?? []),
        (args) => {
          checkIds(args, mappings, '')
          return args
        },
      ],
    }
  }
}

SchemaBuilder.registerPlugin(GLOBAL_ID_FIELDS_PLUGIN, GlobalIdFieldsPlugin)
