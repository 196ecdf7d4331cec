import type { StateLocation } from '../../src/state/state-types.js';

/** The `--state` URL of a store's location, for CLI commands run on it directly. */
export function stateUrlOf(location: StateLocation): string {
  if (location.backend === 'sqlite') return `sqlite://${location.path}`;
  return `${location.url}${location.url.includes('?') ? '&' : '?'}schema=${location.schema}`;
}
