/**
 * One DNS request and its response over TCP (2-byte length prefix) or UDP,
 * with a timeout and the caller's abort signal. A response must carry the
 * request's ID; over UDP, datagrams from elsewhere or with another ID are ignored.
 */
import { createSocket } from 'node:dgram'
import { createConnection, isIP } from 'node:net'
import { InputError } from '../errors.js'

export interface DnsServer { host: string, port: number }

/** `host`, `host:port`, `[v6]` or `[v6]:port`; port 53 when absent. */
export function parseServer (text: string, input: string): DnsServer {
  const t = text.trim()
  let host = t
  let port = 53
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(t)
  if (bracketed != null) {
    host = bracketed[1] as string
    if (bracketed[2] != null) port = Number(bracketed[2])
  } else if (isIP(t) !== 6) {
    const m = /^([^:]+)(?::(\d+))?$/.exec(t)
    if (m == null) throw new InputError(input, 'expected host or host:port')
    host = m[1] as string
    if (m[2] != null) port = Number(m[2])
  }
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new InputError(input, 'the port must be 1 to 65535')
  if (isIP(host) === 0 && !/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.?$/.test(host)) throw new InputError(input, 'the host is not an IP address or a host name')
  return { host, port }
}

/** `host:port`, `[v6]:port`. */
export function serverText (s: DnsServer): string {
  return isIP(s.host) === 6 ? `[${s.host}]:${s.port}` : `${s.host}:${s.port}`
}

export interface ExchangeOptions {
  protocol: 'tcp' | 'udp'
  timeoutMs: number
  signal?: AbortSignal
}

/** Largest UDP response read (EDNS is not used, but some servers send more than 512 bytes anyway). */
const MAX_UDP = 65535

export async function exchange (server: DnsServer, request: Buffer, options: ExchangeOptions): Promise<Buffer> {
  options.signal?.throwIfAborted()
  const id = request.readUInt16BE(0)
  return await new Promise<Buffer>((resolve, reject) => {
    let settled = false
    const cleanups: Array<() => void> = []
    const finish = (err: Error | null, value?: Buffer): void => {
      if (settled) return
      settled = true
      for (const c of cleanups) c()
      if (err != null) reject(err)
      else resolve(value as Buffer)
    }
    const timer = setTimeout(() => finish(new Error(`no answer within ${options.timeoutMs / 1000} s`)), options.timeoutMs)
    cleanups.push(() => clearTimeout(timer))
    const onAbort = (): void => finish(options.signal?.reason instanceof Error ? options.signal.reason : new Error('aborted'))
    options.signal?.addEventListener('abort', onAbort, { once: true })
    cleanups.push(() => options.signal?.removeEventListener('abort', onAbort))

    if (options.protocol === 'udp') {
      const socket = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4')
      cleanups.push(() => socket.close())
      socket.on('error', (err) => finish(err))
      socket.on('message', (msg) => {
        if (msg.length >= 12 && msg.length <= MAX_UDP && msg.readUInt16BE(0) === id) finish(null, msg)
      })
      // Connected: only the server's datagrams arrive.
      socket.connect(server.port, server.host, () => {
        socket.send(request, (err) => { if (err != null) finish(err) })
      })
      return
    }

    const socket = createConnection({ host: server.host, port: server.port })
    cleanups.push(() => socket.destroy())
    const prefix = Buffer.alloc(2)
    prefix.writeUInt16BE(request.length, 0)
    socket.on('error', (err) => finish(err))
    socket.on('connect', () => socket.write(Buffer.concat([prefix, request])))
    let received = Buffer.alloc(0)
    socket.on('data', (chunk: Buffer) => {
      received = Buffer.concat([received, chunk])
      if (received.length < 2) return
      const length = received.readUInt16BE(0)
      if (received.length < 2 + length) return
      const msg = received.subarray(2, 2 + length)
      if (msg.length < 12 || msg.readUInt16BE(0) !== id) finish(new Error('the response does not answer the request (wrong ID)'))
      else finish(null, Buffer.from(msg))
    })
    socket.on('end', () => finish(new Error('the server closed the connection without a full answer')))
  })
}
