// A fault-injecting HTTP proxy in front of a test S3 server (SeaweedFS, see s3.ts), on loopback.
// Requests pass through unchanged (the Host header too, so SigV4 signatures still verify) unless a rule
// matches them; a rule then makes the request
//   - fail:  answer an S3 error (default 503 SlowDown-like ServiceUnavailable) without forwarding it;
//   - stall: never answer (the socket stays open until the client gives up or the proxy stops);
//   - cut:   forward it (so the store performs it), then close the connection after `afterBytes`
//            bytes of the response body (default 0: before the status line), an ambiguous failure
//            for a write, a truncated body for a read.
// Rules match on the S3 operation (classified from method, query and headers), bucket and key, and
// fire `times` times (default: always). Every request is recorded for assertions.
//
// Usage: `const faults = await startS3Faults(s3)`; stores and clients use `faults.server` (an S3Server
// whose endpoint is the proxy); `faults.inject({ operation: 'UploadPart', action: { kind: 'fail' } })`;
// `faults.count('UploadPart')`; `await faults.stop()` in after().
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { S3ClientConfig } from '@aws-sdk/client-s3';
import { registerCleanup } from './cleanup.ts';
import type { S3Server } from './s3.ts';

export type S3Operation =
  | 'CreateMultipartUpload' | 'UploadPart' | 'UploadPartCopy' | 'CompleteMultipartUpload' | 'AbortMultipartUpload'
  | 'PutObject' | 'CopyObject' | 'GetObject' | 'HeadObject' | 'DeleteObject' | 'DeleteObjects'
  | 'ListObjects' | 'ListMultipartUploads' | 'Other';

export interface FaultRequest {
  method: string;
  operation: S3Operation;
  bucket: string;
  /** Object key, URL-decoded ("" for bucket-level requests). */
  key: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
}

export type FaultAction =
  | { kind: 'fail'; status?: number; code?: string }
  | { kind: 'stall' }
  | { kind: 'cut'; afterBytes?: number };

export interface FaultRuleSpec {
  operation?: S3Operation | readonly S3Operation[];
  bucket?: string;
  /** Exact key, or a predicate on it. */
  key?: string | ((key: string) => boolean);
  /** Any further condition. */
  when?: (request: FaultRequest) => boolean;
  action: FaultAction;
  /** How many matching requests it hits; default every one. */
  times?: number;
  /** Matching requests to let through before it starts hitting. Default 0. */
  skip?: number;
}

export interface FaultRule {
  readonly spec: FaultRuleSpec;
  /** Requests this rule hit so far. */
  readonly hits: number;
  /** Removes the rule. */
  remove(): void;
}

export interface FaultyS3 {
  /** An S3Server view of the proxy: same credentials, the proxy's endpoint. */
  readonly server: S3Server;
  readonly endpoint: string;
  /** Every request seen, in order of arrival. */
  readonly requests: readonly FaultRequest[];
  inject(spec: FaultRuleSpec): FaultRule;
  /** Removes every rule (the request log stays). */
  clear(): void;
  /** Requests of `operation` seen so far (optionally on one key). */
  count(operation: S3Operation, key?: string): number;
  stop(): Promise<void>;
}

export function classify(method: string, key: string, query: URLSearchParams, headers: IncomingMessage['headers']): S3Operation {
  const copy = headers['x-amz-copy-source'] !== undefined;
  switch (method) {
    case 'GET':
      if (key === '') return query.has('uploads') ? 'ListMultipartUploads' : 'ListObjects';
      return 'GetObject';
    case 'HEAD':
      return key === '' ? 'Other' : 'HeadObject';
    case 'PUT':
      if (key === '') return 'Other';
      if (query.has('partNumber') && query.has('uploadId')) return copy ? 'UploadPartCopy' : 'UploadPart';
      if ([...query.keys()].some((k) => ['tagging', 'acl', 'retention', 'legal-hold'].includes(k))) return 'Other';
      return copy ? 'CopyObject' : 'PutObject';
    case 'POST':
      if (query.has('uploads')) return 'CreateMultipartUpload';
      if (query.has('uploadId')) return 'CompleteMultipartUpload';
      if (query.has('delete')) return 'DeleteObjects';
      return 'Other';
    case 'DELETE':
      if (key === '') return 'Other';
      return query.has('uploadId') ? 'AbortMultipartUpload' : 'DeleteObject';
    default:
      return 'Other';
  }
}

function parse(req: IncomingMessage): FaultRequest {
  const url = new URL(req.url ?? '/', 'http://proxy');
  const [bucket = '', ...rest] = url.pathname.replace(/^\//, '').split('/');
  const key = rest.map((p) => decodeURIComponent(p)).join('/');
  const method = req.method ?? 'GET';
  return { method, operation: classify(method, key, url.searchParams, req.headers), bucket: decodeURIComponent(bucket), key, query: url.searchParams, headers: req.headers };
}

function matches(spec: FaultRuleSpec, r: FaultRequest): boolean {
  if (spec.operation !== undefined) {
    const ops: readonly S3Operation[] = typeof spec.operation === 'string' ? [spec.operation] : spec.operation;
    if (!ops.includes(r.operation)) return false;
  }
  if (spec.bucket !== undefined && spec.bucket !== r.bucket) return false;
  if (typeof spec.key === 'string' && spec.key !== r.key) return false;
  if (typeof spec.key === 'function' && !spec.key(r.key)) return false;
  return spec.when === undefined || spec.when(r);
}

export async function startS3Faults(upstream: S3Server): Promise<FaultyS3> {
  const target = new URL(upstream.endpoint);
  const requests: FaultRequest[] = [];
  const rules: Array<{ spec: FaultRuleSpec; hits: number; seen: number }> = [];
  const sockets = new Set<Socket>();

  const pick = (r: FaultRequest): FaultAction | undefined => {
    for (const rule of rules) {
      if (!matches(rule.spec, r)) continue;
      rule.seen++;
      if (rule.seen <= (rule.spec.skip ?? 0)) continue;
      if (rule.hits >= (rule.spec.times ?? Number.POSITIVE_INFINITY)) continue;
      rule.hits++;
      return rule.spec.action;
    }
    return undefined;
  };

  const forward = (req: IncomingMessage, res: ServerResponse, cutAfter: number | undefined): void => {
    const out = httpRequest(
      { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers },
      (answer) => {
        if (cutAfter === 0) {
          // The store did the work; the client never hears of it.
          answer.resume();
          answer.once('end', () => req.socket.destroy());
          return;
        }
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        if (cutAfter === undefined) {
          answer.pipe(res);
          return;
        }
        let sent = 0;
        answer.on('data', (chunk: Buffer) => {
          if (sent >= cutAfter) return;
          const part = chunk.subarray(0, cutAfter - sent);
          sent += part.length;
          res.write(part);
          if (sent >= cutAfter) {
            answer.destroy();
            // Let the bytes leave before the connection drops mid-body.
            setImmediate(() => req.socket.destroy());
          }
        });
        answer.once('end', () => {
          if (sent < cutAfter) req.socket.destroy(); // a body shorter than the cut point: still cut
        });
      },
    );
    out.once('error', () => req.socket.destroy());
    req.pipe(out);
  };

  const server: Server = createServer((req, res) => {
    const r = parse(req);
    requests.push(r);
    const action = pick(r);
    if (action === undefined) return forward(req, res, undefined);
    switch (action.kind) {
      case 'fail': {
        req.resume();
        req.once('end', () => {
          const status = action.status ?? 503;
          const code = action.code ?? (status === 503 ? 'ServiceUnavailable' : 'InternalError');
          res.writeHead(status, { 'content-type': 'application/xml' });
          res.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>fault injected by the test proxy</Message></Error>`);
        });
        return;
      }
      case 'stall':
        req.resume(); // read the body so the client waits for an answer, not for a window
        return;
      case 'cut':
        return forward(req, res, action.afterBytes ?? 0);
    }
  });
  server.keepAliveTimeout = 1000;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('fault proxy has no TCP address');
  const endpoint = `http://127.0.0.1:${address.port}`;

  let stopped: Promise<void> | undefined;
  const stop = (): Promise<void> => {
    stopped ??= new Promise<void>((resolve) => {
      for (const s of sockets) s.destroy();
      server.close(() => resolve());
    });
    return stopped;
  };
  const unregister = registerCleanup(() => {
    for (const s of sockets) s.destroy();
    server.close();
  });

  const view: S3Server = {
    ...upstream,
    name: `${upstream.name}-faults`,
    endpoint,
    client: (overrides?: Partial<S3ClientConfig>) => upstream.client({ endpoint, ...overrides }),
    connection: () => ({ ...upstream.connection(), endpoint }),
    createBucket: (name, opts) => upstream.createBucket(name, opts),
    stop: async () => {
      await stop();
    },
  };

  return {
    server: view,
    endpoint,
    requests,
    inject(spec) {
      const rule = { spec, hits: 0, seen: 0 };
      rules.push(rule);
      return {
        spec,
        get hits() {
          return rule.hits;
        },
        remove() {
          const i = rules.indexOf(rule);
          if (i >= 0) rules.splice(i, 1);
        },
      };
    },
    clear() {
      rules.length = 0;
    },
    count(operation, key) {
      return requests.filter((r) => r.operation === operation && (key === undefined || r.key === key)).length;
    },
    async stop() {
      await stop();
      unregister();
    },
  };
}
