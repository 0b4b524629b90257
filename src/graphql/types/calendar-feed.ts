/**
 * The viewer's iCalendar feed of accepted suggestions (`GET /feeds/<secret>.ics`): see it exists,
 * make a new secret (shown once), turn it off. Thin resolvers over exports/calendar-feed.ts.
 */
import { calendarFeedOf, feedUrl, revokeCalendarFeed, rotateCalendarFeed, type CalendarFeed } from '../../exports/calendar-feed.ts'
import { builder } from '../builder.ts'
import type { GraphQLContext } from '../context.ts'

interface FeedSource extends CalendarFeed {
  url: string | null
}

const CalendarFeedType = builder.objectRef<FeedSource>('CalendarFeed').implement({
  description: "The viewer's iCalendar feed of accepted suggestions, for a calendar app to subscribe to.",
  fields: (t) => ({
    url: t.exposeString('url', {
      nullable: true,
      description: 'The secret URL: only in the answer of rotateCalendarFeed (it is stored as a hash and never shown again); null elsewhere.',
    }),
    createdAt: t.expose('createdAt', { type: 'DateTime', description: 'When the current secret was made' }),
  }),
})

/** Where the feed's URL points: PUBLIC_URL, else the origin of this request, else a path alone (graphql-ws without PUBLIC_URL). */
function originOf(context: GraphQLContext): string {
  if (context.publicUrl) return context.publicUrl
  if (context.request) return new URL(context.request.url).origin
  return ''
}

builder.queryField('calendarFeed', (t) =>
  t.withAuth({ scope: 'calendar:read' }).field({
    type: CalendarFeedType,
    nullable: true,
    description: "The viewer's calendar feed (url null: the secret is shown once, by rotateCalendarFeed), or null when it is off.",
    resolve: async (_root, _args, context) => {
      const feed = await calendarFeedOf(context.prisma, context.userId)
      return feed ? { ...feed, url: null } : null
    },
  }),
)

builder.mutationFields((t) => {
  // The feed's URL is a credential of its own that never expires: only the user's session makes or ends one.
  const authenticated = t.withAuth({ session: true })
  return {
    rotateCalendarFeed: authenticated.field({
      type: CalendarFeedType,
      description:
        "Makes a new secret URL for the calendar feed (256 random bits) and returns it, once; the previous URL stops working at once.",
      resolve: async (_root, _args, context) => {
        const feed = await rotateCalendarFeed(context.prisma, context.userId, context.clock.now())
        return { ...feed, url: feedUrl(originOf(context), feed.secret) }
      },
    }),
    revokeCalendarFeed: authenticated.boolean({
      description: "Turns the calendar feed off: its URL answers 404 from now on. True when there was one.",
      resolve: (_root, _args, context) => revokeCalendarFeed(context.prisma, context.userId),
    }),
  }
})
