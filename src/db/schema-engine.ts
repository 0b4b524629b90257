/**
 * Prisma's schema engine as WebAssembly (`@prisma/schema-engine-wasm`): the
 * Prisma CLI's native engine cannot be downloaded on every machine, the wasm
 * build ships inside the npm package. It talks to the database through the
 * same driver adapter as the client.
 *
 * A serving process needs it only while it migrates, and it costs tens of MB (its
 * memory, its compiled code), so it is loaded when an engine is opened and released
 * when the last one is freed. Its JavaScript bindings (wasm-bindgen) keep the instance
 * in module state (the `wasm` pointer, cached views of its memory, closure tables),
 * and an ES module is never unloaded: so each instance gets its own copy of the
 * bindings, evaluated from the package's file, dropped with it.
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { runInThisContext } from 'node:vm'
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils'
import type * as BindingsModule from '@prisma/schema-engine-wasm/schema_engine_bg'
import type { SchemaEngine } from '@prisma/schema-engine-wasm'

// Node has WebAssembly; this project's `lib` (no DOM) does not declare it.
declare const WebAssembly: {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, Record<string, unknown>>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>
}

type Bindings = typeof BindingsModule

interface Loaded {
  bindings: Bindings
  /** The instance's memory (tests hold it weakly to see it collected). */
  memory: object
  /** The engine's timers not yet fired: it sets timeouts it never clears (around its lock and connections). */
  timers: Set<ReturnType<typeof setTimeout>>
}

/** The instance while engines are open (each holds it until freed). */
let loading: Promise<Loaded> | undefined
let loaded: Loaded | undefined
let openEngines = 0
let instantiations = 0

/**
 * A fresh copy of the bindings (`schema_engine_bg.js`, an ES module of `export function` and
 * `export class` declarations without imports), evaluated as a function returning its exports.
 */
function evaluateBindings(source: string, filename: string): Bindings {
  const names: string[] = []
  const body = source.replace(/^export (function|class) (\w+)/gm, (_match, kind: string, name: string) => {
    names.push(name)
    return `${kind} ${name}`
  })
  if (/^\s*(import|export)\b/m.test(body)) throw new Error(`${filename}: unexpected import or export form; update evaluateBindings`)
  return (runInThisContext(`(function () { 'use strict';\n${body}\nreturn { ${names.join(', ')} } })`, { filename }) as () => Bindings)()
}

/**
 * Instantiates the module with its own bindings. (The package entry imports its `.wasm` as an ES
 * module, which Node 20 rejects, so it is instantiated by hand.) The bindings are its imports, but with
 * the engine's `setTimeout` kept track of, so that its timers can be cleared when it is released.
 */
async function instantiate(): Promise<Loaded> {
  const require = createRequire(import.meta.url)
  const bindingsPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg')
  const bindings = evaluateBindings(await readFile(bindingsPath, 'utf8'), bindingsPath)
  const timers = new Set<ReturnType<typeof setTimeout>>()
  const imports: Record<string, unknown> = { ...bindings }
  for (const name of Object.keys(imports).filter((key) => key.startsWith('__wbg_setTimeout_'))) {
    imports[name] = (callback: () => void, ms: number) => {
      const timer = setTimeout(() => {
        timers.delete(timer)
        callback()
      }, ms >>> 0)
      timers.add(timer)
      return timer
    }
  }
  const { instance } = await WebAssembly.instantiate(await readFile(bindingsPath.replace(/\.js$/, '.wasm')), { './schema_engine_bg.js': imports })
  bindings.__wbg_set_wasm(instance.exports)
  ;(instance.exports.__wbindgen_start as () => void)()
  instantiations++
  return { bindings, memory: instance.exports.memory as object, timers }
}

/**
 * What this process did with the wasm module: how many times it instantiated it, and the instance's
 * memory while it holds one (undefined once every engine is freed).
 */
export function schemaEngineState(): { instantiations: number; memory: object | undefined } {
  return { instantiations, memory: loaded?.memory }
}

/**
 * Wraps an adapter factory so every migration script runs in one transaction:
 * the adapters' own `executeScript` runs statements one by one (adapter-pg) or
 * forgets to await them (pglite-prisma-adapter 0.7.2), and a failing migration
 * would be left half-applied or recorded as applied.
 */
function withAtomicScripts(
  factory: SqlMigrationAwareDriverAdapterFactory,
  executeScriptAtomically: (script: string) => Promise<void>,
): SqlMigrationAwareDriverAdapterFactory {
  const wrap = (adapter: SqlDriverAdapter): SqlDriverAdapter =>
    new Proxy(adapter, {
      get(target, property, receiver) {
        if (property === 'executeScript') return executeScriptAtomically
        const value: unknown = Reflect.get(target, property, receiver)
        return typeof value === 'function' ? value.bind(target) : value
      },
    })
  return {
    provider: factory.provider,
    adapterName: factory.adapterName,
    connect: async () => wrap(await factory.connect()),
    connectToShadowDb: () => factory.connectToShadowDb(),
  }
}

export interface OpenedSchemaEngine {
  engine: SchemaEngine
  /**
   * Frees the engine, and releases the wasm instance when no other engine is open.
   * Callers close their own database; the engine's adapters share its pool.
   */
  free(): void
}

/**
 * A schema engine over `adapterFactory` (its migration scripts run through `executeScriptAtomically`),
 * instantiating the wasm module when no engine is open. Call `free()` when done: the module is released
 * with the last engine (it costs tens of MB of memory that a serving process does not need).
 */
export async function openSchemaEngine(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  executeScriptAtomically: (script: string) => Promise<void>,
  log: (message: string) => void = () => {},
): Promise<OpenedSchemaEngine> {
  openEngines++
  let engine: SchemaEngine | undefined
  let open = true
  const done = () => {
    if (!open) return
    open = false
    engine?.free()
    if (--openEngines > 0) return
    // The last engine: drop the instance (its timers would hold it until they fire).
    for (const timer of loaded?.timers ?? []) clearTimeout(timer)
    loading = undefined
    loaded = undefined
  }
  try {
    loading ??= instantiate().then((instance) => (loaded = instance))
    const { bindings } = await loading
    engine = (await bindings.SchemaEngine.new(
      { datamodels: undefined },
      log,
      bindMigrationAwareSqlAdapterFactory(withAtomicScripts(adapterFactory, executeScriptAtomically)),
    )) as SchemaEngine
  } catch (error) {
    done()
    throw error
  }
  return { engine, free: done }
}
