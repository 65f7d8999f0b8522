export default async function globalTeardown () {
  globalThis.__ipcrPodman?.kill('SIGTERM')
}
