import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { InputError } from '../errors.js'
import { quote } from '../escape.js'
import { createRegistryHandler, type RegistryHandlerOptions } from './handler.js'

/** Where `ipcr serve` listens unless told otherwise. */
export const DEFAULT_LISTEN = '127.0.0.1:5000'

export interface RegistryServerOptions extends RegistryHandlerOptions {
  /** `host:port` (`[v6]:port`); port 0 picks a free one. Default DEFAULT_LISTEN. */
  listen?: string
}

export interface RegistryServer {
  /** `http://host:port`, with the port actually bound. */
  url: string
  /** `host:port` as a registry reference starts (`docker pull <address>/ipfs/<cid>/<name>:<tag>`). */
  address: string
  close: () => Promise<void>
}

/** Splits `host:port`; InputError naming `input` when it is not one. */
export function parseListen (value: string, input = 'listen'): { host: string, port: number } {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(value.trim())
  const port = Number(match?.[3])
  if (match == null || port > 65535) throw new InputError(input, `${quote(value)} is not HOST:PORT (e.g. ${DEFAULT_LISTEN})`)
  return { host: (match[1] ?? match[2]) as string, port }
}

/** Starts the read-only registry (createRegistryHandler) on `listen`; resolves once it accepts connections. */
export async function startRegistryServer (options: RegistryServerOptions): Promise<RegistryServer> {
  const { host, port } = parseListen(options.listen ?? DEFAULT_LISTEN)
  const server = createServer(createRegistryHandler(options))
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const bound = (server.address() as AddressInfo).port
  const address = `${host.includes(':') ? `[${host}]` : host}:${bound}`
  return {
    url: `http://${address}`,
    address,
    close: async () => {
      server.closeAllConnections()
      await new Promise<void>((resolve, reject) => server.close((err) => { err != null ? reject(err) : resolve() }))
    }
  }
}
