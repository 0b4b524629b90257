/** Relay connections over the keyset pages of the domain (imports, interactions, suggestions by status). */

/** A page as the domain reads it: its rows, whether more follow, and a signed cursor per row. */
export interface KeysetPage<T> {
  rows: T[]
  hasMore: boolean
  cursorAt(index: number): string
  /** Rows across all pages, counted only when called (a connection's `totalCount`, when selected). */
  totalCount?: () => Promise<number>
}

/** What a connection field resolves to: edges, pageInfo, and the page's lazy total. */
export interface ConnectionValue<T> {
  edges: { node: T; readonly cursor: string }[]
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null }
  totalCount?: () => Promise<number>
}

/** `page` as a Relay connection; cursors are signed only when asked for. */
export function connectionOf<T>(page: KeysetPage<T>, after: string | null | undefined): ConnectionValue<T> {
  const edges = page.rows.map((node, index) => ({
    node,
    get cursor() {
      return page.cursorAt(index)
    },
  }))
  return {
    edges,
    pageInfo: { hasNextPage: page.hasMore, hasPreviousPage: Boolean(after), startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
    ...(page.totalCount ? { totalCount: page.totalCount } : {}),
  }
}

/** The `totalCount` of a connection value made by {@link connectionOf} (or given by its resolver). */
export function totalCountOf(connection: object): Promise<number> {
  const count = (connection as { totalCount?: () => Promise<number> }).totalCount
  if (!count) throw new Error('this connection has no totalCount')
  return count()
}

/** Cost of a page field: `first` times its selection (out of range: 0, the resolver refuses it with BAD_USER_INPUT). */
export function pageComplexity(defaultFirst: number, maxFirst: number) {
  return (args: { first?: number | null }) => {
    const first = args.first ?? defaultFirst
    return { field: 1, multiplier: first >= 1 && first <= maxFirst ? first : 0 }
  }
}
