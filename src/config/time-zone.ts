import { didYouMean } from '../shared/index.js';

/** The canonical spelling of an IANA time zone (`europe/amsterdam` -> `Europe/Amsterdam`), or undefined if unknown. */
export function canonicalTimeZone(name: string): string | undefined {
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

/** The closest known time zone name, for a did-you-mean. */
export function suggestTimeZone(name: string): string | undefined {
  return didYouMean(name, Intl.supportedValuesOf('timeZone'));
}
