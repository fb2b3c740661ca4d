/**
 * Money is integer micro-credits held in a bigint: no float ever touches a balance.
 * 1 credit = 1,000,000 micro-credits.
 */
export const MICRO_PER_CREDIT = 1_000_000n

/** Whole or fractional credits (given as a decimal string or integer) to micro-credits. @example credits(1.5) === 1_500_000n */
export function credits (amount: number | string): bigint {
  const text = typeof amount === 'number' ? amount.toFixed(6) : amount
  const match = /^(\d+)(?:\.(\d{1,6}))?$/.exec(text)
  if (match === null) throw new RangeError(`not a non-negative credit amount: ${text}`)
  const whole = BigInt(match[1] as string)
  const fraction = BigInt((match[2] ?? '').padEnd(6, '0'))
  return whole * MICRO_PER_CREDIT + fraction
}

/** Micro-credits as a decimal credit string. @example formatCredits(1_500_000n) === '1.5' */
export function formatCredits (micro: bigint): string {
  const negative = micro < 0n
  const abs = negative ? -micro : micro
  const whole = abs / MICRO_PER_CREDIT
  const fraction = (abs % MICRO_PER_CREDIT).toString().padStart(6, '0').replace(/0+$/, '')
  return (negative ? '-' : '') + whole.toString() + (fraction === '' ? '' : '.' + fraction)
}

/**
 * Micro-credits as a float number of credits, for weights and display only (a float is exact to the
 * micro-credit only up to about 9 billion credits): never feed the result back into a balance.
 * @example creditsAsNumber(1_500_000n) === 1.5
 */
export function creditsAsNumber (micro: bigint): number {
  const whole = micro / MICRO_PER_CREDIT
  const fraction = micro % MICRO_PER_CREDIT
  return Number(whole) + Number(fraction) / 1e6
}
