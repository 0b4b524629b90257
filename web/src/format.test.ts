import { describe, expect, it } from 'vitest'
import { circleLabel, describeSlot, formatCount, formatDate, formatDateTime, formatTime, zoneCity } from './format.ts'

describe('format', () => {
  const slot = { start: '2026-03-29T00:30:00.000Z', end: '2026-03-29T01:00:00.000Z' }

  it('shows a slot in the user zone and in the contact zone, across a DST change', () => {
    // 00:30Z on the night Berlin moves to summer time (at 01:00Z): 01:30 CET.
    expect(describeSlot(slot, 'Europe/Berlin', 'Asia/Kolkata')).toEqual({
      yours: 'Sun 29 Mar, 01:30–03:00',
      theirs: 'Sun 29 Mar, 06:00 their time (Kolkata)',
    })
    expect(describeSlot(slot, 'America/New_York', null)).toEqual({ yours: 'Sat 28 Mar, 20:30–21:00', theirs: null })
  })

  it('falls back to the browser zone for an unknown zone name instead of throwing', () => {
    expect(() => formatDateTime(slot.start, 'Mars/Olympus_Mons')).not.toThrow()
  })

  it('writes every date one way (en-GB, 24 h) whatever the browser language, in the zone asked for', () => {
    // 23:30Z on 31 Dec: already the next year in Berlin, still the old one in New York.
    const iso = '2026-12-31T23:30:00.000Z'
    expect(formatDate(iso, 'Europe/Berlin')).toBe('1 Jan 2027')
    expect(formatDate(iso, 'America/New_York')).toBe('31 Dec 2026')
    expect(formatDateTime(iso, 'Europe/Berlin')).toBe('Fri 1 Jan, 00:30')
    expect(formatTime(iso, 'Europe/Berlin')).toBe('00:30')
    expect(formatTime('2026-06-01T13:05:00.000Z', 'UTC')).toBe('13:05')
  })

  it('writes counts with thousands separators', () => {
    expect(formatCount(1965)).toBe('1,965')
    expect(formatCount(0)).toBe('0')
    expect(formatCount(1234567)).toBe('1,234,567')
  })

  it('names zones and circles for people', () => {
    expect(zoneCity('America/Argentina/Buenos_Aires')).toBe('Buenos Aires')
    expect(zoneCity('UTC')).toBe('UTC')
    expect(circleLabel('INNER')).toBe('Inner circle')
    expect(circleLabel(null)).toBe('No circle')
  })
})
