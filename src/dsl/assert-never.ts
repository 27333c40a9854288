/** The end of every exhaustive switch: a new variant that is not handled is a compile error, and a bug if reached. */
export function assertNever(value: never): never {
  throw new Error(`unhandled variant: ${JSON.stringify(value)}`);
}
