/**
 * Settles as `promise` does, or rejects after `ms` with "No <what> within <ms> ms". A test that
 * waits for the product (an approval prompt, a decision, a result) then fails at once with a
 * message, not by the suite's 60 s timeout, when the product never delivers.
 */
export async function within<T>(promise: Promise<T>, what: string, ms = 5_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`No ${what} within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}
