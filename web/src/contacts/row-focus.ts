/** Focus after a row leaves a list: the next row's first button, else the previous one's, else the heading. */
import { useCallback, useEffect, useRef, type RefObject } from 'react'

/**
 * `removed(key, index)` after the row `key` at `index` was deleted; once `keys` no longer has it
 * (the list answered again), focus moves to the row now at `index` (its first button), or the
 * last row, or `heading`.
 */
export function useFocusAfterRemoval(keys: readonly string[], list: RefObject<HTMLElement | null>, heading: RefObject<HTMLElement | null>) {
  const pending = useRef<{ key: string; index: number } | null>(null)
  const current = useRef(keys)
  current.current = keys
  const focusAt = useCallback(
    (index: number) => {
      pending.current = null
      const rows = list.current ? [...list.current.querySelectorAll<HTMLElement>(':scope > li')] : []
      const row = rows[Math.min(index, rows.length - 1)]
      const target = row?.querySelector<HTMLElement>('button') ?? heading.current
      target?.focus()
    },
    [list, heading],
  )
  useEffect(() => {
    const removal = pending.current
    if (removal && !keys.includes(removal.key)) focusAt(removal.index)
  }, [keys, focusAt])
  return useCallback(
    (key: string, index: number) => {
      pending.current = { key, index }
      // The list may have answered again already.
      if (!current.current.includes(key)) focusAt(index)
    },
    [focusAt],
  )
}
