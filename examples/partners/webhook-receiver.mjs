/**
 * A webhook receiver (docs/partners.md, "Webhooks"), in plain Node: verifies each delivery's Standard Webhooks
 * signature on the raw body with the `standardwebhooks` package, handles each `webhook-id` once (a retry or a
 * redelivery of an event already handled is answered 2xx and skipped), and prints the events.
 *
 *   WEBHOOK_SECRET=whsec_... PORT=3000 node examples/partners/webhook-receiver.mjs
 *
 * Environment:
 *   WEBHOOK_SECRET  the endpoint's signing secret (createWebhookEndpoint or rotateWebhookSecret show it once)
 *   PORT            the port to listen on (default 3000; 0: any free port)
 *   HOST            the address to listen on (default 127.0.0.1)
 *
 * Prints `listening on http://<host>:<port>/webhooks`, then one line per delivery: `<type> <webhook-id>
 * <timestamp> <data as JSON>`, or `duplicate <webhook-id>: already handled`. A request whose signature does not
 * verify is answered 400 and printed on stderr (`refused: <why>`). SIGINT or SIGTERM stops it (`stopped (SIGINT)`,
 * exit code 0). Not for production as it is: it keeps the ids handled in memory (a real receiver keeps them in its
 * database, longer than the 3 days of retries) and does its work before answering (keep that under 15 s).
 */
import { createServer } from 'node:http'
import { Webhook } from 'standardwebhooks'

const secret = process.env.WEBHOOK_SECRET
if (!secret?.startsWith('whsec_')) {
  console.error('Set WEBHOOK_SECRET to the endpoint\'s secret (whsec_...): see docs/partners.md, "Webhooks".')
  process.exit(1)
}
const port = Number(process.env.PORT ?? 3000)
const host = process.env.HOST ?? '127.0.0.1'

const webhook = new Webhook(secret)
const handled = new Set() // the webhook-ids handled: keep them in your database

const server = createServer(async (request, response) => {
  if (request.method !== 'POST' || request.url !== '/webhooks') return void response.writeHead(404).end()
  const chunks = []
  for await (const chunk of request) chunks.push(chunk)
  const body = Buffer.concat(chunks) // the raw bytes: the signature covers them exactly
  let event
  try {
    event = webhook.verify(body, request.headers) // any v1 signature of webhook-signature; webhook-timestamp within 5 min
  } catch (error) {
    console.error(`refused: ${error.message}`)
    return void response.writeHead(400).end() // not from the server, altered, or too old
  }
  const id = request.headers['webhook-id']
  if (handled.has(id)) {
    console.log(`duplicate ${id}: already handled`) // a retry, or a redelivery
  } else {
    handled.add(id)
    console.log(`${event.type} ${id} ${event.timestamp} ${JSON.stringify(event.data)}`)
  }
  response.writeHead(204).end() // any 2xx within 15 s: delivered
})

server.listen(port, host, () => console.log(`listening on http://${host}:${server.address().port}/webhooks`))

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.once(signal, () => {
    server.closeAllConnections()
    server.close(() => {
      console.log(`stopped (${signal})`)
      process.exit(0)
    })
  })
}
