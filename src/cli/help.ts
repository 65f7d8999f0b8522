// Prose around the generated --help: what each command does, where secrets come from, examples.
// The options themselves come from src/options/definitions.ts.
import { definitions } from '../options/definitions.js'

export const mainHelp = "ipcr: the InterPlanetary Container Registry.\n\nPublishes container images to a registry tree on IPFS, where the original recipe still works: 'ipfs get' a tag folder, then 'tar -C DIR -cf - . | docker load'."

export const mainHelpAfter = `
Run 'ipcr help <command>' or 'ipcr <command> --help' for its options.

Examples:
  ipcr demo
  ipcr push team/app:1.0 --store ~/.ipcr
  ipcr get --store ~/.ipcr team/app/tags/1.0 -o app
  ipcr key generate -o registry.key
  ipcr republish --ipns-private-key-file registry.key --ipns-router http://127.0.0.1:8080`

/** The secrets `push` reads from the environment, from the option table. */
function envSecretLines (): string {
  return definitions.filter((d) => d.env != null).map((d) => `  ${(d.env as string).padEnd(28)}${d.description.replace(/^Secret: /, '').replace(/`/g, "'").split(/[(,.]/)[0]?.trim() ?? ''}`).join('\n')
}

export const pushHelp = {
  about: "Publishes one image under one or more tags into a registry tree and writes a CAR. IMAGE is a local image reference, exported with 'docker save' (or 'podman save'); or give --file. Optionally imports the CAR into Kubo, pins the root and publishes IPNS.",
  after: `
IPNS, no daemon needed:
  A record naming the new root is signed here with the key (--ipns-private-key-file
  or $IPCR_IPNS_PRIVATE_KEY) and put to --kubo-rpc-url ('routing put') and every
  --ipns-router (Delegated Routing V1 HTTP API; no public router is a default).
  Key formats: Ed25519 or RSA, as 'ipfs key export' writes it (binary, or base64
  of it), 'ipfs key export -f pem-pkcs8-cleartext', or 'ipcr key generate'.
  The name: 'ipcr key name KEYFILE' prints it (k51...); 'ipcr key generate' makes
  a new key and prints its name. Without --previous-root, the current root is
  read from the name's record (Kubo, routers, gateways), checked against the name.
  With --ipns-key as well, the key is imported into Kubo's keystore under that
  name and Kubo signs ('name publish').

Remote pinning (each required unless marked otherwise; all at once, before any
name moves; the run waits until each reports pinned, at most --pin-timeout):
  --pinning-service-endpoint URL with $IPCR_PINNING_SERVICE_TOKEN, or several in
  $IPCR_PINNING_SERVICES (YAML or JSON list of {name, endpoint, token, required});
  --cluster-api-url (IPFS Cluster; $IPCR_CLUSTER_API_AUTH); w3up with
  $IPCR_W3UP_KEY, $IPCR_W3UP_PROOF, --w3up-service-url and --w3up-service-did.
  Services fetch the blocks from this run: an embedded IPFS node serves them
  (--pin-listen) and dials the services' delegates; or name peers that have
  them with --pin-origin (e.g. your Kubo's public multiaddr).

DNSLink, last, after everything else succeeded (--dnslink-domain, --dns-provider):
  the TXT record _dnslink.DOMAIN becomes 'dnslink=/ipns/<name>' (this run's IPNS
  name; unchanged once set) or, with --dnslink-value ipfs, 'dnslink=/ipfs/<root>'.
  Other TXT records there are kept. See 'ipcr dnslink --help' for the providers.

Secrets stay out of argv:
  IPCR_KUBO_RPC_HEADERS   'Name: value' lines sent to --kubo-rpc-url, like
                          --kubo-rpc-header (e.g. 'Authorization: Bearer ...')
  IPCR_IPNS_PRIVATE_KEY   the IPNS key as text (base64 or PEM), instead of
                          --ipns-private-key-file
${envSecretLines()}
Other environment:
  GITHUB_SHA              Default --revision
  DOCKER_HOST             Used by the docker CLI that exports IMAGE

Examples:
  ipcr push team/app:1.0 --store ~/.ipcr
  ipcr push --file app.tar --name team/app --tag 1.0,latest --car app.car
  ipcr push --file app.tar --name team/app --tag 1.1 --previous-root bafy... \\
            --gateway https://gateway.example --car update.car
  ipcr push team/app:1.2 --container-cli podman --store ~/.ipcr
  IPCR_KUBO_RPC_HEADERS='Authorization: Bearer ...' \\
  ipcr push team/app:1.2 --kubo-rpc-url http://127.0.0.1:5001 --kubo-mfs-path /ipcr \\
            --ipns-key registry --ipns-private-key-file registry.key
  IPCR_IPNS_PRIVATE_KEY="$(cat registry.key.b64)" \\
  ipcr push --file app.tar --name team/app --tag 1.3 --car app.car \\
            --ipns-router https://router.example --gateway https://gateway.example`
}

export const republishHelp = {
  about: "Keeps an IPNS name alive (records expire; the DHT drops them after about 48 h): reads the name's current record from Kubo, the routers and the gateways (each checked against the name; the newest valid one wins) and puts it again to --kubo-rpc-url and every --ipns-router. When its validity ends within --ipns-refresh-within and the key is given, the same value is re-signed with a new validity and sequence + 1. No image is needed and content is never touched.",
  after: `
The name: --ipns-name, else the key's name (--ipns-private-key-file,
$IPCR_IPNS_PRIVATE_KEY or --ipns-key). 'ipcr key name KEYFILE' prints it.
Without the key: the existing record is put again unchanged (it cannot be
extended), and the output says when it expires; run with the key before then.
Key formats: Ed25519 or RSA, as 'ipfs key export' writes it (binary or base64),
'ipfs key export -f pem-pkcs8-cleartext', or 'ipcr key generate'.

Secrets stay out of argv:
  IPCR_IPNS_PRIVATE_KEY   the IPNS key as text (base64 or PEM)
  IPCR_KUBO_RPC_HEADERS   'Name: value' lines sent to --kubo-rpc-url

Examples:
  ipcr republish --ipns-private-key-file registry.key --ipns-router http://127.0.0.1:8080
  ipcr republish --ipns-name k51... --kubo-rpc-url http://127.0.0.1:5001 --json`
}

export const keyHelp = {
  about: "IPNS keys: 'generate' makes one, 'name' prints the name (k51...) of one. Keys are Ed25519 (default) or RSA, in the formats 'ipfs key export' writes: the libp2p protobuf (binary, or base64 of it) or PEM PKCS#8 ('-f pem-pkcs8-cleartext').",
  after: `
Examples:
  ipcr key generate -o registry.key     # the key in a new file (0600), its name on stdout
  ipcr key generate | gh secret set IPNS_KEY   # base64 to stdout, its name on stderr
  ipcr key name registry.key
  ipfs key import registry registry.key # Kubo shows the same name`,
  generate: "Makes a new IPNS key: written to -o FILE (never over an existing file, mode 0600) with its name on stdout, or printed as base64 on stdout (to paste into a secret) with its name on stderr. The key is the libp2p protobuf 'ipfs key export' writes; 'ipfs key import NAME FILE' takes the file.",
  name: "Prints the IPNS name (k51...) of a key: 'ipfs key export' output (binary or base64), PEM PKCS#8, or 'ipcr key generate' output. '-' reads the key from stdin."
}

export const dnslinkHelp = {
  about: "DNSLink: a TXT record 'dnslink=/ipns/<name>' (or '/ipfs/<root>') at _dnslink.DOMAIN, so users pull DOMAIN/<name>:<tag> instead of a CID. 'set' writes it through a DNS provider's API (what 'push --dnslink-domain' does last); 'get' reads it through a resolver and follows it to the registry root.",
  after: `
Providers (--dns-provider), with their options and secrets:
  rfc2136     --rfc2136-server HOST[:PORT], $IPCR_RFC2136_TSIG (alg:keyname:secret);
              BIND, Knot, PowerDNS and most self-hosted servers
  powerdns    --powerdns-api-url URL, $IPCR_POWERDNS_API_KEY, --powerdns-server-id
  cloudflare  $IPCR_CLOUDFLARE_API_TOKEN, --cloudflare-zone-id (else found)
  route53     --route53-hosted-zone-id, credentials from the AWS environment
  dnsimple    $IPCR_DNSIMPLE_TOKEN, --dnsimple-account-id
Other TXT records at the name are never touched; two dnslink= values there is an
error, nothing changed. The same value again changes nothing.

Examples:
  IPCR_RFC2136_TSIG='hmac-sha256:ipcr:c2VjcmV0...' \\
  ipcr dnslink set registry.example.org /ipns/k51... --dns-provider rfc2136 --rfc2136-server ns1.example.org
  ipcr dnslink get registry.example.org --gateway https://gateway.example`,
  set: "Creates, replaces or leaves alone the DNSLink record of DOMAIN through the DNS provider's API, after checking the provider's configuration and that it serves the zone. Refused from an untrusted GitHub trigger (a fork's pull request, pull_request_target) unless --dnslink-allow-untrusted.",
  setAfter: `
Example:
  IPCR_POWERDNS_API_KEY=... ipcr dnslink set registry.example.org bafy... \\
    --dns-provider powerdns --powerdns-api-url http://127.0.0.1:8081`,
  get: "Reads DOMAIN's DNSLink (_dnslink.DOMAIN first, then DOMAIN) through --dns-resolver and follows it: /ipfs/<root> is the root; /ipns/<name> is looked up at --kubo-rpc-url, --ipns-router and --gateway, each record checked against the name; /ipns/<domain> is that domain's DNSLink.",
  getAfter: `
Example:
  ipcr dnslink get registry.example.org --dns-resolver 127.0.0.1:5353 --kubo-rpc-url http://127.0.0.1:5001`
}

export const pullHelp = {
  about: "Pulls an image from a registry tree on IPFS by name: the registry is a root (ipfs/<cid>), an IPNS name (ipns/<k51...>, its record checked against the name) or a DNSLink domain. By tag: the tag folder (every platform, or --platform's); by digest: that manifest (from an index: --platform's, by default this machine's), its config and layers. Blocks come from --store, --car, --gateway (whole CARs first, single blocks as the fallback) and --kubo-rpc-url, each verified against its CID, and are kept in --cache, so a second pull of shared layers fetches nothing. Each blob is checked against its digest before anything is written.",
  after: `
Examples:
  ipcr pull registry.example.org/team/app:1.0 --gateway https://gateway.example -o app
  tar -C app -cf - . | docker load
  ipcr pull ipfs/bafy.../team/app:1.0 --kubo-rpc-url http://127.0.0.1:5001 -o - | docker load
  ipcr pull ipns/k51.../team/app@sha256:... --platform linux/arm64 --gateway https://gateway.example \\
            --output-format docker -o app.tar`
}

export const serveHelp = {
  about: "Serves registry trees as a read-only OCI Distribution API (the pull side of a registry: manifests, blobs with ranges, tags, catalog, referrers), so 'docker pull', 'podman pull', 'skopeo copy' and containerd pull images from IPFS. Every block is verified against its CID, every manifest and blob against its digest; blobs stream with bounded memory. IPNS names and DNSLink domains are looked up and looked up again after their TTL, so a new publish shows up without a restart. Writes answer 405.",
  after: `
Image names (docker's grammar, all lower case):
  ADDRESS/ipfs/<cid>/<name>:<tag>     a registry root
  ADDRESS/ipns/<k51...>/<name>:<tag>  an IPNS name (its record checked against the name)
  ADDRESS/<domain>/<name>:<tag>       a DNSLink domain (through --dns-resolver)
  ADDRESS/<name>:<tag>                the --registry given (or the --store's root)
  ...@sha256:<digest> instead of :<tag> pulls by digest.

Examples:
  ipcr serve --gateway https://gateway.example --registry registry.example.org
  docker pull 127.0.0.1:5000/team/app:1.0
  podman pull --tls-verify=false 127.0.0.1:5000/ipfs/bafy.../team/app:1.0
  skopeo copy --src-tls-verify=false docker://127.0.0.1:5000/team/app:1.0 oci:app
  nerdctl pull --insecure-registry 127.0.0.1:5000/team/app:1.0
  ipcr serve --kubo-rpc-url http://127.0.0.1:5001 --listen 127.0.0.1:5050`
}

export const getHelp = {
  about: "Writes a file or folder of a registry to a folder, verifying every block against its CID. The limits are checked against the sizes the DAG declares before anything is written, and again while writing; a failed get leaves nothing at the output.",
  after: `
Example, then load the image with Docker:
  ipcr get --store .ipcr ipcr-demo/tags/latest -o demo
  tar -C demo -cf - . | docker load`
}

export const demoHelp = {
  about: 'Builds a small two-layer image in-process (no Docker, no IPFS daemon, no network), publishes it as ipcr-demo:latest into the embedded store (default .ipcr), writes the CAR to DIR/demo.car and prints how to load it.',
  after: `
Example:
  ipcr demo --store .ipcr`
}
