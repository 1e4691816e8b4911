import http from 'node:http';
import type { AddressInfo } from 'node:net';

export type StorageService = 'blob' | 'queue' | 'table';

export interface StorageCounts {
  total: number;
  byService: Record<StorageService, number>;
  /** e.g. 'blob GET', 'table $batch', 'queue DELETE'. */
  byOperation: Record<string, number>;
  /**
   * Reads and writes of the mailbox pacing rows (table `ratelimit`). The bench scales the pacer's
   * reservation block down with time, so these run well above production's (one per 50 requests).
   */
  pacing: number;
}

/**
 * Counts storage transactions at the wire: a pass-through HTTP proxy in front of each Azurite
 * endpoint. Only the hosts are pointed at it, so the bench's own polling is not counted.
 * A table $batch is one request here (Azure bills an entity-group transaction as one).
 */
export class CountingStorageProxy {
  readonly counts: StorageCounts = { total: 0, byService: { blob: 0, queue: 0, table: 0 }, byOperation: {}, pacing: 0 };
  private readonly servers: http.Server[] = [];
  // Azurite closes sockets idle for 5 s (Node's keepAliveTimeout); a request sent on one it is
  // closing fails with a reset the archiver would see as a storage outage. Idle sockets are
  // dropped here after 2 s, before Azurite does; without keep-alive every request pays a connect.
  private readonly agent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: 2000 });
  /** Upstream failures the proxy itself caused or saw (each answered 502): must stay 0 for a valid run. */
  upstreamErrors: Record<string, number> = {};

  /** Returns the connection string with each endpoint moved to its counting proxy. */
  async start(connectionString: string): Promise<string> {
    let proxied = connectionString;
    for (const [service, key] of [
      ['blob', 'BlobEndpoint'],
      ['queue', 'QueueEndpoint'],
      ['table', 'TableEndpoint'],
    ] as const) {
      const match = new RegExp(`${key}=http://127\\.0\\.0\\.1:(\\d+)`).exec(connectionString);
      if (!match) throw new Error(`no ${key} on loopback in the connection string`);
      const port = await this.listen(service, Number(match[1]));
      proxied = proxied.replace(match[0], `${key}=http://127.0.0.1:${port}`);
    }
    return proxied;
  }

  reset(): void {
    this.counts.total = 0;
    this.counts.byService = { blob: 0, queue: 0, table: 0 };
    this.counts.byOperation = {};
    this.counts.pacing = 0;
  }

  async stop(): Promise<void> {
    await Promise.all(
      this.servers.map(
        (s) =>
          new Promise<void>((done) => {
            s.close(() => done());
            s.closeAllConnections();
          }),
      ),
    );
    this.agent.destroy();
  }

  private listen(service: StorageService, targetPort: number): Promise<number> {
    const server = http.createServer((req, res) => {
      this.count(service, req);
      const upstream = http.request(
        {
          host: '127.0.0.1',
          port: targetPort,
          method: req.method,
          path: req.url,
          headers: req.headers,
          agent: this.agent,
        },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.rawHeaders as unknown as http.OutgoingHttpHeaders);
          answer.pipe(res);
        },
      );
      upstream.on('error', (err: NodeJS.ErrnoException) => {
        const code = err.code ?? err.message;
        this.upstreamErrors[code] = (this.upstreamErrors[code] ?? 0) + 1;
        if (!res.headersSent) res.writeHead(502);
        res.end();
      });
      req.pipe(upstream);
    });
    server.keepAliveTimeout = 30_000;
    this.servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve((server.address() as AddressInfo).port));
    });
  }

  private count(service: StorageService, req: http.IncomingMessage): void {
    this.counts.total++;
    this.counts.byService[service]++;
    const path = req.url ?? '';
    const op = service === 'table' && path.includes('$batch') ? 'table $batch' : `${service} ${req.method}`;
    this.counts.byOperation[op] = (this.counts.byOperation[op] ?? 0) + 1;
    if (service === 'table' && /^\/[^/]+\/ratelimit\(/.test(path)) this.counts.pacing++;
  }
}
