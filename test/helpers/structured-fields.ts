/**
 * A strict parser of the Structured Field Lists the RateLimit header fields are (RFC 9651 section 4.2,
 * the subset they use: Items that are Strings, Tokens or Integers, with Parameters of those types and
 * Byte Sequences). Written from the RFC for the tests, so that a field we send is checked by a reader
 * that is not our writer. Throws on anything RFC 9651 would fail to parse.
 */
export type BareItem = string | number | { token: string } | { bytes: string }
export interface ListItem {
  value: BareItem
  params: Map<string, BareItem | true>
}

/** Parses an sf-list field value (RFC 9651 section 4.2.1). */
export function parseList(input: string): ListItem[] {
  let i = 0
  const peek = () => input[i]
  const skipSP = () => {
    while (input[i] === ' ') i++
  }
  const skipOWS = () => {
    while (input[i] === ' ' || input[i] === '\t') i++
  }
  const fail = (why: string): never => {
    throw new SyntaxError(`${why} at ${i} in ${JSON.stringify(input)}`)
  }
  const parseKey = () => {
    if (!/[a-z*]/.test(peek() ?? '')) fail('key')
    let key = ''
    while (/[a-z0-9_\-.*]/.test(peek() ?? '')) key += input[i++]
    return key
  }
  const parseBare = (): BareItem => {
    const c = peek() ?? ''
    if (c === '-' || /\d/.test(c)) {
      const match = /^-?\d{1,15}/.exec(input.slice(i))
      if (!match) return fail('integer')
      if (input[i + match[0].length] === '.') fail('decimals are not used here')
      i += match[0].length
      return Number(match[0])
    }
    if (c === '"') {
      i++
      let out = ''
      for (;;) {
        const ch = input[i++]
        if (ch === undefined) return fail('unterminated string')
        if (ch === '\\') {
          const next = input[i++]
          if (next !== '"' && next !== '\\') fail('bad escape')
          out += next
        } else if (ch === '"') return out
        else if (ch < ' ' || ch > '~') fail('non-printable character in a string')
        else out += ch
      }
    }
    if (c === ':') {
      const end = input.indexOf(':', i + 1)
      if (end < 0) fail('unterminated byte sequence')
      const bytes = input.slice(i + 1, end)
      if (!/^[A-Za-z0-9+/=]*$/.test(bytes)) fail('bad base64')
      i = end + 1
      return { bytes }
    }
    if (/[A-Za-z*]/.test(c)) {
      let token = ''
      while (/[!#$%&'*+\-.^_`|~0-9A-Za-z:/]/.test(peek() ?? '')) token += input[i++]
      return { token }
    }
    return fail('bare item')
  }
  const parseParams = () => {
    const params = new Map<string, BareItem | true>()
    while (peek() === ';') {
      i++
      skipSP()
      const key = parseKey()
      let value: BareItem | true = true
      if (peek() === '=') {
        i++
        value = parseBare()
      }
      params.set(key, value)
    }
    return params
  }
  const items: ListItem[] = []
  skipSP()
  while (i < input.length) {
    if (peek() === '(') fail('inner lists are not used here')
    items.push({ value: parseBare(), params: parseParams() })
    skipOWS()
    if (i >= input.length) return items
    if (peek() !== ',') fail('expected a comma')
    i++
    skipOWS()
    if (i >= input.length) fail('trailing comma')
  }
  return items
}
