/**
 * Content lines of vCard (RFC 6350 §3.2) and iCalendar (RFC 5545 §3.1): CRLF line breaks and
 * folding so that no line is longer than 75 octets, the leading space of a continuation
 * included (ical.js's own folder lets continuation lines reach 76), never inside a UTF-8 sequence.
 */

export const CRLF = '\r\n'
/** Longest line, in UTF-8 octets, excluding the line break. */
export const MAX_LINE_OCTETS = 75

const utf8Length = (codePoint: number) => (codePoint < 0x80 ? 1 : codePoint < 0x800 ? 2 : codePoint < 0x10000 ? 3 : 4)

/** `line` folded at {@link MAX_LINE_OCTETS} octets (continuations start with one space), without the final CRLF. */
export function foldLine(line: string): string {
  // Most lines are short: a UTF-16 unit is at most 3 UTF-8 octets (a pair of them, 4).
  if (line.length * 3 <= MAX_LINE_OCTETS || Buffer.byteLength(line, 'utf8') <= MAX_LINE_OCTETS) return line
  let out = ''
  let octets = 0
  let limit = MAX_LINE_OCTETS
  for (const char of line) {
    const size = utf8Length(char.codePointAt(0)!)
    if (octets + size > limit) {
      out += `${CRLF} `
      octets = 1
      limit = MAX_LINE_OCTETS
    }
    out += char
    octets += size
  }
  return out
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/

/**
 * Text as the formats can carry it: CRLF and CR become LF (escaped as `\n` by the writers), and the
 * other control characters but TAB, which neither format allows in a value, are dropped.
 */
export function cleanText(value: string): string {
  if (!CONTROL.test(value)) return value // most text: nothing to change, and one scan instead of two replaces
  // eslint-disable-next-line no-control-regex
  return value.replace(/\r\n?/g, '\n').replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '')
}

/** A value that must stay on one unescaped line (a URI, a handle): line breaks become spaces, controls dropped. */
export function oneLine(value: string): string {
  return cleanText(value).replace(/\n/g, ' ')
}
