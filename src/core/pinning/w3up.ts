/**
 * A w3up-protocol storage service (UCAN invocations over HTTP, the protocol of
 * `@web3-storage/w3up-client`): the CAR is uploaded into a space with the
 * agent key and the delegation the user gives. There is no default service:
 * the public Storacha service has refused uploads since May 2026, so the
 * service URL and DID are always the user's.
 *
 * The client is imported only when a w3up destination runs (preflight, store).
 */
import { openAsBlob } from 'node:fs'
import type { Signer } from '@ucanto/interface'
import type { CID } from 'multiformats/cid'
import type { Destination, DestinationContext, DestinationReport } from '../destinations/types.js'
import { InputError, IpcrError } from '../errors.js'
import { httpFetch } from '../http.js'
import { silentLogger, type Logger, type OperationOptions } from '../logger.js'
import { addSecret, remoteMessage } from '../redact.js'
import { ServiceError } from '../service.js'
import { parseServiceUrl, type ServiceUrl } from '../url.js'
import { grants, parseAgentKey, parseProof, READ_ABILITIES, type W3upProof } from './w3up-proof.js'
import { DEFAULT_PIN_TIMEOUT_MS } from '../destinations/defaults.js'

export interface W3upConfig {
  /** Secret: the agent's private key as `w3 key create` prints it. */
  key: string
  /** Secret: the UCAN delegation (CAR) to that key, as `w3 delegation create --base64` prints it. */
  proof: string
  /** The w3up service's HTTP endpoint (required: no default). */
  serviceUrl?: string
  /** The service's DID, e.g. did:web:… (required: no default). */
  serviceDid?: string
  /** Its failure fails the run; default true. */
  required?: boolean
  /** Bound on one store (upload of every shard, index and upload registration); default 10 minutes. */
  timeoutMs?: number
}

const NO_DEFAULT = 'ipcr has no default w3up service (the public Storacha service has refused uploads since May 2026): give the one your w3up-protocol service publishes'

function registerSecret (value: string): void {
  addSecret(value)
  for (const line of value.split(/\r?\n/)) addSecret(line)
}

function parseDid (value: string | undefined): `did:${string}:${string}` {
  const text = value?.trim() ?? ''
  if (text === '') throw new InputError('w3up-service-did', `is required: ${NO_DEFAULT}`)
  if (!/^did:[a-z0-9]+:[A-Za-z0-9._:%-]+$/.test(text)) throw new InputError('w3up-service-did', `'${text.slice(0, 100)}' is not a DID (expected e.g. did:web:upload.example.org)`)
  return text as `did:${string}:${string}`
}

interface Receipt { out: { ok?: unknown, error?: { name?: string, message?: string } } }

export class W3upDestination implements Destination {
  readonly kind = 'w3up'
  readonly label: string
  readonly needsCar = true
  readonly required: boolean
  readonly space: `did:key:${string}`
  readonly serviceDid: `did:${string}:${string}`
  private readonly url: ServiceUrl
  private readonly agent: Signer<`did:key:${string}`>
  private readonly proof: W3upProof
  private readonly timeoutMs: number
  private readonly logger: Logger

  constructor (config: W3upConfig, logger: Logger = silentLogger) {
    if (typeof config.key !== 'string' || config.key.trim() === '') throw new InputError('w3up-key', 'is required: the agent private key (`w3 key create`)')
    if (typeof config.proof !== 'string' || config.proof.trim() === '') throw new InputError('w3up-proof', 'is required: the delegation to the agent key (`w3 delegation create <agent did> --base64`)')
    registerSecret(config.key)
    registerSecret(config.proof)
    if (config.serviceUrl == null || config.serviceUrl.trim() === '') throw new InputError('w3up-service-url', `is required: ${NO_DEFAULT}`)
    this.url = parseServiceUrl(config.serviceUrl, 'w3up-service-url')
    this.serviceDid = parseDid(config.serviceDid)
    this.agent = parseAgentKey(config.key)
    this.proof = parseProof(config.proof, this.agent.did())
    this.space = this.proof.space
    this.required = config.required ?? true
    this.timeoutMs = config.timeoutMs ?? DEFAULT_PIN_TIMEOUT_MS
    if (!Number.isFinite(this.timeoutMs) || this.timeoutMs <= 0) throw new InputError('pin-timeout', 'must be a positive duration')
    this.logger = logger
    this.label = `w3up service ${this.serviceDid} ${this.url.label}`
  }

  /** fetch for the ucanto channel, blob PUTs and receipt polls: through http.ts, bounded by `signal`. */
  private fetchFor (signal: AbortSignal): typeof globalThis.fetch {
    return async (input, init) => {
      const url = new URL(input instanceof Request ? input.url : String(input))
      const headers: Record<string, string> = {}
      new Headers(init?.headers).forEach((value, name) => { headers[name] = value })
      if (this.url.authorization != null && url.origin === this.url.url.origin) headers.authorization ??= this.url.authorization
      const body = init?.body
      return await httpFetch(url, {
        label: `${url.origin}${url.pathname}`,
        method: init?.method ?? 'GET',
        headers,
        ...(body != null ? { body: body as Uint8Array } : {}),
        signal
      })
    }
  }

  private async connection (signal: AbortSignal): Promise<any> {
    const [{ connect }, { CAR, HTTP }, { DID }] = await Promise.all([import('@ucanto/client'), import('@ucanto/transport'), import('@ucanto/core')])
    return connect({
      id: DID.parse(this.serviceDid),
      codec: CAR.outbound,
      channel: HTTP.open({ url: this.url.url, method: 'POST', fetch: this.fetchFor(signal) as any }) as any
    })
  }

  private failure (what: string, err: unknown): ServiceError {
    const message = err instanceof Error ? err.message : String(err)
    return new ServiceError(`${this.label}: ${what}: ${remoteMessage(message)}`, undefined, { cause: err })
  }

  /** Space access: a cheap read the proof grants (space/info, upload/list, space/blob/list), answered by the service. */
  async preflight (options: OperationOptions): Promise<void> {
    const logger = options.logger ?? this.logger
    const signal = options.signal != null ? AbortSignal.any([options.signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs)
    const read = READ_ABILITIES.find((a) => this.proof.abilities.some((g) => grants(g, a)))
    const can = read ?? 'space/info'
    const nb = can === 'space/info' ? undefined : { size: 1 }
    const { invoke, DID } = await import('@ucanto/core')
    let receipt: Receipt
    try {
      const connection = await this.connection(signal)
      const invocation = invoke({
        issuer: this.agent,
        audience: DID.parse(this.serviceDid),
        capability: { can, with: this.space, ...(nb != null ? { nb } : {}) } as any,
        proofs: [this.proof.delegation]
      })
      receipt = await invocation.execute(connection) as Receipt
    } catch (err) {
      throw this.failure(`could not ask for ${can} on space ${this.space}`, err)
    }
    const error = receipt.out.error
    if (error == null) {
      logger.info(`${this.label}: space ${this.space} is accessible (${can})`)
      return
    }
    // A proof granting only the upload abilities cannot read the space: the service's identity was checked (the audience), the proof is checked by the upload.
    if (read == null && error.name === 'Unauthorized') {
      logger.warn(`${this.label}: the proof grants no read ability (${READ_ABILITIES.join(', ')}), so preflight checked the service's identity only; the upload checks the proof`)
      return
    }
    const hint = error.name === 'InvalidAudience' ? ` (is ${this.serviceDid} the DID of this service?)` : ''
    throw new ServiceError(`${this.label} refused ${can} on space ${this.space}${hint}: ${remoteMessage(`${error.name ?? 'Error'}: ${error.message ?? ''}`)}`)
  }

  async store (context: DestinationContext): Promise<DestinationReport> {
    if (context.carPath == null) throw new IpcrError('ERR_INTERNAL', `${this.label}: no CAR to upload`)
    const logger = context.logger ?? this.logger
    const signal = context.signal != null ? AbortSignal.any([context.signal, AbortSignal.timeout(this.timeoutMs)]) : AbortSignal.timeout(this.timeoutMs)
    const fetch = this.fetchFor(signal)
    // The Client class and an in-memory agent: the package's create() would also bundle its on-disk config store.
    const [{ Client }, { AgentData }, { StoreMemory }] = await Promise.all([
      import('@web3-storage/w3up-client/client'), import('@web3-storage/access/agent'), import('@web3-storage/w3up-client/stores/memory')
    ])
    const connection = await this.connection(signal)
    const data = await AgentData.create({ principal: this.agent as any }, { store: new StoreMemory() })
    const client = new Client(data, {
      serviceConf: { access: connection, upload: connection, filecoin: connection },
      receiptsEndpoint: new URL('/receipt/', this.url.url)
    })
    await client.addSpace(this.proof.delegation as any)
    await client.setCurrentSpace(this.space)
    const shards: string[] = []
    let root: CID | { toString(): string }
    try {
      const car = await openAsBlob(context.carPath)
      root = await client.uploadCAR(car, {
        signal,
        fetch,
        receiptsEndpoint: new URL('/receipt/', this.url.url).toString(),
        onShardStored: (meta: { cid: { toString(): string } }) => {
          shards.push(meta.cid.toString())
          logger.info(`${this.label}: shard ${meta.cid.toString()} stored in space ${this.space}`)
        }
      } as any)
    } catch (err) {
      if (signal.aborted && context.signal?.aborted !== true) throw this.failure(`upload not finished within ${Math.round(this.timeoutMs / 1000)} s`, err)
      throw this.failure(`upload of ${context.root.toString()} to space ${this.space} failed`, causeOf(err))
    }
    if (root.toString() !== context.root.toString()) {
      throw new ServiceError(`${this.label}: the upload registered root ${root.toString()}, not ${context.root.toString()}`)
    }
    return {
      kind: this.kind,
      label: this.label,
      details: { service: this.serviceDid, space: this.space, root: root.toString(), shards: shards.join(' '), shardCount: shards.length }
    }
  }

  // No cleanup: w3up has no replace, and an earlier upload of this registry stays in the space
  // (removing it would also drop blocks the new root shares when the CAR holds only new blocks).
}

/** The client wraps a refused invocation as `failed <ability> invocation` with the service's error as cause. */
function causeOf (err: unknown): unknown {
  if (!(err instanceof Error) || err.cause == null) return err
  const cause = err.cause as { name?: string, message?: string }
  return new Error(`${err.message}: ${cause.name ?? 'Error'}: ${cause.message ?? ''}`)
}
