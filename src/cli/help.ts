export const mainHelp = `ipcr: the InterPlanetary Container Registry

Publishes container images to a registry tree on IPFS, where the original
recipe still works: 'ipfs get' a tag folder, then 'tar -C DIR -cf - . | docker load'.

Usage: ipcr <command> [options]

Commands:
  push     Publish an image (from Docker or a file) into a registry tree and write a CAR
  get      Extract a path of a registry (e.g. a tag folder) from a store, CARs or gateways
  demo     Build a small sample image in-process and publish it into a local store
  help     Show help for a command

Run 'ipcr help <command>' or 'ipcr <command> --help' for its options.
Global options: --help, --version`

export const pushHelp = `Usage: ipcr push [IMAGE] [options]

Publishes one image under one or more tags. IMAGE is a local Docker image
reference (exported with 'docker save'); or give --file.

Image:
  --file PATH            Image tarball (docker save, buildx docker/oci, skopeo
                         docker-archive/oci-archive, gzip allowed) or OCI layout directory
  --max-decompressed-size SIZE
                         Most bytes a compressed tarball or layer may inflate to,
                         e.g. 20GiB (default: 20 times its size, at least 1 GiB)
  --name NAME            Repository name in the tree, e.g. team/app
                         (default: the path of IMAGE or of the references in --tag)
  --tag TAG              Tag or full reference; repeat or separate with commas
                         (default: IMAGE's tag, else latest)
  --description TEXT     One line for <name>/README-short.txt
                         (default: label org.opencontainers.image.description)
  --revision REV         Source revision recorded in catalog.json (default: $GITHUB_SHA)

Registry:
  --store DIR            Embedded local store: read the previous root from DIR/root,
                         write every block to DIR/blocks and the new root to DIR/root
  --previous-root CID    Registry root to update (default: the store's root, else a new registry)
  --gateway URL          Trustless gateway to read previous-root blocks from (repeatable)
  --previous-car PATH    CAR file with previous-root blocks (repeatable)

Kubo (local daemon or remote RPC endpoint):
  --kubo-rpc-url URL     Import the CAR there, pin the new root, read previous blocks there
  --kubo-rpc-header H    'Name: value' sent to the endpoint (repeatable); secrets are
                         better passed as lines in $IPCR_KUBO_RPC_HEADERS
  --kubo-pin-name NAME   Pin name (default: ipcr registry)
  --keep-previous-pin    Keep the previous root pinned (default: unpin it once the new
                         pin holds and every name moved)
  --kubo-mfs-path PATH   MFS folder holding the registry root: read as previous root
                         when none is given, written after publishing
  --kubo-timeout SECS    Per-call timeout (default 120); network errors and 5xx retry
  --ipns-key NAME        Publish IPNS with this keystore key, after everything else
  --ipns-private-key-file PATH
                         Import this key (PEM PKCS#8, or base64 libp2p protobuf) as
                         --ipns-key when the keystore lacks it
  --ipns-lifetime D      IPNS record lifetime, e.g. 48h

Output:
  --car PATH             CAR file to write (default: ./registry.car)
  --car-scope new|full   new: only blocks this publish adds (default); full: the whole DAG
  --json                 Print the result as JSON on stdout
  -q, --quiet            Only errors on stderr
  -v, --verbose          Debug lines on stderr

Examples:
  ipcr push team/app:1.0 --store ~/.ipcr
  ipcr push --file app.tar --name team/app --tag 1.0,latest --car app.car
  ipcr push --file app.tar --name team/app --tag 1.1 --previous-root bafy... \\
            --gateway https://gateway.example --car update.car
  ipcr push team/app:1.2 --kubo-rpc-url http://127.0.0.1:5001 --kubo-mfs-path /ipcr \\
            --ipns-key registry`

export const getHelp = `Usage: ipcr get PATH -o DIR [options]

Writes a file or folder of a registry to DIR, verifying every block against its
CID. PATH is /ipfs/<cid>/<path>, <cid>/<path>, or <path> inside the store's root.

  -o, --output DIR       Where to write (must not exist or be empty)
  --store DIR            Read blocks (and the root, for a bare path) from this store
  --car PATH             Read blocks from a CAR file (repeatable)
  --gateway URL          Read blocks from a trustless gateway (repeatable)
  --max-bytes SIZE       Most file bytes to write (default 64GiB; e.g. 100GiB, 512MiB)
  --max-entries N        Most files and folders to write (default 1000000)
  --max-blocks N         Most block reads (default 4194304)

The limits are checked against the sizes the DAG declares before anything is
written, and again while writing; a failed get leaves nothing at DIR.

Example, then load the image with Docker:
  ipcr get --store .ipcr ipcr-demo/tags/latest -o demo
  tar -C demo -cf - . | docker load`

export const demoHelp = `Usage: ipcr demo [--store DIR] [--json]

Builds a small two-layer image in-process (no Docker, no IPFS daemon, no
network), publishes it as ipcr-demo:latest into the embedded store (default
.ipcr), writes the CAR to DIR/demo.car and prints how to load it.`
