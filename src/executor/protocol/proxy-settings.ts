import { SluiceError } from '../../core/errors.js';

/**
 * The outbound proxy an Executor uses to reach the Scheduler, read from the usual variables:
 * `HTTPS_PROXY` for https URLs, `HTTP_PROXY` for http URLs (either spelled in lower case too,
 * which wins, as curl does), and `NO_PROXY`, a comma-separated list of host names (a leading `.`
 * or `*.` matches sub-domains too, `host:port` only that port, `*` everything). Loopback hosts
 * are not exempt by themselves: list them in NO_PROXY to reach them directly.
 * A known shortcoming: NO_PROXY entries in CIDR notation (`10.0.0.0/8`) are not understood; such
 * an entry matches only a host written exactly like it. Parsing the range would fix it.
 */

/** The proxies to use, by the scheme of the URL reached, and the hosts reached directly. */
export type ProxySettings = {
  readonly httpsProxy: URL | undefined;
  readonly httpProxy: URL | undefined;
  readonly noProxy: readonly string[];
};

/** No proxy at all. */
export const NO_PROXY_SETTINGS: ProxySettings = {
  httpsProxy: undefined,
  httpProxy: undefined,
  noProxy: [],
};

/** The proxy settings that `env` (normally `process.env`) gives. */
export function proxySettingsFromEnv(env: Readonly<Record<string, string | undefined>>) {
  const pick = (name: string) => nonEmpty(env[name.toLowerCase()]) ?? nonEmpty(env[name]);
  const noProxy = pick('NO_PROXY') ?? '';
  return {
    httpsProxy: proxyUrlOf('HTTPS_PROXY', pick('HTTPS_PROXY')),
    httpProxy: proxyUrlOf('HTTP_PROXY', pick('HTTP_PROXY')),
    noProxy: noProxy
      .split(',')
      .map((entry) => entry.trim().toLowerCase())
      .filter((entry) => entry !== ''),
  } satisfies ProxySettings;
}

/** The proxy to reach `url` through, or undefined to reach it directly. */
export function proxyFor(url: URL, settings: ProxySettings): URL | undefined {
  const proxy = url.protocol === 'https:' ? settings.httpsProxy : settings.httpProxy;
  if (proxy === undefined) return undefined;
  return isExempt(url, settings.noProxy) ? undefined : proxy;
}

/** A proxy's address for messages: scheme, host and port, never its credentials. */
export function displayProxy(proxy: URL): string {
  return `${proxy.protocol}//${proxy.host}`;
}

function isExempt(url: URL, noProxy: readonly string[]): boolean {
  const host = bareHost(url.hostname.toLowerCase());
  const port = url.port === '' ? (url.protocol === 'https:' ? '443' : '80') : url.port;
  return noProxy.some((entry) => {
    if (entry === '*') return true;
    const { name, entryPort } = splitEntry(entry);
    if (entryPort !== undefined && entryPort !== port) return false;
    const domain = name.replace(/^\*?\./, '');
    return host === domain || host.endsWith(`.${domain}`);
  });
}

function splitEntry(entry: string): { name: string; entryPort: string | undefined } {
  const bracketed = /^\[([^\]]+)\](?::(\d+))?$/.exec(entry);
  if (bracketed !== null) return { name: bracketed[1] ?? '', entryPort: bracketed[2] };
  const withPort = /^([^:]+):(\d+)$/.exec(entry);
  if (withPort !== null) return { name: withPort[1] ?? '', entryPort: withPort[2] };
  return { name: entry, entryPort: undefined };
}

function bareHost(hostname: string): string {
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

function nonEmpty(value: string | undefined): string | undefined {
  return value === undefined || value.trim() === '' ? undefined : value.trim();
}

function proxyUrlOf(name: string, text: string | undefined): URL | undefined {
  if (text === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(text.includes('://') ? text : `http://${text}`);
  } catch {
    throw new SluiceError('config_invalid', `${name} is not a URL; write it as http://host:port`);
  }
  if (url.protocol !== 'http:') {
    throw new SluiceError(
      'config_invalid',
      `${name} uses '${url.protocol}'; the Executor reaches proxies over http://host:port ` +
        '(https traffic still goes through it encrypted, by CONNECT)',
    );
  }
  return url;
}
