import { InputError } from '../errors.js'
import type { OperationOptions } from '../logger.js'
import { addSecret } from '../redact.js'
import { sleep } from '../retry.js'
import { ServiceError, callService } from '../service.js'
import { absoluteName, inZone, parseDomainName, plainName } from './name.js'
import { apiBaseUrl, sdkHttpOptions, viaSdk, type SdkHttpConfig, type SdkHttpOptions } from './sdk-http.js'
import { quoteTxt, unquoteTxt } from './txt.js'
import type { DnsLinkResult, DnsLinkUpsert, DnsProvider } from './types.js'
import { checkDnsLinkUpsert, planDnsLink, planResult } from './upsert.js'

/**
 * Amazon Route 53 through its SDK (`@aws-sdk/client-route-53`, loaded when
 * first used). The SDK signs (SigV4) and serialises; its requests are sent by a
 * handler that goes through service.ts. Credentials come from the standard
 * AWS environment variables (as aws-actions/configure-aws-credentials leaves them).
 *
 * Route 53 keeps one TXT record set per name (simple routing): the set is read,
 * its dnslink= value replaced or added, the other values kept as they were, and
 * the whole set written back with UPSERT; optionally the change is polled until INSYNC.
 */

export interface Route53Config extends SdkHttpConfig {
  /** `route53-hosted-zone-id`, e.g. `Z0123456789ABC` (a `/hostedzone/` prefix is dropped). */
  hostedZoneId: string
  /** Signing region; default AWS_REGION, AWS_DEFAULT_REGION, else us-east-1 (Route 53 is global). */
  region?: string
  /** The API endpoint (tests); default the SDK's. */
  endpoint?: string
  /** Where credentials are read; default process.env. */
  env?: Record<string, string | undefined>
  /** Poll GetChange until the change is INSYNC; default false. */
  waitForSync?: boolean
  /** Between GetChange polls; default 5 s. */
  syncPollMs?: number
  /** GetChange polls before giving up; default 36 (3 minutes at 5 s). */
  syncPolls?: number
}

const MAX_PAGES = 20

type Route53Module = typeof import('@aws-sdk/client-route-53')
type Route53Client = import('@aws-sdk/client-route-53').Route53Client
type RecordSet = import('@aws-sdk/client-route-53').ResourceRecordSet

/** The SDK's HTTP request, as its handler receives it. */
interface SdkRequest {
  method: string
  protocol: string
  hostname: string
  port?: number
  path: string
  query?: Record<string, string | string[] | null>
  headers: Record<string, string>
  body?: string | Uint8Array
}

/** A smithy HttpHandler that sends through callService (a non-2xx answer throws a ServiceError with Route 53's error XML, summarised). */
function serviceHandler (options: SdkHttpOptions): object {
  return {
    metadata: { handlerProtocol: 'http/1.1' },
    async handle (request: SdkRequest) {
      const url = new URL(`${request.protocol}//${request.hostname}${request.port != null ? `:${request.port}` : ''}${request.path}`)
      for (const [key, value] of Object.entries(request.query ?? {})) {
        if (value == null) url.searchParams.append(key, '')
        else for (const v of Array.isArray(value) ? value : [value]) url.searchParams.append(key, v)
      }
      // fetch sets these itself and refuses some of them.
      const headers = Object.fromEntries(Object.entries(request.headers).filter(([k]) => !['host', 'content-length', 'transfer-encoding'].includes(k.toLowerCase())))
      const response = await callService(url, {
        label: options.label, method: request.method, headers, body: request.body, signal: options.signal,
        timeoutMs: options.timeoutMs, retries: options.retries, retryDelayMs: options.retryDelayMs, logger: options.logger, fetch: options.fetch
      })
      const out: Record<string, string> = {}
      response.headers.forEach((value, key) => { out[key] = value })
      return { response: { statusCode: response.status, reason: '', headers: out, body: response.body } }
    },
    updateHttpClientConfig () {},
    httpHandlerConfigs () { return {} },
    destroy () {}
  }
}

/** Route 53 answers names with `\ooo` escapes (e.g. `\052` for `*`). */
function sameName (a: string, b: string): boolean {
  const clean = (n: string): string => plainName(n.replace(/\\(\d{3})/g, (_m, d: string) => String.fromCharCode(Number.parseInt(d, 8))))
  return clean(a) === clean(b)
}

export class Route53Provider implements DnsProvider {
  readonly kind = 'route53'
  readonly label: string
  private readonly config: Route53Config
  private readonly hostedZoneId: string
  private readonly region: string
  private readonly endpoint?: string
  private readonly credentials: { accessKeyId: string, secretAccessKey: string, sessionToken?: string }
  private sdkModule?: Promise<Route53Module>

  constructor (config: Route53Config) {
    const zone = (config.hostedZoneId ?? '').trim().replace(/^\/?hostedzone\//, '')
    if (zone === '') throw new InputError('route53-hosted-zone-id', 'required for dns-provider route53')
    if (!/^[A-Z0-9]{1,32}$/.test(zone)) throw new InputError('route53-hosted-zone-id', 'expected a hosted zone ID such as Z0123456789ABCDEFGHIJ')
    this.hostedZoneId = zone
    const env = config.env ?? process.env
    const accessKeyId = env.AWS_ACCESS_KEY_ID?.trim() ?? ''
    const secretAccessKey = env.AWS_SECRET_ACCESS_KEY?.trim() ?? ''
    const sessionToken = env.AWS_SESSION_TOKEN?.trim()
    if (accessKeyId === '' || secretAccessKey === '') {
      throw new InputError('dns-provider', 'route53 takes its credentials from the environment: AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), as aws-actions/configure-aws-credentials sets them; they are not set')
    }
    addSecret(secretAccessKey)
    if (sessionToken != null && sessionToken !== '') addSecret(sessionToken)
    this.credentials = { accessKeyId, secretAccessKey, ...(sessionToken != null && sessionToken !== '' ? { sessionToken } : {}) }
    this.region = config.region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? 'us-east-1'
    if (!/^[a-z]{2}(-[a-z]+)+-\d+$/.test(this.region)) throw new InputError('dns-provider', `route53: the AWS region ${JSON.stringify(this.region)} is not a region name`)
    this.endpoint = config.endpoint != null ? apiBaseUrl(config.endpoint, 'route53-endpoint') : undefined
    this.config = config
    this.label = `Route 53${this.endpoint != null ? ` ${this.endpoint}` : ''} (hosted zone ${zone})`
  }

  private async client (options: OperationOptions): Promise<{ sdk: Route53Module, client: Route53Client }> {
    this.sdkModule ??= import('@aws-sdk/client-route-53')
    const sdk = await this.sdkModule
    // One client per operation: the handler carries the operation's signal and logger.
    const client = new sdk.Route53Client({
      region: this.region,
      credentials: this.credentials,
      maxAttempts: 1, // service.ts retries
      ...(this.endpoint != null ? { endpoint: this.endpoint } : {}),
      requestHandler: serviceHandler(sdkHttpOptions(this.label, this.config, options)) as never
    })
    return { sdk, client }
  }

  /** The simple-routing TXT set at `name`, or undefined; reads on from NextRecordName while the list is still at that name and type. */
  private async recordSet (name: string, options: OperationOptions): Promise<RecordSet | undefined> {
    const { sdk, client } = await this.client(options)
    return await viaSdk(this.label, async () => {
      let start: { name: string, type: string, identifier?: string } = { name: absoluteName(name), type: 'TXT' }
      const withPolicy: string[] = []
      for (let page = 0; page < MAX_PAGES; page++) {
        const answer = await client.send(new sdk.ListResourceRecordSetsCommand({
          HostedZoneId: this.hostedZoneId, StartRecordName: start.name, StartRecordType: start.type as never, StartRecordIdentifier: start.identifier, MaxItems: 100
        }))
        for (const set of answer.ResourceRecordSets ?? []) {
          if (set.Name == null || !sameName(set.Name, name) || set.Type !== 'TXT') return this.noSimpleSet(name, withPolicy)
          if (set.SetIdentifier == null) return set
          withPolicy.push(set.SetIdentifier)
        }
        if (answer.IsTruncated !== true || answer.NextRecordName == null || answer.NextRecordType == null) return this.noSimpleSet(name, withPolicy)
        start = { name: answer.NextRecordName, type: answer.NextRecordType, ...(answer.NextRecordIdentifier != null ? { identifier: answer.NextRecordIdentifier } : {}) }
      }
      throw new ServiceError(`${this.label}: more than ${MAX_PAGES} pages of TXT record sets at ${name}`)
    })
  }

  private noSimpleSet (name: string, withPolicy: string[]): undefined {
    if (withPolicy.length > 0) {
      const shown = withPolicy.slice(0, 5).map((s) => JSON.stringify(s)).join(', ') + (withPolicy.length > 5 ? ', …' : '')
      throw new ServiceError(`${this.label}: ${name} has ${withPolicy.length} TXT record sets with a routing policy (set identifiers ${shown}); ipcr writes only a simple-routing set`)
    }
    return undefined
  }

  async preflight (name: string, options: OperationOptions): Promise<void> {
    name = parseDomainName(name, 'dnslink-domain')
    const { sdk, client } = await this.client(options)
    const zone = await viaSdk(this.label, async () => await client.send(new sdk.GetHostedZoneCommand({ Id: this.hostedZoneId })))
    const zoneName = zone.HostedZone?.Name ?? ''
    if (!inZone(name, zoneName)) throw new InputError('route53-hosted-zone-id', `hosted zone ${this.hostedZoneId} is ${zoneName}, which does not hold ${name}`)
    await this.recordSet(name, options)
  }

  async readTxt (name: string, options: OperationOptions): Promise<string[]> {
    name = parseDomainName(name, 'dnslink-domain')
    const set = await this.recordSet(name, options)
    return (set?.ResourceRecords ?? []).map((r) => unquoteTxt(r.Value ?? ''))
  }

  async upsertDnsLink (request: DnsLinkUpsert, options: OperationOptions): Promise<DnsLinkResult> {
    const upsert = checkDnsLinkUpsert(request)
    const set = await this.recordSet(upsert.name, options)
    const existing = set?.ResourceRecords ?? []
    const plan = planDnsLink(this.label, upsert.name, existing.map((r) => unquoteTxt(r.Value ?? '')), upsert.value)
    if (plan.action === 'unchanged') return planResult(plan)
    // The other values are written back exactly as Route 53 gave them.
    const others = existing.filter((_, i) => plan.action === 'create' || i !== plan.index)
    const records = [...others.map((r) => ({ Value: r.Value ?? '' })), { Value: quoteTxt(upsert.value) }]
    // One TTL per set: a set that holds other values keeps its TTL.
    const ttl = others.length > 0 && set?.TTL != null ? set.TTL : upsert.ttl
    const { sdk, client } = await this.client(options)
    const answer = await viaSdk(this.label, async () => await client.send(new sdk.ChangeResourceRecordSetsCommand({
      HostedZoneId: this.hostedZoneId,
      ChangeBatch: {
        Comment: `ipcr: dnslink at ${upsert.name}`,
        Changes: [{ Action: 'UPSERT', ResourceRecordSet: { Name: absoluteName(upsert.name), Type: 'TXT', TTL: ttl, ResourceRecords: records } }]
      }
    })))
    if (this.config.waitForSync === true && answer.ChangeInfo?.Id != null) await this.waitInSync(answer.ChangeInfo.Id, answer.ChangeInfo.Status, options)
    return planResult(plan)
  }

  /** Polls GetChange until INSYNC, a bounded number of times. */
  async waitInSync (changeId: string, status: string | undefined, options: OperationOptions): Promise<void> {
    const polls = this.config.syncPolls ?? 36
    const pollMs = this.config.syncPollMs ?? 5000
    const { sdk, client } = await this.client(options)
    for (let i = 0; status !== 'INSYNC'; i++) {
      if (i >= polls) throw new ServiceError(`${this.label}: change ${changeId} was accepted but is still ${status ?? 'PENDING'} after ${polls} checks ${Math.round(pollMs / 1000)} s apart`)
      await sleep(pollMs, options.signal)
      const answer = await viaSdk(this.label, async () => await client.send(new sdk.GetChangeCommand({ Id: changeId })))
      status = answer.ChangeInfo?.Status
    }
    options.logger?.debug(`${this.label}: change ${changeId} is INSYNC`)
  }
}
