// Prose around the generated --help: what each command does, where secrets come from, examples.
// The options themselves come from src/options/definitions.ts.

export const mainHelp = "ipcr: the InterPlanetary Container Registry.\n\nPublishes container images to a registry tree on IPFS, where the original recipe still works: 'ipfs get' a tag folder, then 'tar -C DIR -cf - . | docker load'."

export const mainHelpAfter = `
Run 'ipcr help <command>' or 'ipcr <command> --help' for its options.

Examples:
  ipcr demo
  ipcr push team/app:1.0 --store ~/.ipcr
  ipcr get --store ~/.ipcr team/app/tags/1.0 -o app`

export const pushHelp = {
  about: "Publishes one image under one or more tags into a registry tree and writes a CAR. IMAGE is a local image reference, exported with 'docker save' (or 'podman save'); or give --file. Optionally imports the CAR into Kubo, pins the root and publishes IPNS.",
  after: `
Secrets stay out of argv:
  IPCR_KUBO_RPC_HEADERS   'Name: value' lines sent to --kubo-rpc-url, like
                          --kubo-rpc-header (e.g. 'Authorization: Bearer ...')
  --ipns-private-key-file reads the key from a file ('ipfs key export' writes one)
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
            --ipns-key registry --ipns-private-key-file registry.key`
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
