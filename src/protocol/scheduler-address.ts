import { SluiceError } from '../core/errors.js';

/**
 * Where the Scheduler is, as its clients (the CLI and Executors) check it, and the HTTP Basic
 * credentials they send to its token endpoint.
 */

/**
 * Checks a Scheduler URL: http or https, no credentials in it, and https unless the host is this
 * machine. Returns it as a base URL ending in `/`. The URL is never repeated whole in an error,
 * since a mistaken one may hold a secret.
 */
export function checkSchedulerUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new SluiceError(
      'usage',
      'SLUICE_URL is not a URL; write the Scheduler address as https://host[:port]',
    );
  }
  if (url.username !== '' || url.password !== '') {
    throw new SluiceError(
      'usage',
      'SLUICE_URL must not hold credentials; give them in SLUICE_CLIENT_ID and ' +
        'SLUICE_CLIENT_SECRET',
    );
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new SluiceError(
      'usage',
      `SLUICE_URL uses '${url.protocol}'; write the Scheduler address as https://host[:port]`,
    );
  }
  if (url.protocol === 'http:' && !isLoopbackHost(url.hostname)) {
    throw new SluiceError(
      'usage',
      `SLUICE_URL '${url.origin}' uses plain HTTP to a host that is not this machine, which ` +
        'would send the client secret and tokens unencrypted; use https://',
    );
  }
  url.search = '';
  url.hash = '';
  if (!url.pathname.endsWith('/')) url.pathname = `${url.pathname}/`;
  return url;
}

/** Whether a URL host name is this machine: localhost, 127.0.0.0/8 or ::1. */
export function isLoopbackHost(hostname: string): boolean {
  return (
    hostname === 'localhost' ||
    hostname === '[::1]' ||
    /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(hostname)
  );
}

/** HTTP Basic credentials as RFC 6749 section 2.3.1 asks: each part form-urlencoded first. */
export function basicCredentials(clientId: string, clientSecret: string): string {
  return Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`).toString('base64');
}

function formEncode(text: string): string {
  return new URLSearchParams([['', text]]).toString().slice(1);
}
