/** Focus after a row leaves a list: the next row's first button, else the previous one's, else the heading. */
import { useCallback, useEffect, useRef, type RefObject } from 'react'

/**
 * `removed(key, index)` after the row `key` at `index` was deleted; once `keys` no longer has it
 * (the list answered again), focus moves to the row now at `index` (its first button), or the
 * last row, or `heading`.
 */
export function useFocusAfterRemoval(keys: readonly string[], list: RefObject<HTMLElement | null>, heading: RefObject<HTMLElement | null>) {
  const pending = useRef<{ key: string; index: number } | null>(null)
  useEffect(() => {
    const removal = pending.current
    if (!removal || keys.includes(removal.key)) return
    pending.current = null
    const rows = list.current ? [...list.current.querySelectorAll<HTMLElement>(':scope > li')] : []
    const row = rows[Math.min(removal.index, rows.length - 1)]
    const target = row?.querySelector<HTMLElement>('button') ?? heading.current
    target?.focus()
  }, [keys, list, heading])
  return useCallback((key: string, index: number) => void (pending.current = { key, index }), [])
}
