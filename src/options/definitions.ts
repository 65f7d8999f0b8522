/**
 * Every option of ipcr, defined once: the CLI builds its flags from this table,
 * the action reads its inputs by it, and scripts/options.mjs writes action.yml's
 * inputs and the README's tables from it (CI checks they match).
 * It knows neither shell's library.
 */

export type OptionType = 'string' | 'list' | 'boolean' | 'size' | 'count' | 'seconds' | 'secret'
export type Command = 'push' | 'get' | 'demo' | 'republish' | 'dnslink-set' | 'dnslink-get' | 'serve' | 'pull'

export interface CliFlag {
  /** `--file`, or a positional argument such as `IMAGE`. */
  flag: string
  /** The value's placeholder in --help (`PATH`); none for a boolean flag. */
  value?: string
  short?: string
  commands: Command[]
  /** Repeatable (values may also be separated by commas). */
  repeat?: boolean
  /** A boolean flag that means the input's opposite (`--keep-previous-pin` for `unpin-previous: false`). */
  negates?: boolean
  /** When the flag's meaning differs from the input's (a file instead of the secret, a negated boolean). */
  description?: string
  default?: string
}

export interface OptionDefinition {
  /** The option's key: its action input name when the action has it. Errors name options by key. */
  key: string
  type: OptionType
  description: string
  /** The default as shown to users (action.yml and README); `actionDefault` is action.yml's `default:`. */
  default?: string
  actionDefault?: string
  /** The action has this input (named `key`). */
  action: boolean
  cli?: CliFlag
  /** A secret the CLI reads from this environment variable (never from argv), for `push`. */
  env?: string
  /** A secret that is a list of settings: masked whole, not line by line (its own secrets are masked once parsed). */
  settingsList?: boolean
}

export const definitions: readonly OptionDefinition[] = [
  {
    key: 'mode',
    type: 'string',
    description: '`publish`: publish the image. `republish`: no image; keep the IPNS name alive (a scheduled job): fetch its current record and put it again at Kubo and the routers, re-signed with a new validity and sequence when it ends within `ipns-refresh-within` and `ipns-private-key` is given. The CLI has `ipcr republish` instead.',
    default: '`publish`',
    actionDefault: 'publish',
    action: true
  },
  {
    key: 'image',
    type: 'string',
    description: 'Local image reference to publish, exported with `docker save` (or `container-cli`) to a temporary file. With `image-file`: which image of the archive to publish (a RepoTag, an OCI ref name or a digest), needed when it holds several.',
    action: true,
    cli: { flag: 'IMAGE', commands: ['push'], description: 'Local image reference to publish, exported with `docker save` (or --container-cli). With --file: which image of the archive to publish, needed when it holds several.' }
  },
  {
    key: 'image-file',
    type: 'string',
    description: 'Image tarball or OCI layout directory, detected by content: legacy `docker save`, Docker 25+ `docker save`, buildx `type=docker`/`type=oci` (multi-platform too), skopeo `docker-archive:`/`oci-archive:`, whole-file gzip or zstd. A layout may name one image as skopeo does, `DIR:REF`. Set this or `image`.',
    action: true,
    cli: { flag: '--file', value: 'PATH', commands: ['push'] }
  },
  {
    key: 'container-cli',
    type: 'string',
    description: 'Command that exports `image` (`<cli> save --output FILE REF`): `docker` or `podman`.',
    default: '`docker`, else `podman` when docker is not on PATH',
    action: true,
    cli: { flag: '--container-cli', value: 'CMD', commands: ['push'] }
  },
  {
    key: 'max-decompressed-size',
    type: 'size',
    description: 'Most bytes a gzip/zstd image tarball, or a gzip layer whose `diff_id` is checked, may decompress to, e.g. `20GiB`, `500MB`. Images compress 2–5×, so the default leaves 4× headroom.',
    default: '20 × compressed size, at least 1 GiB',
    action: true,
    cli: { flag: '--max-decompressed-size', value: 'SIZE', commands: ['push'] }
  },
  {
    key: 'name',
    type: 'string',
    description: 'Repository name in the tree, e.g. `team/app` (OCI grammar, `/` makes nested folders). Reserved: `catalog.json` and `index.html` as the first component, `tags` and `readme-short.txt` (any case) as any component.',
    default: 'path of the image or tag references',
    action: true,
    cli: { flag: '--name', value: 'NAME', commands: ['push'] }
  },
  {
    key: 'tags',
    type: 'list',
    description: 'Tags to publish, newline- or comma-separated: bare tags (`1.2.3`) or full references (`ghcr.io/owner/app:1.2.3`, docker/metadata-action\'s `tags` output). All tags share the same blocks.',
    default: 'tag of `image`, else `latest`',
    action: true,
    cli: { flag: '--tag', value: 'TAG', commands: ['push'], repeat: true }
  },
  {
    key: 'description',
    type: 'string',
    description: 'One line for `<name>/README-short.txt` and `catalog.json` (first non-empty line, without control characters, cut to 512 characters).',
    default: 'label `org.opencontainers.image.description`',
    action: true,
    cli: { flag: '--description', value: 'TEXT', commands: ['push'] }
  },
  {
    key: 'revision',
    type: 'string',
    description: 'Source revision recorded in `catalog.json`.',
    default: '`$GITHUB_SHA`',
    action: true,
    cli: { flag: '--revision', value: 'REV', commands: ['push'] }
  },
  {
    key: 'store',
    type: 'string',
    description: 'Embedded local store: blocks in DIR/blocks, the registry root in DIR/root (read as the previous root, written after publishing).',
    action: false,
    cli: { flag: '--store', value: 'DIR', commands: ['push', 'get', 'demo', 'serve', 'pull'] }
  },
  {
    key: 'previous-root',
    type: 'string',
    description: 'Registry root CID to update; re-publishing a tag replaces it. Empty starts a new registry.',
    action: true,
    cli: { flag: '--previous-root', value: 'CID', commands: ['push'], default: 'the store\'s root, else a new registry' }
  },
  {
    key: 'gateways',
    type: 'list',
    description: 'Trustless HTTP gateways to read blocks from (`GET /ipfs/<cid>?format=raw`, each block verified against its CID; the next gateway on failure), newline- or comma-separated. `ipcr pull` first asks them for whole DAGs as CARs (`?format=car`), `ipcr serve` for a blob as one file (`GET /ipfs/<cid>`, each 1 MiB leaf checked against its CID). IPNS records are read from them too (`?format=ipns-record`, checked against the name); gateways are read-only.',
    action: true,
    cli: { flag: '--gateway', value: 'URL', commands: ['push', 'get', 'republish', 'dnslink-get', 'serve', 'pull'], repeat: true }
  },
  {
    key: 'previous-car',
    type: 'list',
    description: 'CAR files holding blocks of `previous-root`, newline- or comma-separated; read before gateways. Without `previous-root`, the root named in the header of the one CAR given is updated (the CAR of the last publish with `car-scope: full`); several CARs, or a CAR with no root or several, need `previous-root`.',
    action: true,
    cli: { flag: '--previous-car', value: 'PATH', commands: ['push'], repeat: true }
  },
  {
    key: 'car-path',
    type: 'string',
    description: 'Where the CAR is written. The CLI writes one only when asked (with a Kubo destination it imports a temporary CAR and removes it).',
    default: '`$RUNNER_TEMP/ipcr/registry.car`',
    action: true,
    cli: { flag: '--car', value: 'PATH', commands: ['push'], default: 'none' }
  },
  {
    key: 'car-scope',
    type: 'string',
    description: '`new`: the blocks this publish adds (layers already in the previous root are left out); `full`: the whole registry DAG.',
    default: '`new`',
    actionDefault: 'new',
    action: true,
    cli: { flag: '--car-scope', value: 'new|full', commands: ['push'] }
  },
  {
    key: 'kubo-rpc-url',
    type: 'string',
    description: 'Kubo RPC endpoint (local daemon or hosted: e.g. http://127.0.0.1:5001 or the multiaddr /ip4/127.0.0.1/tcp/5001; not the gateway port). The CAR is imported (`dag import`), the new root pinned under a name and Kubo\'s root checked against ours. Also a block source for `previous-root`. Needs Kubo 0.40 or newer.',
    action: true,
    cli: { flag: '--kubo-rpc-url', value: 'URL', commands: ['push', 'republish', 'dnslink-get', 'serve', 'pull'] }
  },
  {
    key: 'kubo-rpc-headers',
    type: 'secret',
    description: 'Secret: headers for the Kubo RPC endpoint, one `Name: value` per line (`Authorization: Bearer …` or `Basic …`). Masked. Needs `kubo-rpc-url`.',
    action: true,
    cli: { flag: '--kubo-rpc-header', value: 'HEADER', commands: ['push', 'republish', 'dnslink-get', 'serve', 'pull'], repeat: true, description: '`Name: value` sent to the Kubo endpoint (repeatable). Secrets are better kept out of argv: lines of $IPCR_KUBO_RPC_HEADERS are added. Needs --kubo-rpc-url.' }
  },
  {
    key: 'kubo-pin-name',
    type: 'string',
    description: 'Name of the pin on Kubo (`ipfs pin ls --names`). It names this registry on the node: after a successful run every other pin of this name is removed, so give each registry on a node its own.',
    default: '`ipcr registry`',
    action: true,
    cli: { flag: '--kubo-pin-name', value: 'NAME', commands: ['push'] }
  },
  {
    key: 'unpin-previous',
    type: 'boolean',
    description: 'Remove every other pin of `kubo-pin-name` on Kubo (the previous root, and any a failed run left), last: after the new pin holds and every name moved.',
    default: '`true`',
    actionDefault: 'true',
    action: true,
    cli: { flag: '--keep-previous-pin', commands: ['push'], negates: true, description: 'Keep the previous root pinned (by default its pin is removed once the new pin holds and every name moved).' }
  },
  {
    key: 'kubo-mfs-path',
    type: 'string',
    description: 'MFS folder on the Kubo node holding the registry root, like the original recipe\'s `.ipcr`: read as the previous root when neither `previous-root` nor another source is set, written after publishing.',
    action: true,
    cli: { flag: '--kubo-mfs-path', value: 'PATH', commands: ['push'] }
  },
  {
    key: 'kubo-timeout',
    type: 'seconds',
    description: 'Seconds each Kubo RPC call may take. Network errors and 5xx without a Kubo error message are retried up to 3 times with backoff and jitter.',
    default: '`120`',
    action: true,
    cli: { flag: '--kubo-timeout', value: 'SECS', commands: ['push', 'republish'] }
  },
  {
    key: 'ipns-private-key',
    type: 'secret',
    description: 'Secret: the IPNS key; records are signed here with it, no daemon needed (Ed25519 or RSA: base64 of what `ipfs key export` writes, `ipfs key export -f pem-pkcs8-cleartext` output, or `ipcr key generate` output). Masked. The record goes to `kubo-rpc-url` (`routing put`) and every `ipns-routers` endpoint: set one of them. With `ipns-key`, it is imported into Kubo\'s keystore under that name instead (when missing; a different key under that name is refused) and Kubo signs.',
    action: true,
    cli: { flag: '--ipns-private-key-file', value: 'PATH', commands: ['push', 'republish'], description: 'File with the IPNS key; records are signed here with it (what `ipfs key export` or `ipcr key generate -o` writes, PEM PKCS#8, or base64 of a libp2p protobuf key). $IPCR_IPNS_PRIVATE_KEY (the key as text) keeps it out of files and argv. With --ipns-key, imported into Kubo\'s keystore under that name instead.' }
  },
  {
    key: 'ipns-key',
    type: 'string',
    description: 'Kubo keystore key to publish IPNS with (`name publish --key`), after everything else succeeded. Needs `kubo-rpc-url`.',
    action: true,
    cli: { flag: '--ipns-key', value: 'NAME', commands: ['push', 'republish'] }
  },
  {
    key: 'ipns-name',
    type: 'string',
    description: 'IPNS name (k51…, or a peer ID) whose record holds the registry root: read as the previous root when `previous-root` is not given, and the name `mode: republish` keeps alive.',
    default: 'the name of `ipns-private-key` or `ipns-key`',
    action: true,
    cli: { flag: '--ipns-name', value: 'NAME', commands: ['push', 'republish'] }
  },
  {
    key: 'ipns-routers',
    type: 'list',
    description: 'Delegated Routing V1 HTTP API endpoints records are read from and put to (`GET`/`PUT /routing/v1/ipns/<name>`), newline- or comma-separated, e.g. a Kubo gateway with `Gateway.ExposeRoutingAPI: true`. No public router is a default: name the ones you trust.',
    action: true,
    cli: { flag: '--ipns-router', value: 'URL', commands: ['push', 'republish', 'dnslink-get', 'serve', 'pull'], repeat: true }
  },
  {
    key: 'ipns-lifetime',
    type: 'string',
    description: 'How long an IPNS record stays valid, in Go duration syntax: `48h`, `1h30m`, `90s`. Republish well within it (a scheduled workflow, e.g. every 12 h): the DHT drops records after about 48 h.',
    default: '`48h`',
    action: true,
    cli: { flag: '--ipns-lifetime', value: 'DURATION', commands: ['push', 'republish'] }
  },
  {
    key: 'ipns-ttl',
    type: 'string',
    description: 'How long resolvers may cache an IPNS record (Go duration). Needs an IPNS key.',
    default: '`5m`',
    action: true,
    cli: { flag: '--ipns-ttl', value: 'DURATION', commands: ['push', 'republish'] }
  },
  {
    key: 'ipns-refresh-within',
    type: 'string',
    description: 'Republish: re-sign the record (same value, new validity, sequence + 1) when its validity ends within this (Go duration, at most `ipns-lifetime`); otherwise the record is put again unchanged. Needs `ipns-private-key` or `ipns-key`.',
    default: '`24h`',
    action: true,
    cli: { flag: '--ipns-refresh-within', value: 'DURATION', commands: ['republish'] }
  },
  {
    key: 'ipns-record-path',
    type: 'string',
    description: 'Where the signed IPNS record is written (keep it as an artifact).',
    default: '`$RUNNER_TEMP/ipcr/ipns-record.bin`',
    action: true,
    cli: { flag: '--ipns-record', value: 'PATH', commands: ['push', 'republish'], default: 'none' }
  },
  {
    key: 'pinning-service-endpoint',
    type: 'string',
    description: 'IPFS Pinning Service API endpoint (spec v1.0.0: Pinata `https://api.pinata.cloud/psa`, Filebase, 4EVERLAND, a self-hosted IPFS Cluster peer\'s `pinsvcapi`, …). The new root is pinned there with a name, meta and `origins`; the step waits until it is `pinned`. Needs `pinning-service-token`.',
    action: true,
    cli: { flag: '--pinning-service-endpoint', value: 'URL', commands: ['push'] }
  },
  {
    key: 'pinning-service-token',
    type: 'secret',
    description: 'Secret: the access token of `pinning-service-endpoint` (sent as `Authorization: Bearer`). Masked.',
    action: true,
    env: 'IPCR_PINNING_SERVICE_TOKEN'
  },
  {
    key: 'pinning-services',
    type: 'secret',
    description: 'Secret: several pinning services, as a YAML or JSON list of `{name, endpoint, token, required}` (`required` defaults to true: its failure fails the step, after the others finished, before any name moves). Masked, tokens included.',
    action: true,
    env: 'IPCR_PINNING_SERVICES',
    settingsList: true
  },
  {
    key: 'pin-name',
    type: 'string',
    description: 'Names this registry\'s pins at pinning services and IPFS Cluster (each pin is called `<pin-name> <name>:<tags>`); after a successful run the other pins of this registry there are removed. Give each registry its own.',
    default: '`ipcr registry`',
    action: true,
    cli: { flag: '--pin-name', value: 'NAME', commands: ['push'] }
  },
  {
    key: 'pin-timeout',
    type: 'seconds',
    description: 'Seconds to wait for each pinning service and IPFS Cluster to report `pinned`.',
    default: '`600`',
    action: true,
    cli: { flag: '--pin-timeout', value: 'SECS', commands: ['push'] }
  },
  {
    key: 'pin-origins',
    type: 'list',
    description: 'Multiaddrs (with `/p2p/<peer id>`) to give pinning services as `origins`, e.g. a Kubo node that has the blocks and that the service can reach. When empty, ipcr serves the blocks itself from an embedded libp2p node (bitswap) while pins finish, dialing the services\' `delegates`.',
    action: true,
    cli: { flag: '--pin-origin', value: 'MULTIADDR', commands: ['push'], repeat: true }
  },
  {
    key: 'pin-listen',
    type: 'list',
    description: 'Where the embedded node listens (multiaddrs). It also dials the services\' `delegates`, so a runner behind NAT still serves its blocks over those connections.',
    default: '`/ip4/0.0.0.0/tcp/0`',
    action: true,
    cli: { flag: '--pin-listen', value: 'MULTIADDR', commands: ['push'], repeat: true }
  },
  {
    key: 'cluster-api-url',
    type: 'string',
    description: 'IPFS Cluster REST API (e.g. `http://127.0.0.1:9094`): the CAR is added (`/add?format=car`) and the root pinned with the replication below; the previous root is unpinned last.',
    action: true,
    cli: { flag: '--cluster-api-url', value: 'URL', commands: ['push'] }
  },
  {
    key: 'cluster-api-auth',
    type: 'secret',
    description: 'Secret: credentials of the Cluster REST API, `user:password` (Basic). Masked.',
    action: true,
    env: 'IPCR_CLUSTER_API_AUTH'
  },
  {
    key: 'cluster-replication-min',
    type: 'count',
    description: 'Least cluster peers that must pin the root (`-1`: every peer).',
    default: 'the cluster\'s',
    action: true,
    cli: { flag: '--cluster-replication-min', value: 'N', commands: ['push'] }
  },
  {
    key: 'cluster-replication-max',
    type: 'count',
    description: 'Most cluster peers that pin the root (`-1`: every peer).',
    default: 'the cluster\'s',
    action: true,
    cli: { flag: '--cluster-replication-max', value: 'N', commands: ['push'] }
  },
  {
    key: 'w3up-key',
    type: 'secret',
    description: 'Secret: the w3up agent\'s private key (`w3 key create`). Storacha\'s public service has refused uploads since May 2026: this targets any w3up-protocol service you name with `w3up-service-url` and `w3up-service-did`. Masked.',
    action: true,
    env: 'IPCR_W3UP_KEY'
  },
  {
    key: 'w3up-proof',
    type: 'secret',
    description: 'Secret: the UCAN delegation to the agent for the space (`w3 delegation create … --base64`). Masked.',
    action: true,
    env: 'IPCR_W3UP_PROOF'
  },
  {
    key: 'w3up-service-url',
    type: 'string',
    description: 'URL of the w3up-protocol service (no default).',
    action: true,
    cli: { flag: '--w3up-service-url', value: 'URL', commands: ['push'] }
  },
  {
    key: 'w3up-service-did',
    type: 'string',
    description: 'DID of the w3up-protocol service, e.g. `did:web:…` (no default).',
    action: true,
    cli: { flag: '--w3up-service-did', value: 'DID', commands: ['push'] }
  },
  {
    key: 'dnslink-domain',
    type: 'string',
    description: 'Domain users pull from, e.g. `registry.example.org`: its DNSLink TXT record at `_dnslink.<domain>` is set last, after everything else succeeded, through `dns-provider`. Without a provider it is only read: the previous root comes from it (following `/ipns/` to a checked record) when `previous-root` is not given.',
    action: true,
    cli: { flag: '--dnslink-domain', value: 'DOMAIN', commands: ['push'] }
  },
  {
    key: 'dns-provider',
    type: 'string',
    description: 'The DNS provider\'s API that writes the record: `cloudflare`, `route53`, `dnsimple`, `powerdns` or `rfc2136` (dynamic update with TSIG: BIND, Knot, PowerDNS, …). Its options below; only the chosen provider\'s may be set.',
    action: true,
    cli: { flag: '--dns-provider', value: 'NAME', commands: ['push', 'dnslink-set'] }
  },
  {
    key: 'dnslink-value',
    type: 'string',
    description: '`ipns`: `dnslink=/ipns/<name>`, written once and then stable (this run\'s IPNS name, else `ipns-name`). `ipfs`: `dnslink=/ipfs/<root>`, rewritten on every publish, for registries without IPNS (the previous root is then read from the record through the provider).',
    default: '`ipns` when this run publishes an IPNS name, else `ipfs`',
    action: true,
    cli: { flag: '--dnslink-value', value: 'ipns|ipfs', commands: ['push'] }
  },
  {
    key: 'dnslink-ttl',
    type: 'seconds',
    description: 'TTL of the DNSLink TXT record, in seconds.',
    default: '`60`',
    action: true,
    cli: { flag: '--dnslink-ttl', value: 'SECS', commands: ['push', 'dnslink-set'] }
  },
  {
    key: 'dnslink-bare',
    type: 'boolean',
    description: 'Also write the record at the domain itself, as the original recipe did (other TXT records there are kept).',
    default: '`false`',
    action: true,
    cli: { flag: '--dnslink-bare', commands: ['push', 'dnslink-set'] }
  },
  {
    key: 'dnslink-allow-untrusted',
    type: 'boolean',
    description: 'Change DNS even from an untrusted trigger (`pull_request` from a fork, `pull_request_target`, a `workflow_run` not started by a push), which is refused otherwise. Only when the workflow guards it some other way.',
    default: '`false`',
    action: true,
    cli: { flag: '--dnslink-allow-untrusted', commands: ['push', 'dnslink-set'] }
  },
  {
    key: 'dns-resolver',
    type: 'string',
    description: 'DNS resolver (`host[:port]`) DNSLink is read through when no `dns-provider` is set, e.g. the zone\'s own server for a private zone.',
    default: 'the system\'s (/etc/resolv.conf)',
    action: true,
    cli: { flag: '--dns-resolver', value: 'HOST[:PORT]', commands: ['push', 'dnslink-get', 'serve', 'pull'] }
  },
  {
    key: 'dns-zone',
    type: 'string',
    description: 'The zone to edit (`powerdns`, `rfc2136`, `dnsimple`), e.g. `example.org`.',
    default: 'the zone the server or account holds for the domain',
    action: true,
    cli: { flag: '--dns-zone', value: 'ZONE', commands: ['push', 'dnslink-set'] }
  },
  {
    key: 'dns-api-url',
    type: 'string',
    description: 'Base URL of the `cloudflare`, `dnsimple` or `route53` API, for a proxy or a compatible service.',
    default: 'the provider\'s public API',
    action: true,
    cli: { flag: '--dns-api-url', value: 'URL', commands: ['push', 'dnslink-set'] }
  },
  {
    key: 'cloudflare-api-token',
    type: 'secret',
    description: 'Secret: Cloudflare API token with Zone.DNS edit (and Zone.Zone read when `cloudflare-zone-id` is not given). Masked.',
    action: true,
    env: 'IPCR_CLOUDFLARE_API_TOKEN'
  },
  {
    key: 'cloudflare-zone-id',
    type: 'string',
    description: 'Cloudflare zone ID of the domain.',
    default: 'found from the domain',
    action: true,
    cli: { flag: '--cloudflare-zone-id', value: 'ID', commands: ['push', 'dnslink-set'] }
  },
  {
    key: 'route53-hosted-zone-id',
    type: 'string',
    description: 'Route 53 hosted zone ID, e.g. `Z0123456789ABC`. Credentials come from the standard AWS environment (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`), as aws-actions/configure-aws-credentials leaves them.',
    action: true,
    cli: { flag: '--route53-hosted-zone-id', value: 'ID', commands: ['push', 'dnslink-set'] }
  },
  {
    key: 'route53-wait',
    type: 'boolean',
    description: 'Wait until Route 53 reports the change `INSYNC` (at most 3 minutes).',
    default: '`false`',
    action: true,
    cli: { flag: '--route53-wait', commands: ['push', 'dnslink-set'] }
  },
  {
    key: 'dnsimple-token',
    type: 'secret',
    description: 'Secret: DNSimple API token (account or user). Masked.',
    action: true,
    env: 'IPCR_DNSIMPLE_TOKEN'
  },
  {
    key: 'dnsimple-account-id',
    type: 'string',
    description: 'DNSimple account ID.',
    action: true,
    cli: { flag: '--dnsimple-account-id', value: 'ID', commands: ['push', 'dnslink-set'] }
  },
  {
    key: 'powerdns-api-url',
    type: 'string',
    description: 'PowerDNS authoritative server\'s HTTP API, e.g. `http://127.0.0.1:8081` (its `webserver-address` and `api=yes`).',
    action: true,
    cli: { flag: '--powerdns-api-url', value: 'URL', commands: ['push', 'dnslink-set'] }
  },
  {
    key: 'powerdns-api-key',
    type: 'secret',
    description: 'Secret: the PowerDNS `api-key` (sent as `X-API-Key`). Masked.',
    action: true,
    env: 'IPCR_POWERDNS_API_KEY'
  },
  {
    key: 'powerdns-server-id',
    type: 'string',
    description: 'PowerDNS server ID in API paths.',
    default: '`localhost`',
    action: true,
    cli: { flag: '--powerdns-server-id', value: 'ID', commands: ['push', 'dnslink-set'] }
  },
  {
    key: 'rfc2136-server',
    type: 'string',
    description: 'DNS server taking RFC 2136 dynamic updates, `host[:port]` (port 53 by default); TCP, and UDP where it fits.',
    action: true,
    cli: { flag: '--rfc2136-server', value: 'HOST[:PORT]', commands: ['push', 'dnslink-set'] }
  },
  {
    key: 'rfc2136-tsig',
    type: 'secret',
    description: 'Secret: the TSIG key, `algorithm:keyname:base64secret` as `nsupdate -y` takes it, e.g. `hmac-sha256:ipcr-key:…`. Masked.',
    action: true,
    env: 'IPCR_RFC2136_TSIG'
  },
  {
    key: 'summary',
    type: 'boolean',
    description: 'Write a job summary.',
    default: '`true`',
    actionDefault: 'true',
    action: true
  },
  {
    key: 'output',
    type: 'string',
    description: 'Where to write: a folder that does not exist or is empty (for `pull --output-format docker`, a tar file), or `-` for a tar on standard output (`ipcr get … -o - | docker load`).',
    action: false,
    cli: { flag: '--output', short: '-o', value: 'DIR', commands: ['get', 'pull'] }
  },
  {
    key: 'cars',
    type: 'list',
    description: 'CAR files to read blocks from.',
    action: false,
    cli: { flag: '--car', value: 'PATH', commands: ['get', 'serve', 'pull'], repeat: true }
  },
  {
    key: 'listen',
    type: 'string',
    description: 'Where `ipcr serve` listens, `HOST:PORT`. It speaks plain HTTP: Docker pulls from 127.0.0.1 as it is; podman and skopeo need `--tls-verify=false`, containerd `--plain-http`; another address must be marked insecure in the client.',
    default: '`127.0.0.1:5000`',
    action: false,
    cli: { flag: '--listen', value: 'HOST:PORT', commands: ['serve'] }
  },
  {
    key: 'registry',
    type: 'string',
    description: 'The registry `/v2/<name>/…` and `/v2/_catalog` serve: `ipfs/<cid>`, `ipns/<name>` or a DNSLink domain. The others stay reachable by their own path: `<address>/ipfs/<cid>/<name>:<tag>`, `<address>/ipns/<k51…>/<name>:<tag>`, `<address>/<domain>/<name>:<tag>`.',
    default: 'the store\'s root, else none',
    action: false,
    cli: { flag: '--registry', value: 'REGISTRY', commands: ['serve'] }
  },
  {
    key: 'output-format',
    type: 'string',
    description: '`oci`: an OCI image layout folder (by tag: the tag folder as published, which `docker load` also reads as a tar). `docker`: a docker-archive tar file. With `-o -`, always a tar on standard output.',
    default: '`oci`',
    action: false,
    cli: { flag: '--output-format', value: 'oci|docker', commands: ['pull'] }
  },
  {
    key: 'platform',
    type: 'string',
    description: 'The platform of a multi-platform image to pull, `os/arch[/variant]`, e.g. `linux/arm64`. By digest the default is this machine\'s; by tag, every platform.',
    action: false,
    cli: { flag: '--platform', value: 'OS/ARCH', commands: ['pull'] }
  },
  {
    key: 'cache',
    type: 'string',
    description: 'The cache folder: verified blocks by CID in `blocks/`, so a second pull of shared layers fetches nothing (every block read back is checked against its CID again); for `serve`, also whole blobs in `blobs/` once served and matched to their digest, read back in large pieces. `none`: `pull` uses a temporary cache, `serve` keeps only folders and file nodes in memory.',
    default: '`$XDG_CACHE_HOME/ipcr` (`~/.cache/ipcr`)',
    action: false,
    cli: { flag: '--cache', value: 'DIR', commands: ['pull', 'serve'] }
  },
  {
    key: 'max-bytes',
    type: 'size',
    description: 'Most file bytes to write, e.g. `100GiB`, `512MiB`.',
    action: false,
    cli: { flag: '--max-bytes', value: 'SIZE', commands: ['get', 'pull'], default: '64GiB' }
  },
  {
    key: 'max-entries',
    type: 'count',
    description: 'Most files and folders to write.',
    action: false,
    cli: { flag: '--max-entries', value: 'N', commands: ['get', 'pull'], default: '1000000' }
  },
  {
    key: 'max-blocks',
    type: 'count',
    description: 'Most block reads.',
    action: false,
    cli: { flag: '--max-blocks', value: 'N', commands: ['get', 'pull'], default: '4194304' }
  },
  {
    key: 'json',
    type: 'boolean',
    description: 'Print the result as JSON on stdout.',
    action: false,
    cli: { flag: '--json', commands: ['push', 'demo', 'republish', 'dnslink-set', 'dnslink-get', 'pull'] }
  },
  {
    key: 'quiet',
    type: 'boolean',
    description: 'Only errors on stderr.',
    action: false,
    cli: { flag: '--quiet', short: '-q', commands: ['push', 'republish', 'dnslink-set', 'dnslink-get', 'serve', 'pull'] }
  },
  {
    key: 'verbose',
    type: 'boolean',
    description: 'Debug lines on stderr.',
    action: false,
    cli: { flag: '--verbose', short: '-v', commands: ['push', 'republish', 'dnslink-set', 'dnslink-get', 'serve', 'pull'] }
  }
]

const byKey = new Map(definitions.map((d) => [d.key, d]))

export function definition (key: string): OptionDefinition | undefined {
  return byKey.get(key)
}

/** The options of one CLI command, in table order. */
export function cliOptions (command: Command): OptionDefinition[] {
  return definitions.filter((d) => d.cli?.commands.includes(command) === true)
}

export function actionInputs (): OptionDefinition[] {
  return definitions.filter((d) => d.action)
}

/** How the CLI names an option in errors: its flag (`--file`), positional (`IMAGE`) or environment variable (`$IPCR_…`); unknown keys as they are. */
export function cliName (key: string): string {
  const def = byKey.get(key)
  return def?.cli?.flag ?? (def?.env != null ? `$${def.env}` : key)
}

/** How the action names an input inside a sentence. */
export function actionName (key: string): string {
  return `'${key}'`
}
