import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/**
 * In-memory stand-ins for the hosted DNS APIs, on 127.0.0.1. Each checks every
 * request against the provider's documented API and answers in its documented
 * shapes; a request that does not match is recorded in `violations` and
 * answered 400, so a test fails on it. `requests` logs method and path+query.
 */

export interface Logged { method: string, url: string, body: string }

export interface MockApi {
  url: string
  requests: Logged[]
  violations: string[]
  close: () => Promise<void>
}

type Handler = (req: IncomingMessage, url: URL, body: string, res: ServerResponse, violation: (message: string) => void) => void

async function serve (handler: Handler): Promise<MockApi & { server: Server }> {
  const requests: Logged[] = []
  const violations: string[] = []
  const server = createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (c: Buffer) => chunks.push(c))
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8')
      const url = new URL(req.url ?? '/', 'http://127.0.0.1')
      requests.push({ method: req.method ?? '', url: url.pathname + url.search, body })
      let answered = false
      const violation = (message: string): void => {
        violations.push(`${req.method} ${url.pathname}${url.search}: ${message}`)
        if (!answered) { answered = true; res.writeHead(400, { 'content-type': 'text/plain' }).end(`mock: ${message}`) }
      }
      try {
        handler(req, url, body, res, violation)
      } catch (err) {
        violation(`mock failed: ${(err as Error).message}`)
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    requests,
    violations,
    close: async () => { server.closeAllConnections(); await new Promise<void>((resolve) => server.close(() => resolve())) }
  }
}

function json (res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(value))
}

function expectQuery (url: URL, allowed: string[], required: string[], violation: (m: string) => void): boolean {
  for (const key of url.searchParams.keys()) if (!allowed.includes(key)) { violation(`unexpected query parameter ${key}`); return false }
  for (const key of required) if (!url.searchParams.has(key)) { violation(`missing query parameter ${key}`); return false }
  return true
}

function parseJson (body: string, violation: (m: string) => void): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(body) as unknown
    if (typeof value === 'object' && value != null && !Array.isArray(value)) return value as Record<string, unknown>
  } catch {}
  violation('the body is not a JSON object')
  return undefined
}

function exactKeys (value: Record<string, unknown>, keys: string[], violation: (m: string) => void): boolean {
  const got = Object.keys(value).sort()
  if (JSON.stringify(got) !== JSON.stringify([...keys].sort())) { violation(`body keys ${got.join(',')}, expected ${[...keys].sort().join(',')}`); return false }
  return true
}

// ---------------------------------------------------------------------------
// Cloudflare API v4 (https://developers.cloudflare.com/api/), as the `cloudflare` SDK 7 models it.
// - Auth: `Authorization: Bearer <API token>` (developers.cloudflare.com/fundamentals/api/get-started/create-token/).
// - Envelope: {success, errors: [{code, message}], messages, result, result_info: {page, per_page, count, total_count, total_pages}}.
// - Auth failure: HTTP 401 (or 403) with {success:false, errors:[{code:10000, message:"Authentication error"}], messages:[], result:null}.
// - GET /zones?name=…  (List Zones), GET /zones/{zone_id} (Zone Details).
// - GET /zones/{zone_id}/dns_records?type=TXT&name.exact=…&per_page=…&page=… (List DNS Records; name filters are case-insensitive; per_page 5..5000000, default 100).
// - POST /zones/{zone_id}/dns_records {type, name, content, ttl} (Create DNS Record), PUT /zones/{zone_id}/dns_records/{id} (Overwrite DNS Record).
// ---------------------------------------------------------------------------

export interface CloudflareRecord { id: string, type: string, name: string, content: string, ttl: number }

export interface CloudflareMock extends MockApi {
  zone: { id: string, name: string }
  records: CloudflareRecord[]
}

export async function cloudflareMock (token: string, zone: { id: string, name: string }): Promise<CloudflareMock> {
  const records: CloudflareRecord[] = []
  let next = 1
  const cfError = (res: ServerResponse, status: number, code: number, message: string): void => json(res, status, { success: false, errors: [{ code, message }], messages: [], result: null })
  const ok = (res: ServerResponse, result: unknown, info?: unknown): void => json(res, 200, { success: true, errors: [], messages: [], result, ...(info != null ? { result_info: info } : {}) })
  const api = await serve((req, url, body, res, violation) => {
    if (!url.pathname.startsWith('/client/v4/')) return violation('not under /client/v4')
    if (req.headers.authorization !== `Bearer ${token}`) return cfError(res, 401, 10000, 'Authentication error')
    if (req.headers['x-auth-key'] != null || req.headers['x-auth-email'] != null) return violation('a token request must not send X-Auth-Key/X-Auth-Email')
    const path = url.pathname.slice('/client/v4'.length)
    const page = Number(url.searchParams.get('page') ?? '1')
    const perPage = Number(url.searchParams.get('per_page') ?? '100')
    if (!(page >= 1) || !(perPage >= 5 && perPage <= 5_000_000)) return violation(`page ${page} / per_page ${perPage} out of the documented range`)
    if (req.method === 'GET' && path === '/zones') {
      if (!expectQuery(url, ['name', 'per_page', 'page'], ['name'], violation)) return
      const found = url.searchParams.get('name') === zone.name ? [{ id: zone.id, name: zone.name, status: 'active' }] : []
      return ok(res, found, { page, per_page: perPage, count: found.length, total_count: found.length, total_pages: found.length > 0 ? 1 : 0 })
    }
    if (req.method === 'GET' && path === `/zones/${zone.id}`) {
      if (!expectQuery(url, [], [], violation)) return
      return ok(res, { id: zone.id, name: zone.name, status: 'active' })
    }
    if (!path.startsWith(`/zones/${zone.id}/dns_records`)) {
      if (/^\/zones\/[^/]+/.test(path)) return cfError(res, 404, 7003, 'Could not route to /zones/…, perhaps your object identifier is invalid?')
      return violation('no such endpoint')
    }
    const rest = path.slice(`/zones/${zone.id}/dns_records`.length)
    if (req.method === 'GET' && rest === '') {
      if (!expectQuery(url, ['type', 'name.exact', 'per_page', 'page'], ['type', 'name.exact'], violation)) return
      const name = (url.searchParams.get('name.exact') ?? '').toLowerCase()
      const matching = records.filter((r) => r.type === url.searchParams.get('type') && r.name.toLowerCase() === name)
      const slice = matching.slice((page - 1) * perPage, page * perPage)
      return ok(res, slice.map((r) => ({ ...r, zone_id: zone.id, zone_name: zone.name, proxiable: false, proxied: false })),
        { page, per_page: perPage, count: slice.length, total_count: matching.length, total_pages: Math.ceil(matching.length / perPage) })
    }
    if (req.method === 'POST' && rest === '') {
      const value = parseJson(body, violation)
      if (value == null || !exactKeys(value, ['type', 'name', 'content', 'ttl'], violation)) return
      if (value.type !== 'TXT' || typeof value.name !== 'string' || typeof value.content !== 'string' || typeof value.ttl !== 'number') return violation('bad record fields')
      if (!/^"(?:[^"\\]|\\.)*"( "(?:[^"\\]|\\.)*")*$/.test(value.content)) return violation('TXT content is not in quoted form')
      const record = { id: `rec${next++}`.padEnd(32, '0'), type: 'TXT', name: value.name, content: value.content, ttl: value.ttl }
      records.push(record)
      return ok(res, { ...record, zone_id: zone.id })
    }
    const id = /^\/([0-9a-z]+)$/.exec(rest)?.[1]
    if (req.method === 'PUT' && id != null) {
      const record = records.find((r) => r.id === id)
      if (record == null) return cfError(res, 404, 81044, 'Record does not exist.')
      const value = parseJson(body, violation)
      if (value == null || !exactKeys(value, ['type', 'name', 'content', 'ttl'], violation)) return
      if (value.type !== 'TXT' || value.name !== record.name || typeof value.content !== 'string' || typeof value.ttl !== 'number') return violation('bad record fields')
      if (!/^"(?:[^"\\]|\\.)*"( "(?:[^"\\]|\\.)*")*$/.test(value.content)) return violation('TXT content is not in quoted form')
      record.content = value.content
      record.ttl = value.ttl
      return ok(res, { ...record, zone_id: zone.id })
    }
    return violation('no such endpoint')
  })
  return { ...api, zone, records }
}

// ---------------------------------------------------------------------------
// DNSimple API v2 (https://developer.dnsimple.com/v2/), as the `dnsimple` SDK 7 calls it.
// - Auth: `Authorization: Bearer <token>` (developer.dnsimple.com/v2/#authentication); failure HTTP 401 {"message": "Authentication failed"}.
// - Errors are {"message": …}, e.g. 404 {"message":"Zone `0` not found"} (dnsimple-developer fixtures/v2/api/notfound-zone.http).
// - GET /v2/{account}/zones/{zone} → {data: zone} (getZone).
// - GET /v2/{account}/zones/{zone}/records?name=…&type=…&page=…&per_page=… → {data: [...], pagination: {current_page, per_page, total_entries, total_pages}}
//   (listZoneRecords; `name` is an exact match of the relative name; per_page at most 100; fixtures/v2/api/listZoneRecords/success.http).
// - POST /v2/{account}/zones/{zone}/records {name, type, content, ttl} → 201 {data} (createZoneRecord/created.http).
// - PATCH /v2/{account}/zones/{zone}/records/{id} {content, ttl} → 200 {data} (updateZoneRecord).
// ---------------------------------------------------------------------------

export interface DnsimpleRecord { id: number, zone_id: string, name: string, type: string, content: string, ttl: number }

export interface DnsimpleMock extends MockApi {
  records: DnsimpleRecord[]
}

export async function dnsimpleMock (token: string, accountId: number, zone: string): Promise<DnsimpleMock> {
  const records: DnsimpleRecord[] = []
  let next = 100
  const full = (r: DnsimpleRecord): unknown => ({ ...r, parent_id: null, priority: null, regions: ['global'], system_record: false, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' })
  const api = await serve((req, url, body, res, violation) => {
    if (req.headers.authorization !== `Bearer ${token}`) return json(res, 401, { message: 'Authentication failed' })
    if (req.headers.accept !== 'application/json') return violation('Accept is not application/json')
    const m = /^\/v2\/(\d+)\/zones\/([^/]+)(\/records(?:\/(\d+))?)?$/.exec(url.pathname)
    if (m == null) return violation('no such endpoint')
    if (Number(m[1]) !== accountId) return json(res, 404, { message: `Account \`${m[1]}\` not found` })
    if (decodeURIComponent(m[2] ?? '') !== zone) return json(res, 404, { message: `Zone \`${m[2]}\` not found` })
    if (req.method === 'GET' && m[3] == null) {
      if (!expectQuery(url, [], [], violation)) return
      return json(res, 200, { data: { id: 1, account_id: accountId, name: zone, reverse: false, secondary: false, active: true, created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' } })
    }
    if (req.method === 'GET' && m[3] === '/records') {
      if (!expectQuery(url, ['name', 'name_like', 'type', 'sort', 'page', 'per_page'], ['name', 'type'], violation)) return
      const page = Number(url.searchParams.get('page') ?? '1')
      const perPage = Number(url.searchParams.get('per_page') ?? '30')
      if (!(page >= 1) || !(perPage >= 1 && perPage <= 100)) return violation('page/per_page out of the documented range')
      const matching = records.filter((r) => r.name === url.searchParams.get('name') && r.type === url.searchParams.get('type'))
      const slice = matching.slice((page - 1) * perPage, page * perPage)
      return json(res, 200, { data: slice.map(full), pagination: { current_page: page, per_page: perPage, total_entries: matching.length, total_pages: Math.max(1, Math.ceil(matching.length / perPage)) } })
    }
    if (req.method === 'POST' && m[3] === '/records') {
      if (req.headers['content-type'] !== 'application/json') return violation('Content-Type is not application/json')
      const value = parseJson(body, violation)
      if (value == null || !exactKeys(value, ['name', 'type', 'content', 'ttl'], violation)) return
      if (value.type !== 'TXT' || typeof value.name !== 'string' || typeof value.content !== 'string' || typeof value.ttl !== 'number') return violation('bad record fields')
      const record = { id: next++, zone_id: zone, name: value.name, type: 'TXT', content: value.content, ttl: value.ttl }
      records.push(record)
      return json(res, 201, { data: full(record) })
    }
    if (req.method === 'PATCH' && m[4] != null) {
      const record = records.find((r) => r.id === Number(m[4]))
      if (record == null) return json(res, 404, { message: `Record \`${m[4]}\` not found` })
      const value = parseJson(body, violation)
      if (value == null || !exactKeys(value, ['content', 'ttl'], violation)) return
      if (typeof value.content !== 'string' || typeof value.ttl !== 'number') return violation('bad record fields')
      record.content = value.content
      record.ttl = value.ttl
      return json(res, 200, { data: full(record) })
    }
    return violation('no such endpoint')
  })
  return { ...api, records }
}

// ---------------------------------------------------------------------------
// Amazon Route 53 API 2013-04-01 (https://docs.aws.amazon.com/Route53/latest/APIReference/), REST-XML.
// - Auth: AWS Signature Version 4: `Authorization: AWS4-HMAC-SHA256 Credential=<key id>/<yyyymmdd>/<region>/route53/aws4_request,
//   SignedHeaders=…, Signature=<64 hex>`, with X-Amz-Date (and X-Amz-Security-Token for temporary credentials).
// - Errors: <ErrorResponse xmlns="https://route53.amazonaws.com/doc/2013-04-01/"><Error><Type>Sender</Type><Code>…</Code><Message>…</Message></Error><RequestId>…</RequestId></ErrorResponse>;
//   an unknown key id is 403 InvalidClientTokenId.
// - GET /2013-04-01/hostedzone/{Id} (GetHostedZone).
// - GET /2013-04-01/hostedzone/{Id}/rrset?name=&type=&identifier=&maxitems= (ListResourceRecordSets): sets sorted by name with labels
//   reversed, then type, then SetIdentifier; starts at the first set >= name/type; IsTruncated, NextRecordName/Type/Identifier, MaxItems.
// - POST /2013-04-01/hostedzone/{Id}/rrset (ChangeResourceRecordSets): ChangeResourceRecordSetsRequest with ChangeBatch/Changes/Change
//   (Action CREATE|DELETE|UPSERT, ResourceRecordSet Name/Type/TTL/ResourceRecords/ResourceRecord/Value) → ChangeInfo {Id, Status PENDING, SubmittedAt}.
// - GET /2013-04-01/change/{Id} (GetChange) → ChangeInfo with Status PENDING | INSYNC.
// ---------------------------------------------------------------------------

export interface Route53Set { name: string, type: string, ttl: number, values: string[], setIdentifier?: string, weight?: number }

export interface Route53Mock extends MockApi {
  sets: Route53Set[]
  /** GetChange answers PENDING this many times before INSYNC. */
  pendingPolls: number
}

const xmlEscape = (s: string): string => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
const xmlUnescape = (s: string): string => s.replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&#x([0-9a-f]+);/gi, (_m, h: string) => String.fromCharCode(parseInt(h, 16))).replace(/&amp;/g, '&')
const NS = 'https://route53.amazonaws.com/doc/2013-04-01/'

function sortKey (set: { name: string, type: string, setIdentifier?: string }): string {
  return `${set.name.replace(/\.$/, '').split('.').reverse().join('.')}\u0000${set.type}\u0000${set.setIdentifier ?? ''}`
}

function setXml (s: Route53Set): string {
  return `<ResourceRecordSet><Name>${xmlEscape(s.name)}</Name><Type>${s.type}</Type>${s.setIdentifier != null ? `<SetIdentifier>${xmlEscape(s.setIdentifier)}</SetIdentifier><Weight>${s.weight ?? 1}</Weight>` : ''}<TTL>${s.ttl}</TTL><ResourceRecords>${s.values.map((v) => `<ResourceRecord><Value>${xmlEscape(v)}</Value></ResourceRecord>`).join('')}</ResourceRecords></ResourceRecordSet>`
}

export async function route53Mock (accessKeyId: string, region: string, zone: { id: string, name: string }, sessionToken?: string): Promise<Route53Mock> {
  const state = { sets: [] as Route53Set[], pendingPolls: 0 }
  const changes = new Map<string, number>()
  let next = 1
  const error = (res: ServerResponse, status: number, code: string, message: string): void => {
    res.writeHead(status, { 'content-type': 'text/xml' }).end(`<?xml version="1.0"?>\n<ErrorResponse xmlns="${NS}"><Error><Type>Sender</Type><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error><RequestId>mock-${next++}</RequestId></ErrorResponse>`)
  }
  const xml = (res: ServerResponse, body: string): void => { res.writeHead(200, { 'content-type': 'text/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`) }
  const api = await serve((req, url, body, res, violation) => {
    const auth = req.headers.authorization ?? ''
    const m = /^AWS4-HMAC-SHA256 Credential=([^/]+)\/(\d{8})\/([a-z0-9-]+)\/([a-z0-9]+)\/aws4_request, SignedHeaders=([a-z0-9;-]+), Signature=([0-9a-f]{64})$/.exec(auth)
    if (m == null) return violation(`Authorization is not a SigV4 header: ${JSON.stringify(auth.slice(0, 60))}`)
    if (m[3] !== region) return violation(`signed for region ${m[3]}, expected ${region}`)
    if (m[4] !== 'route53') return violation(`signed for service ${m[4]}, expected route53`)
    const signed = (m[5] ?? '').split(';')
    if (!signed.includes('host') || !signed.includes('x-amz-date')) return violation('host and x-amz-date are not signed')
    const date = req.headers['x-amz-date']
    if (typeof date !== 'string' || !/^\d{8}T\d{6}Z$/.test(date) || !date.startsWith(m[2] ?? '')) return violation('X-Amz-Date missing or not the credential date')
    if (sessionToken != null && (req.headers['x-amz-security-token'] !== sessionToken || !signed.includes('x-amz-security-token'))) return violation('X-Amz-Security-Token missing or unsigned')
    if (m[1] !== accessKeyId) return error(res, 403, 'InvalidClientTokenId', 'The security token included in the request is invalid.')
    const base = `/2013-04-01/hostedzone/${zone.id}`
    if (req.method === 'GET' && url.pathname === base) {
      return xml(res, `<GetHostedZoneResponse xmlns="${NS}"><HostedZone><Id>/hostedzone/${zone.id}</Id><Name>${zone.name}</Name><CallerReference>mock</CallerReference><Config><PrivateZone>false</PrivateZone></Config><ResourceRecordSetCount>${state.sets.length + 2}</ResourceRecordSetCount></HostedZone><DelegationSet><NameServers><NameServer>ns-1.awsdns-00.com</NameServer></NameServers></DelegationSet></GetHostedZoneResponse>`)
    }
    if (url.pathname.startsWith('/2013-04-01/hostedzone/') && !url.pathname.startsWith(base)) return error(res, 404, 'NoSuchHostedZone', `No hosted zone found with ID: ${url.pathname.split('/')[3] ?? ''}`)
    if (req.method === 'GET' && url.pathname === `${base}/rrset`) {
      if (!expectQuery(url, ['name', 'type', 'identifier', 'maxitems'], [], violation)) return
      if (url.searchParams.has('type') && !url.searchParams.has('name')) return error(res, 400, 'InvalidInput', 'The input is not valid: type without name')
      const maxItems = Number(url.searchParams.get('maxitems') ?? '300')
      if (!(maxItems >= 1 && maxItems <= 300)) return violation('maxitems out of range')
      const start = sortKey({ name: (url.searchParams.get('name') ?? '').toLowerCase(), type: url.searchParams.get('type') ?? '', setIdentifier: url.searchParams.get('identifier') ?? undefined })
      const sorted = [...state.sets].sort((a, b) => sortKey(a) < sortKey(b) ? -1 : 1).filter((s) => !url.searchParams.has('name') || sortKey(s) >= start)
      const page = sorted.slice(0, maxItems)
      const more = sorted[maxItems]
      return xml(res, `<ListResourceRecordSetsResponse xmlns="${NS}"><ResourceRecordSets>${page.map(setXml).join('')}</ResourceRecordSets><IsTruncated>${more != null}</IsTruncated>${more != null ? `<NextRecordName>${xmlEscape(more.name)}</NextRecordName><NextRecordType>${more.type}</NextRecordType>${more.setIdentifier != null ? `<NextRecordIdentifier>${xmlEscape(more.setIdentifier)}</NextRecordIdentifier>` : ''}` : ''}<MaxItems>${maxItems}</MaxItems></ListResourceRecordSetsResponse>`)
    }
    if (req.method === 'POST' && url.pathname === `${base}/rrset`) {
      if (!/^<\?xml[^>]*\?>\s*<ChangeResourceRecordSetsRequest xmlns="https:\/\/route53\.amazonaws\.com\/doc\/2013-04-01\/">/.test(body)) return violation('not a ChangeResourceRecordSetsRequest document')
      const changeXml = [...body.matchAll(/<Change>([\s\S]*?)<\/Change>/g)].map((c) => c[1] ?? '')
      if (changeXml.length !== 1) return violation(`${changeXml.length} changes in the batch, expected 1`)
      const c = changeXml[0] ?? ''
      const tag = (name: string): string | undefined => { const t = new RegExp(`<${name}>([\\s\\S]*?)</${name}>`).exec(c); return t?.[1] != null ? xmlUnescape(t[1]) : undefined }
      const action = tag('Action')
      const set: Route53Set = { name: (tag('Name') ?? '').toLowerCase(), type: tag('Type') ?? '', ttl: Number(tag('TTL')), values: [...c.matchAll(/<ResourceRecord><Value>([\s\S]*?)<\/Value><\/ResourceRecord>/g)].map((v) => xmlUnescape(v[1] ?? '')) }
      if (action !== 'UPSERT') return violation(`action ${action}, expected UPSERT`)
      if (set.type !== 'TXT' || !set.name.endsWith('.') || !(set.ttl >= 0) || set.values.length === 0) return violation('bad ResourceRecordSet')
      if (c.includes('<SetIdentifier>')) return violation('a simple set has no SetIdentifier')
      for (const v of set.values) {
        if (!/^"(?:[^"\\]|\\.)*"( "(?:[^"\\]|\\.)*")*$/.test(v)) return error(res, 400, 'InvalidChangeBatch', `[Invalid Resource Record: 'FATAL problem: InvalidCharacterString (Value should be enclosed in quotation marks) encountered with '${v}'']`)
        for (const s of v.match(/"(?:[^"\\]|\\.)*"/g) ?? []) if (Buffer.byteLength(s.slice(1, -1).replace(/\\(.)/g, '$1')) > 255) return error(res, 400, 'InvalidChangeBatch', '[Invalid Resource Record: \'FATAL problem: CharacterStringTooLong (Value is too long)\']')
      }
      const old = state.sets.findIndex((s) => s.name === set.name && s.type === set.type && s.setIdentifier == null)
      if (old >= 0) state.sets.splice(old, 1, set)
      else state.sets.push(set)
      const id = `C${String(next++).padStart(8, '0')}`
      changes.set(id, state.pendingPolls)
      return xml(res, `<ChangeResourceRecordSetsResponse xmlns="${NS}"><ChangeInfo><Id>/change/${id}</Id><Status>PENDING</Status><SubmittedAt>2026-01-01T00:00:00.000Z</SubmittedAt></ChangeInfo></ChangeResourceRecordSetsResponse>`)
    }
    const change = /^\/2013-04-01\/change\/([A-Z0-9]+)$/.exec(url.pathname)?.[1]
    if (req.method === 'GET' && change != null) {
      const left = changes.get(change)
      if (left == null) return error(res, 404, 'NoSuchChange', `A change with the specified change ID does not exist: ${change}`)
      changes.set(change, left - 1)
      return xml(res, `<GetChangeResponse xmlns="${NS}"><ChangeInfo><Id>/change/${change}</Id><Status>${left > 0 ? 'PENDING' : 'INSYNC'}</Status><SubmittedAt>2026-01-01T00:00:00.000Z</SubmittedAt></ChangeInfo></GetChangeResponse>`)
    }
    return violation('no such endpoint')
  })
  return Object.defineProperties(api, {
    sets: { get: () => state.sets },
    pendingPolls: { get: () => state.pendingPolls, set: (v: number) => { state.pendingPolls = v } }
  }) as unknown as Route53Mock
}
