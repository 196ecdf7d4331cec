// A small client of the pull protocol for the task queue benchmark: one OAuth client's token,
// hello, long-poll claims and completions, over node:http with a keep-alive agent of its own, the
// way an Executor keeps its connections to the Scheduler open. Any answer other than the ones the
// protocol gives for a call is an error naming the call and the error code the service sent.
import { randomUUID } from 'node:crypto';
import http from 'node:http';

/** One Executor's connection to the Scheduler: its client credentials and, once asked, a token. */
export class ProtocolClient {
  #baseUrl;
  #agent = new http.Agent({ keepAlive: true, maxSockets: 4 });
  #credentials;
  #token = '';
  #pending = new Set();

  constructor(baseUrl, credentials) {
    this.#baseUrl = baseUrl;
    this.#credentials = credentials;
  }

  /** Asks /oauth/token for an access token (client credentials, HTTP Basic). */
  async authenticate() {
    const { id, secret } = this.#credentials;
    const basic = Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`);
    const answer = await this.#send({
      path: '/oauth/token',
      headers: {
        authorization: `Basic ${basic.toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    expectStatus('token', answer, [200]);
    this.#token = answer.json.access_token;
  }

  /** POST /v1/executors/hello; the Scheduler's answer (poll wait, lease length, ...). */
  async hello({ executorId, pools, slots }) {
    const body = { executor_id: executorId, agent: 'sluice-bench/1', protocol_versions: [1] };
    const answer = await this.#call('/v1/executors/hello', { ...body, pools, slots });
    expectStatus('hello', answer, [200]);
    return answer.json;
  }

  /** POST /v1/tasks/claim, a long poll; the tasks leased, or an empty list after a 204. */
  async claim({ executorId, maxTasks, waitSec }) {
    const body = { executor_id: executorId, max_tasks: maxTasks, wait_sec: waitSec };
    const answer = await this.#call('/v1/tasks/claim', body);
    expectStatus('claim', answer, [200, 204]);
    return answer.status === 204 ? [] : answer.json.tasks;
  }

  /** POST /v1/tasks/{id}/complete with a success and a new Idempotency-Key. */
  async complete(task, durationMs = 1) {
    const body = {
      epoch: task.epoch,
      outcome: { status: 'succeeded', rows_written: 0, duration_ms: durationMs },
    };
    const path = `/v1/tasks/${encodeURIComponent(task.id)}/complete`;
    const answer = await this.#call(path, body, { 'idempotency-key': randomUUID() });
    expectStatus('complete', answer, [200]);
    return answer.json;
  }

  /** Ends every request in flight (a waiting claim ends with nothing leased) and the sockets. */
  close() {
    for (const outgoing of this.#pending) outgoing.destroy();
    this.#agent.destroy();
  }

  #call(path, body, headers = {}) {
    return this.#send({
      path,
      headers: {
        authorization: `Bearer ${this.#token}`,
        'content-type': 'application/json',
        ...headers,
      },
      body: JSON.stringify(body),
    });
  }

  #send({ path, headers, body }) {
    const url = new URL(path, this.#baseUrl);
    return new Promise((resolvePromise, reject) => {
      const outgoing = http.request(url, { method: 'POST', headers, agent: this.#agent }, (res) => {
        const chunks = [];
        res.on('data', (chunk) => chunks.push(chunk));
        res.on('error', reject);
        res.on('end', () => {
          this.#pending.delete(outgoing);
          const text = Buffer.concat(chunks).toString();
          resolvePromise({
            status: res.statusCode,
            json: text === '' ? undefined : JSON.parse(text),
          });
        });
      });
      this.#pending.add(outgoing);
      outgoing.on('error', (error) => {
        this.#pending.delete(outgoing);
        reject(error);
      });
      outgoing.end(body);
    });
  }
}

/** Whether an error is a request that `close` ended. */
export function isClosedRequest(error) {
  return error?.code === 'ECONNRESET' || error?.message === 'socket hang up';
}

function expectStatus(call, answer, statuses) {
  if (statuses.includes(answer.status)) return;
  const code = answer.json?.error?.code ?? 'no error code';
  const message = answer.json?.error?.message ?? '';
  throw new Error(`${call} answered ${answer.status} (${code}): ${message}`);
}
