/** Makes the compiler prove a switch handles every case: an unhandled one fails to type-check. */
export function assertUnreachable(value: never, what = 'value'): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(value)}`);
}
