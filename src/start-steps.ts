/**
 * What `npm start` tells a person on the terminal while it starts (development only; the JSON log is
 * for machines): each step with how long it took, then where to go and how to sign in (issue 13, item 8:
 * the first start printed nothing for about 50 s).
 */
import { SECOND_MS } from './time.ts'

/** Where the lines go (stderr), or null for none (production: the JSON log says it all). */
type Out = { write(text: string): unknown } | null

/** How often a step still running says so (ms): a first start's database creation takes 10-50 s. */
export const PROGRESS_EVERY_MS = 5_000

/**
 * The start's narrator: `run` a step, then `ready` with the URL.
 *
 * @param out where the lines go; null: nowhere.
 * @param timers the clock for the progress ticks (tests pass fake ones).
 */
export function startSteps(out: Out, timers: Pick<typeof globalThis, 'setInterval' | 'clearInterval'> = globalThis) {
  const say = (text: string) => out?.write(text)
  return {
    /**
     * Runs `work`, saying what it does before, the seconds it has taken every {@link PROGRESS_EVERY_MS}
     * while it runs, and how long it took after (with `summary` of its result).
     */
    async run<T>(what: string, work: () => Promise<T>, summary?: (result: T) => string): Promise<T> {
      say(`- ${what}...`)
      const started = performance.now()
      let ticks = 0
      const ticker = out ? timers.setInterval(() => say(` ${(++ticks * PROGRESS_EVERY_MS) / SECOND_MS} s...`), PROGRESS_EVERY_MS) : undefined
      try {
        const result = await work()
        say(` done${summary ? `, ${summary(result)}` : ''} (${((performance.now() - started) / SECOND_MS).toFixed(1)} s)\n`)
        return result
      } catch (error) {
        say(' failed\n')
        throw error
      } finally {
        timers.clearInterval(ticker)
      }
    },
    /** The end: the web app, GraphiQL, and the demo token when there is one. */
    ready(graphqlUrl: string, demoToken: string | undefined): void {
      const web = graphqlUrl.replace(/graphql$/, '')
      say(
        [
          '',
          `  Web app   ${web}`,
          `  GraphiQL  ${graphqlUrl}`,
          demoToken
            ? `  Sign in   open either on this machine: the demo user's token is filled in.\n            From a shell: curl ${graphqlUrl} -H "authorization: Bearer ${demoToken}" -H 'content-type: application/json' -d '{"query":"{ me { email } }"}'`
            : '  Sign in   with a token: npm run -s token -- --user <email>',
          '',
          '',
        ].join('\n'),
      )
    },
  }
}
