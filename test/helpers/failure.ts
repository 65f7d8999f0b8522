/** The error `promise` rejects with; fails the test when it resolves or rejects with something that is not an Error. */
export async function failure (promise: Promise<unknown>): Promise<Error> {
  const err = await promise.then(() => undefined, (e: unknown) => e)
  if (!(err instanceof Error)) throw new Error(`expected a failure, got ${err === undefined ? 'success' : String(err)}`)
  return err
}
