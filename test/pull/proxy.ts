import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** A gateway in front of a real one: counts requests and can corrupt one block wherever it appears in an answer. */
export interface GatewayProxy {
  url: string
  /** Path and query of every request, in order. */
  requests: string[]
  /** Answers in which the block was corrupted. */
  corrupted: number
  /** Bytes whose first occurrence in an answer gets one byte flipped (a block's bytes, or a prefix of them). */
  corrupt?: Uint8Array
  close: () => Promise<void>
}

/** Starts the proxy on 127.0.0.1; answers are read whole from `upstream`, then sent on. */
export async function startGatewayProxy (upstream: string): Promise<GatewayProxy> {
  const proxy: GatewayProxy = { url: '', requests: [], corrupted: 0, close: async () => {} }
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    proxy.requests.push(req.url ?? '')
    void (async () => {
      try {
        const answer = await fetch(new URL(req.url ?? '/', upstream), { headers: { accept: req.headers.accept ?? '*/*' }, redirect: 'manual' })
        const body = Buffer.from(await answer.arrayBuffer())
        if (proxy.corrupt != null) {
          const at = body.indexOf(Buffer.from(proxy.corrupt))
          if (at >= 0) {
            body[at + 10] = (body[at + 10] as number) ^ 0xff
            proxy.corrupted++
          }
        }
        const headers: Record<string, string> = {}
        for (const name of ['content-type', 'location']) {
          const value = answer.headers.get(name)
          if (value != null) headers[name] = value
        }
        res.writeHead(answer.status, { ...headers, 'content-length': String(body.length) })
        res.end(body)
      } catch (err) {
        res.writeHead(502)
        res.end(String(err))
      }
    })()
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  proxy.close = async () => {
    server.closeAllConnections()
    await new Promise<void>((resolve) => server.close(() => { resolve() }))
  }
  return proxy
}

/** The CIDs a list of gateway requests asked for (`/ipfs/<cid>…`). */
export function requestedCids (requests: string[]): string[] {
  return requests.map((r) => /^\/ipfs\/([^/?]+)/.exec(r)?.[1]).filter((c): c is string => c != null)
}
