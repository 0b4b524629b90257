/**
 * Prisma's schema engine as WebAssembly (`@prisma/schema-engine-wasm`): the
 * Prisma CLI's native engine cannot be downloaded on every machine, the wasm
 * build ships inside the npm package. It talks to the database through the
 * same driver adapter as the client.
 */
import { readFile } from 'node:fs/promises'
import { createRequire } from 'node:module'
import {
  bindMigrationAwareSqlAdapterFactory,
  type SqlDriverAdapter,
  type SqlMigrationAwareDriverAdapterFactory,
} from '@prisma/driver-adapter-utils'
import * as bindings from '@prisma/schema-engine-wasm/schema_engine_bg'
import type { SchemaEngine } from '@prisma/schema-engine-wasm'

// Node has WebAssembly; this project's `lib` (no DOM) does not declare it.
declare const WebAssembly: {
  instantiate(
    bytes: Uint8Array,
    imports: Record<string, Record<string, unknown>>,
  ): Promise<{ instance: { exports: Record<string, unknown> } }>
}

let instantiated: Promise<void> | undefined

/**
 * The package entry imports its `.wasm` as an ES module, which Node 20 rejects,
 * so instantiate it by hand once per process.
 */
function instantiate(): Promise<void> {
  instantiated ??= (async () => {
    const require = createRequire(import.meta.url)
    const wasmPath = require.resolve('@prisma/schema-engine-wasm/schema_engine_bg').replace(/\.js$/, '.wasm')
    const { instance } = await WebAssembly.instantiate(await readFile(wasmPath), {
      './schema_engine_bg.js': bindings as unknown as Record<string, unknown>,
    })
    bindings.__wbg_set_wasm(instance.exports)
    ;(instance.exports.__wbindgen_start as () => void)()
  })()
  return instantiated
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
  /** Frees the engine. Callers close their own database; the engine's adapters share its pool. */
  free(): void
}

export async function openSchemaEngine(
  adapterFactory: SqlMigrationAwareDriverAdapterFactory,
  executeScriptAtomically: (script: string) => Promise<void>,
  log: (message: string) => void = () => {},
): Promise<OpenedSchemaEngine> {
  await instantiate()
  const engine = (await bindings.SchemaEngine.new(
    { datamodels: undefined },
    log,
    bindMigrationAwareSqlAdapterFactory(withAtomicScripts(adapterFactory, executeScriptAtomically)),
  )) as SchemaEngine
  return { engine, free: () => engine.free() }
}
