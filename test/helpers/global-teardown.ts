export default async function globalTeardown (): Promise<void> {
  const child = (globalThis as any).__ipcrPodman
  if (child != null) child.kill('SIGTERM')
}
