/**
 * A w3up service for tests: `@web3-storage/upload-api` with its in-memory test
 * context (the one the w3up client's own tests use), served over HTTP on
 * 127.0.0.1: POST / takes UCAN invocations (CAR), GET /receipt/<task> answers
 * receipts (as the real service does), and the context's blob store takes the
 * PUTs of the shards on its own loopback server.
 */
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { CAR as CoreCar, Message, delegate, parseLink } from '@ucanto/core'
import * as ed25519 from '@ucanto/principal/ed25519'
import { CAR } from '@ucanto/transport'
import { createServer } from '@web3-storage/upload-api'
import { registerSpace } from '@web3-storage/upload-api/test'
import { cleanupContext, createContext } from '@web3-storage/upload-api/test/context'

/** node:http whose servers listen on 127.0.0.1 when the context asks for "any port" (`listen(callback)`). */
const loopbackHttp = {
  ...http,
  createServer: (...args: any[]) => {
    const server = (http.createServer as any)(...args) as http.Server
    const listen = server.listen.bind(server) as (...a: any[]) => http.Server
    ;(server as any).listen = (...a: any[]) => typeof a[0] === 'function' ? listen(0, '127.0.0.1', a[0]) : listen(...a)
    return server
  }
}

async function readAll (request: http.IncomingMessage): Promise<Uint8Array> {
  const chunks: Buffer[] = []
  for await (const chunk of request) chunks.push(chunk as Buffer)
  return new Uint8Array(Buffer.concat(chunks))
}

export interface W3upService {
  url: string
  /** did:web:test.web3.storage */
  did: string
  context: any
  /** Every request the service answered: method and path. */
  requests: string[]
  /** A provisioned space with a `*` delegation to `agent` (the space's own key signs it). */
  registerSpace(agent: ed25519.EdSigner): Promise<{ space: ed25519.EdSigner, spaceDid: `did:key:${string}` }>
  stop(): Promise<void>
}

export async function startW3upService (): Promise<W3upService> {
  const context: any = await createContext({ http: loopbackHttp as any, requirePaymentPlan: false })
  const ucanto = createServer(context)
  const requests: string[] = []
  const server = http.createServer((request, response) => {
    void (async () => {
      const url = new URL(request.url ?? '/', 'http://127.0.0.1')
      requests.push(`${request.method ?? ''} ${url.pathname}`)
      if (request.method === 'POST' && url.pathname === '/') {
        const body = await readAll(request)
        const answer = await ucanto.request({ headers: request.headers as Record<string, string>, body })
        response.writeHead(answer.status ?? 200, answer.headers)
        response.end(answer.body)
        return
      }
      const receipt = /^\/receipt\/([A-Za-z0-9]+)$/.exec(url.pathname)
      if (request.method === 'GET' && receipt != null) {
        const found = await context.agentStore.receipts.get(parseLink(receipt[1] as string))
        if (found.error != null) {
          response.writeHead(404).end()
          return
        }
        const message = await Message.build({ receipts: [found.ok] })
        const encoded = CAR.request.encode(message)
        response.writeHead(200, { 'content-type': CoreCar.contentType }).end(encoded.body)
        return
      }
      response.writeHead(404).end()
    })().catch((err) => {
      response.writeHead(500).end(String(err))
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}/`,
    did: context.id.did(),
    context,
    requests,
    registerSpace: async (agent) => {
      const { space, spaceDid } = await registerSpace(agent, context)
      return { space, spaceDid }
    },
    stop: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
      await cleanupContext(context)
    }
  }
}

/** A delegation from `space` to `audience` of `abilities`, as `w3 delegation create --base64` prints it. */
export async function delegationText (space: ed25519.EdSigner, audience: { did(): string }, abilities: string[], withDid: string = space.did()): Promise<string> {
  const { Delegation } = await import('@ucanto/core')
  const { base64 } = await import('multiformats/bases/base64')
  const { identity } = await import('multiformats/hashes/identity')
  const { CID } = await import('multiformats/cid')
  const delegation = await delegate({
    issuer: space,
    audience: audience as any,
    capabilities: abilities.map((can) => ({ can, with: withDid as `did:key:${string}` })) as any,
    expiration: Infinity
  })
  const archive = await Delegation.archive(delegation)
  if (archive.error != null) throw archive.error
  return CID.createV1(0x0202, identity.digest(archive.ok)).toString(base64)
}

/** An agent key as `w3 key create` prints it. */
export async function agentKeyText (): Promise<{ signer: ed25519.EdSigner, text: string }> {
  const signer = await ed25519.generate()
  return { signer, text: `# ${signer.did()}\n${ed25519.format(signer)}\n` }
}
