// Benchmark input: a real OCI image layout built with the project's own generator
// (src/core/sample.ts, bundled on the fly with esbuild since dist/ does not export it).
//
// Shape (scaled to the requested size): a "rootfs" layer and an "app" layer with
// thousands of small files, a layer of medium files, a layer of a few large files
// (all plain tar, as `docker save` writes them) and one small gzip layer.
import { createHash } from 'node:crypto'
import { mkdir, readFile, readdir, rename, rm, stat, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { importBundle } from './bundle-entry.mjs'

const MiB = 1024 * 1024
const KiB = 1024

/** Bundles src/core/sample.ts into `outDir` and returns its writeSampleImage. */
export async function loadGenerator (repoRoot, outDir) {
  const outfile = join(outDir, 'sample-generator.mjs')
  const mod = await importBundle(repoRoot, ["export { writeSampleImage } from './src/core/sample.ts'"], outfile)
  return mod.writeSampleImage
}

/** mulberry32: a tiny seeded PRNG, so the same size gives the same image. */
function prng (seed) {
  let a = seed >>> 0
  return () => {
    a = (a + 0x6D2B79F5) >>> 0
    let t = a
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296
  }
}

const between = (rnd, lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1))

/** Small files with a realistic spread: mostly tiny, some tens of KiB, a few hundreds. */
function smallFiles (rnd, prefix, dirs, count, textEvery) {
  const files = []
  for (let i = 0; i < count; i++) {
    const dir = `${prefix}/${dirs[i % dirs.length]}`
    if (i % textEvery === 0) {
      files.push({ path: `${dir}/conf-${i}.txt`, text: `# generated config ${i}\nkey=value-${i}\n`.repeat(between(rnd, 1, 40)) })
      continue
    }
    const r = rnd()
    const size = r < 0.6 ? between(rnd, 100, 4 * KiB) : r < 0.9 ? between(rnd, 4 * KiB, 32 * KiB) : between(rnd, 32 * KiB, 256 * KiB)
    files.push({ path: `${dir}/file-${i}.bin`, size })
  }
  return files
}

const bytesOf = (files) => files.reduce((n, f) => n + (f.size ?? Buffer.byteLength(f.text ?? '')), 0)

/** Fills `budget` bytes with files of lo..hi bytes (the last one takes the remainder). */
function filesOfSize (rnd, prefix, budget, lo, hi) {
  const files = []
  let left = budget
  let i = 0
  while (left > 0) {
    let size = Math.min(left, between(rnd, lo, hi))
    if (left - size < lo) size = left
    files.push({ path: `${prefix}/${i++}.bin`, size })
    left -= size
  }
  return files
}

/** The layer plan for about `totalMiB` MiB of blobs. */
export function planLayers (totalMiB) {
  const rnd = prng(0x1bc5 + totalMiB)
  const scale = Math.min(1, totalMiB / 600)
  const osDirs = ['usr/bin', 'usr/lib/x86_64-linux-gnu', 'usr/share/doc', 'usr/share/locale/de/LC_MESSAGES', 'etc', 'usr/lib/python3/dist-packages', 'usr/share/zoneinfo/Europe', 'var/lib/dpkg/info']
  const appDirs = Array.from({ length: 60 }, (_, i) => `node_modules/pkg-${i}/lib`)
  const rootfs = smallFiles(rnd, 'rootfs', osDirs, Math.round(4000 * scale), 7)
  const app = smallFiles(rnd, 'app', appDirs, Math.round(3000 * scale), 5)
  const gz = filesOfSize(rnd, 'opt/assets', Math.round(16 * MiB * scale), 256 * KiB, 2 * MiB)
  const rest = Math.max(totalMiB * MiB - bytesOf(rootfs) - bytesOf(app) - bytesOf(gz), 8 * MiB)
  const medium = filesOfSize(rnd, 'opt/data', Math.round(rest * 0.3), 1 * MiB, 8 * MiB)
  const large = filesOfSize(rnd, 'opt/models', rest - bytesOf(medium), 40 * MiB, 160 * MiB)
  return { plain: [rootfs, app, medium, large], gzip: [gz] }
}

async function sha256Blob (blobs, bytes) {
  const hex = createHash('sha256').update(bytes).digest('hex')
  await writeFile(join(blobs, hex), bytes)
  return { digest: `sha256:${hex}`, size: bytes.length }
}

async function readJsonBlob (blobs, digest) {
  return JSON.parse(await readFile(join(blobs, digest.slice('sha256:'.length)), 'utf8'))
}

/**
 * Writes the image layout to `dir`: the plain layers with the generator, then the
 * gzip layer as a second generated image whose layer is spliced into the first
 * (the generator compresses all layers of one image alike). Returns file stats.
 */
export async function writeBenchImage (writeSampleImage, dir, totalMiB) {
  const plan = planLayers(totalMiB)
  await writeSampleImage(dir, { layers: plan.plain, gzip: false, seed: 'ipcr-bench', tag: '1' })
  const side = `${dir}.gzip-part`
  await writeSampleImage(side, { layers: plan.gzip, gzip: true, seed: 'ipcr-bench-gz', tag: '1' })

  const blobs = join(dir, 'blobs', 'sha256')
  const sideBlobs = join(side, 'blobs', 'sha256')
  const index = JSON.parse(await readFile(join(dir, 'index.json'), 'utf8'))
  const sideIndex = JSON.parse(await readFile(join(side, 'index.json'), 'utf8'))
  const manifest = await readJsonBlob(blobs, index.manifests[0].digest)
  const config = await readJsonBlob(blobs, manifest.config.digest)
  const sideManifest = await readJsonBlob(sideBlobs, sideIndex.manifests[0].digest)
  const sideConfig = await readJsonBlob(sideBlobs, sideManifest.config.digest)
  for (const layer of sideManifest.layers) {
    await rename(join(sideBlobs, layer.digest.slice('sha256:'.length)), join(blobs, layer.digest.slice('sha256:'.length)))
  }
  await rm(side, { recursive: true, force: true })

  await unlink(join(blobs, manifest.config.digest.slice('sha256:'.length)))
  await unlink(join(blobs, index.manifests[0].digest.slice('sha256:'.length)))
  config.rootfs.diff_ids.push(...sideConfig.rootfs.diff_ids)
  config.history.push(...sideConfig.history)
  config.config.Labels = { 'org.opencontainers.image.description': `ipcr benchmark image (${totalMiB} MiB)` }
  const configBlob = await sha256Blob(blobs, Buffer.from(JSON.stringify(config)))
  manifest.config = { ...manifest.config, ...configBlob }
  manifest.layers.push(...sideManifest.layers)
  const manifestBlob = await sha256Blob(blobs, Buffer.from(JSON.stringify(manifest)))
  index.manifests[0] = { ...index.manifests[0], ...manifestBlob }
  await writeFile(join(dir, 'index.json'), JSON.stringify(index))

  const counts = [...plan.plain, ...plan.gzip].map((l) => l.length)
  return { layers: manifest.layers.length, files: counts.reduce((a, b) => a + b, 0), filesPerLayer: counts }
}

/** All regular files under `dir`, recursively, with their sizes. */
export async function listFiles (dir) {
  const out = []
  const walk = async (d) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.isFile()) out.push({ path: p, size: (await stat(p)).size })
    }
  }
  await walk(dir)
  return out
}

export async function ensureDir (dir) {
  await mkdir(dir, { recursive: true })
  return dir
}
