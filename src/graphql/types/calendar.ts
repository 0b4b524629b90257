/**
 * The viewer's time: weekly availability windows and busy calendar events, with their
 * mutations (thin resolvers over `calendar/calendar-writes.ts`, which validates and announces).
 */
import { addCalendarEvent, removeCalendarEvent, setAvailability } from '../../calendar/calendar-writes.ts'
import { builder } from '../builder.ts'

/** A weekly window of availability (GraphQL `Availability`). */
export const AvailabilityType = builder.prismaObject('Availability', {
  fields: (t) => ({ weekday: t.exposeInt('weekday'), startMinute: t.exposeInt('startMinute'), endMinute: t.exposeInt('endMinute') }),
})

const AvailabilityWindowInput = builder.inputType('AvailabilityWindowInput', {
  fields: (t) => ({
    weekday: t.int({ required: true, description: 'ISO: 1 = Monday ... 7 = Sunday' }),
    startMinute: t.int({ required: true, description: 'Minutes after local midnight' }),
    endMinute: t.int({ required: true }),
  }),
})

/** A busy event (GraphQL `CalendarEvent`; not a Relay node: its id is the row's UUID). */
export const CalendarEventType = builder.prismaObject('CalendarEvent', {
  fields: (t) => ({
    id: t.exposeID('id'),
    title: t.exposeString('title', { nullable: true }),
    startsAt: t.expose('startsAt', { type: 'DateTime' }),
    endsAt: t.expose('endsAt', { type: 'DateTime' }),
  }),
})

const CalendarEventInput = builder.inputType('CalendarEventInput', {
  fields: (t) => ({
    title: t.string(),
    startsAt: t.field({ type: 'DateTime', required: true }),
    endsAt: t.field({ type: 'DateTime', required: true }),
  }),
})

builder.mutationFields((t) => {
  const authenticated = t.withAuth({ scope: 'calendar:write' })
  return {
    setAvailability: authenticated.field({
      type: [AvailabilityType],
      // It answers the windows it was sent (at most 100, else BAD_USER_INPUT): their number times the selection, not a fixed 10.
      complexity: (args) => ({ field: 1, multiplier: args.windows.length <= 100 ? args.windows.length : 0 }),
      args: { windows: t.arg({ type: [AvailabilityWindowInput], required: true }), timezone: t.arg.string() },
      resolve: (_root, args, context) => setAvailability(context, context.userId, args.windows, args.timezone),
    }),
    addCalendarEvent: authenticated.field({
      type: CalendarEventType,
      args: { input: t.arg({ type: CalendarEventInput, required: true }) },
      resolve: (_root, { input }, context) => addCalendarEvent(context, context.userId, input, context.quotas.calendarEvents),
    }),
    removeCalendarEvent: authenticated.boolean({
      args: { id: t.arg.id({ required: true }) },
      resolve: (_root, { id }, context) => removeCalendarEvent(context, context.userId, String(id)),
    }),
  }
})
