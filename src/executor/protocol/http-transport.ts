import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { SluiceError } from '../../core/errors.js';
import { displayProxy, type ProxySettings, proxyFor } from './proxy-settings.js';

/**
 * One HTTP exchange with the Scheduler over `node:http`/`node:https` (Node's global fetch
 * ignores proxy variables): directly, or through an HTTP proxy, by an absolute-URI request for
 * http URLs and a CONNECT tunnel for https URLs, so the proxy sees only the encrypted stream.
 * TLS trusts the system CAs plus an optional extra bundle. Redirects are never followed.
 */

/** A request to send. */
export type HttpExchange = {
  readonly method: 'GET' | 'POST';
  readonly url: URL;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: string;
  /** How long the whole exchange may take. */
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
};

/** What came back. */
export type HttpAnswer = {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly text: string;
};

/** How to reach the Scheduler. */
export type HttpTransportOptions = {
  readonly proxy: ProxySettings;
  /** PEM certificates trusted in addition to the system's, for a private CA. */
  readonly extraCa?: string;
};

/** The largest answer read; the Scheduler's answers are far smaller. */
const MAX_ANSWER_BYTES = 16 * 1024 * 1024;

/** Sends exchanges with keep-alive connections, directly or through the configured proxy. */
export class HttpTransport {
  readonly #proxy: ProxySettings;
  readonly #ca: string[] | undefined;
  readonly #httpAgent = new http.Agent({ keepAlive: true });
  readonly #httpsAgent: https.Agent;

  constructor(options: HttpTransportOptions) {
    this.#proxy = options.proxy;
    this.#ca =
      options.extraCa === undefined ? undefined : [...tls.rootCertificates, options.extraCa];
    this.#httpsAgent = new https.Agent({
      keepAlive: true,
      ...(this.#ca === undefined ? {} : { ca: this.#ca }),
    });
  }

  /** Sends `exchange`; rejects on a network failure, a timeout or an abort. */
  send(exchange: HttpExchange): Promise<HttpAnswer> {
    const signals = [AbortSignal.timeout(exchange.timeoutMs)];
    if (exchange.signal !== undefined) signals.push(exchange.signal);
    const signal = AbortSignal.any(signals);
    const request = this.#request(exchange, signal);
    return new Promise((resolve, reject) => {
      request.once('error', (error) => reject(signal.aborted ? (signal.reason ?? error) : error));
      request.once('response', (response) => readAnswer(response, resolve, reject));
      request.end(exchange.body);
    });
  }

  /** Closes idle keep-alive connections. */
  close(): void {
    this.#httpAgent.destroy();
    this.#httpsAgent.destroy();
  }

  #request(exchange: HttpExchange, signal: AbortSignal): http.ClientRequest {
    const { url, method } = exchange;
    const headers = { ...exchange.headers };
    if (exchange.body !== undefined)
      headers['content-length'] = String(Buffer.byteLength(exchange.body));
    const proxy = proxyFor(url, this.#proxy);

    if (url.protocol === 'http:') {
      if (proxy === undefined) {
        return http.request(url, { method, headers, signal, agent: this.#httpAgent });
      }
      return http.request({
        host: bareHost(proxy.hostname),
        port: proxy.port === '' ? 80 : Number(proxy.port),
        method,
        path: url.href,
        headers: { ...headers, host: url.host, ...proxyAuthorization(proxy) },
        signal,
        agent: this.#httpAgent,
      });
    }
    if (proxy === undefined) {
      return https.request(url, { method, headers, signal, agent: this.#httpsAgent });
    }
    // Without an agent, the request asks `createConnection` for its socket: the tunnel.
    return https.request(url, {
      method,
      headers,
      signal,
      createConnection: (_options, done) => {
        this.#tunnel(proxy, url, signal, done);
        return undefined;
      },
    });
  }

  /** Opens a CONNECT tunnel to `url`'s host through `proxy` and starts TLS inside it. */
  #tunnel(
    proxy: URL,
    url: URL,
    signal: AbortSignal,
    done: (error: Error | null, socket: Duplex) => void,
  ): void {
    const target = `${url.hostname}:${url.port === '' ? '443' : url.port}`;
    const connect = http.request({
      host: bareHost(proxy.hostname),
      port: proxy.port === '' ? 80 : Number(proxy.port),
      method: 'CONNECT',
      path: target,
      headers: { host: target, ...proxyAuthorization(proxy) },
      signal,
      agent: false,
    });
    connect.once('error', (error) => done(error, undefined as unknown as Duplex));
    connect.once('connect', (response, socket) => {
      if (response.statusCode !== 200) {
        socket.destroy();
        done(proxyRefused(proxy, target, response.statusCode), socket);
        return;
      }
      const host = bareHost(url.hostname);
      const secure = tls.connect({
        socket,
        // The name the certificate must hold; SNI only for names, not addresses.
        host,
        ...(isIpAddress(host) ? {} : { servername: host }),
        ...(this.#ca === undefined ? {} : { ca: this.#ca }),
      });
      done(null, secure);
    });
    connect.end();
  }
}

function readAnswer(
  response: http.IncomingMessage,
  resolve: (answer: HttpAnswer) => void,
  reject: (error: Error) => void,
): void {
  const chunks: Buffer[] = [];
  let size = 0;
  response.on('data', (chunk: Buffer) => {
    size += chunk.length;
    if (size > MAX_ANSWER_BYTES) {
      response.destroy(new Error(`the answer is larger than ${MAX_ANSWER_BYTES} bytes`));
      return;
    }
    chunks.push(chunk);
  });
  response.once('error', reject);
  response.once('end', () => {
    resolve({
      status: response.statusCode ?? 0,
      headers: response.headers,
      text: Buffer.concat(chunks).toString('utf8'),
    });
  });
}

function proxyAuthorization(proxy: URL): Record<string, string> {
  if (proxy.username === '' && proxy.password === '') return {};
  const user = decodeURIComponent(proxy.username);
  const password = decodeURIComponent(proxy.password);
  const credentials = Buffer.from(`${user}:${password}`).toString('base64');
  return { 'proxy-authorization': `Basic ${credentials}` };
}

function proxyRefused(proxy: URL, target: string, status: number | undefined): SluiceError {
  return new SluiceError(
    'state_unreachable',
    `The proxy ${displayProxy(proxy)} refused to open a tunnel to ${target} (HTTP ${status}); ` +
      'check HTTPS_PROXY and NO_PROXY, and that the proxy allows CONNECT to that port',
    { retryable: status === undefined || status >= 500 },
  );
}

function bareHost(hostname: string): string {
  return hostname.startsWith('[') ? hostname.slice(1, -1) : hostname;
}

function isIpAddress(host: string): boolean {
  return /^\d{1,3}(\.\d{1,3}){3}$/.test(host) || host.includes(':');
}
