import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { createWriteStream, existsSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { Readable } from 'node:stream'
import { pipeline } from 'node:stream/promises'
import type { FolderFile } from '../../src/core/image/tag-folder.js'
import { run, withToolsOnPath } from './tools.js'

/** Real images built with real tools (umoci, skopeo, regctl, docker CLI on podman). */

export async function makeTempDir (prefix = 'ipcr-image-'): Promise<string> {
  return await mkdtemp(join(tmpdir(), prefix))
}

/** A short random name for Docker tags, so parallel tests do not collide. */
export function uniqueName (prefix = 'ipcr-test'): string {
  return `${prefix}-${randomBytes(4).toString('hex')}`
}

export type Files = Record<string, string | Uint8Array>

async function writeFiles (root: string, files: Files): Promise<void> {
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path)
    await mkdir(dirname(full), { recursive: true })
    await writeFile(full, content)
  }
}

export interface OciImageSpec {
  /** Reference name inside the layout; default 'latest'. */
  tag?: string
  layers: Array<{ files: Files }>
  labels?: Record<string, string>
  arch?: string
  os?: string
}

export interface BuiltOciImage {
  dir: string
  tag: string
  manifestDigest: string
  configDigest: string
  layerDigests: string[]
}

/** Builds an image into an OCI layout directory with umoci (created if needed). */
export async function buildOciLayout (dir: string, spec: OciImageSpec): Promise<BuiltOciImage> {
  const tag = spec.tag ?? 'latest'
  const image = `${dir}:${tag}`
  if (!existsSync(join(dir, 'oci-layout'))) await run('umoci', ['init', '--layout', dir])
  await run('umoci', ['new', '--image', image])
  const work = await makeTempDir('ipcr-umoci-')
  try {
    const bundle = join(work, 'bundle')
    await run('umoci', ['unpack', '--rootless', '--image', image, bundle])
    for (const layer of spec.layers) {
      await writeFiles(join(bundle, 'rootfs'), layer.files)
      await run('umoci', ['repack', '--refresh-bundle', '--image', image, bundle])
    }
  } finally {
    await rm(work, { recursive: true, force: true })
  }
  const config = ['config', '--image', image, '--architecture', spec.arch ?? 'amd64', '--os', spec.os ?? 'linux']
  for (const [key, value] of Object.entries(spec.labels ?? {})) config.push('--config.label', `${key}=${value}`)
  await run('umoci', config)
  await run('umoci', ['gc', '--layout', dir])
  return { dir, tag, ...await describeLayoutImage(dir, tag) }
}

/** Reads the manifest, config and layer digests of a tagged image in an OCI layout. */
export async function describeLayoutImage (dir: string, tag: string): Promise<{ manifestDigest: string, configDigest: string, layerDigests: string[] }> {
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'))
  const entry = index.manifests.find((m: any) => m.annotations?.['org.opencontainers.image.ref.name'] === tag)
  if (entry == null) throw new Error(`no tag ${tag} in ${dir}`)
  const manifest = JSON.parse(await readFile(blobFile(dir, entry.digest), 'utf8'))
  return {
    manifestDigest: entry.digest,
    configDigest: manifest.config?.digest,
    layerDigests: (manifest.layers ?? []).map((l: any) => l.digest)
  }
}

export function blobFile (layoutDir: string, digest: string): string {
  return join(layoutDir, 'blobs', 'sha256', digest.replace(/^sha256:/, ''))
}

/** Two umoci images (amd64, arm64) and a multi-platform index tagged 'multi', via regctl. */
export async function buildMultiPlatformLayout (dir: string, labels: Record<string, string> = {}): Promise<{ amd64: BuiltOciImage, arm64: BuiltOciImage, indexDigest: string }> {
  const amd64 = await buildOciLayout(dir, { tag: 'amd64', arch: 'amd64', labels, layers: [{ files: { 'arch.txt': 'amd64\n' } }] })
  const arm64 = await buildOciLayout(dir, { tag: 'arm64', arch: 'arm64', labels, layers: [{ files: { 'arch.txt': 'arm64\n' } }] })
  await run('regctl', ['index', 'create', `ocidir://${dir}:multi`, '--ref', `ocidir://${dir}:amd64`, '--ref', `ocidir://${dir}:arm64`])
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'))
  const entry = index.manifests.find((m: any) => m.annotations?.['org.opencontainers.image.ref.name'] === 'multi')
  if (entry == null) throw new Error(`regctl did not tag 'multi' in ${dir}`)
  return { amd64, arm64, indexDigest: entry.digest }
}

/** Copies with skopeo, e.g. `oci:DIR:tag` to `docker-archive:FILE:name:tag` or `oci-archive:FILE`. */
export async function skopeoCopy (source: string, destination: string, extra: string[] = []): Promise<void> {
  await run('skopeo', ['copy', '--quiet', ...extra, source, destination])
}

/** Docker Engine 25+ `docker save` layout (OCI layout + manifest.json) with regctl. */
export async function regctlExport (layoutDir: string, tag: string, file: string, name = `example.com/ipcr/test:${tag}`): Promise<void> {
  await run('regctl', ['image', 'export', `ocidir://${layoutDir}:${tag}`, file, '--name', name])
}

/** Tars a directory's contents (`tar -C DIR -cf FILE .`), as a type=oci export would be. */
export async function tarDirectory (dir: string, file: string): Promise<void> {
  await run('tar', ['-C', dir, '-cf', file, '.'])
}

/** Builds a FROM scratch image with the docker CLI; returns its image ID (sha256:…). */
export async function dockerBuild (tag: string, files: Files, labels: Record<string, string> = {}): Promise<string> {
  const context = await makeTempDir('ipcr-docker-build-')
  try {
    await writeFiles(join(context, 'files'), files)
    const lines = ['FROM scratch', 'COPY files/ /']
    for (const [key, value] of Object.entries(labels)) lines.push(`LABEL ${key}=${JSON.stringify(value)}`)
    await writeFile(join(context, 'Dockerfile'), lines.join('\n') + '\n')
    await run('docker', ['build', '--quiet', '--tag', tag, context], { env: { ...process.env, DOCKER_BUILDKIT: '0' } })
  } finally {
    await rm(context, { recursive: true, force: true })
  }
  return await dockerImageId(tag)
}

export async function dockerSave (ref: string, file: string): Promise<void> {
  await run('docker', ['save', '--output', file, ref])
}

export async function dockerImageId (ref: string): Promise<string> {
  return (await run('docker', ['inspect', '--format', '{{.Id}}', ref])).trim()
}

/** `docker load` of a tar file, or of a directory as `tar -C DIR -cf - . | docker load`; returns docker's output. */
export async function dockerLoad (source: string): Promise<string> {
  if (!(await stat(source)).isDirectory()) return await run('docker', ['load', '--input', source])
  const env = withToolsOnPath()
  const tar = spawn('tar', ['-C', source, '-cf', '-', '.'], { stdio: ['ignore', 'pipe', 'pipe'], env })
  const load = spawn('docker', ['load'], { stdio: ['pipe', 'pipe', 'pipe'], env })
  tar.stdout.pipe(load.stdin)
  let out = ''
  let err = ''
  load.stdout.on('data', (chunk) => { out += String(chunk) })
  load.stderr.on('data', (chunk) => { err += String(chunk) })
  tar.stderr.on('data', (chunk) => { err += String(chunk) })
  const exit = async (child: ReturnType<typeof spawn>): Promise<number> =>
    await new Promise((resolve, reject) => { child.on('error', reject); child.on('close', (code) => resolve(code ?? 1)) })
  const [tarCode, loadCode] = await Promise.all([exit(tar), exit(load)])
  if (tarCode !== 0 || loadCode !== 0) throw new Error(`tar | docker load failed (${tarCode}, ${loadCode}): ${err}`)
  return out
}

/** Removes images, ignoring the ones that are gone. */
export async function dockerRemove (...refs: string[]): Promise<void> {
  for (const ref of refs) {
    try {
      await run('docker', ['rmi', '--force', ref])
    } catch {}
  }
}

/** Writes tag-folder files into a directory. */
export async function writeTagFolder (dir: string, files: FolderFile[]): Promise<void> {
  for (const file of files) {
    const full = join(dir, file.path)
    await mkdir(dirname(full), { recursive: true })
    if (file.bytes != null) await writeFile(full, file.bytes)
    else if (file.open != null) await pipeline(file.open() as Readable, createWriteStream(full))
    else throw new Error(`no content for ${file.path}`)
  }
}

/**
 * docker-loads a tag folder three ways and returns the image ID of `ref` each
 * time: as it is, with manifest.json only (the classic `docker load` path)
 * and with the OCI layout only (the containerd-store path).
 */
export async function dockerLoadEachWay (folder: string, ref: string): Promise<{ full: string, manifestOnly: string, ociOnly: string }> {
  const ids: string[] = []
  const variants: Array<string[]> = [[], ['index.json', 'oci-layout'], ['manifest.json']]
  for (const drop of variants) {
    const copy = await makeTempDir('ipcr-load-')
    try {
      await run('cp', ['-a', `${folder}/.`, copy])
      for (const name of drop) await rm(join(copy, name))
      await dockerLoad(copy)
      ids.push(await dockerImageId(ref))
    } finally {
      await dockerRemove(ref)
      await rm(copy, { recursive: true, force: true })
    }
  }
  return { full: ids[0] as string, manifestOnly: ids[1] as string, ociOnly: ids[2] as string }
}
