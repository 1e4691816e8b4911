/**
 * Application Insights ingestion double: `POST {IngestionEndpoint}/v2.1/track` (and `/v2/track`),
 * the Breeze endpoint the Azure Monitor OpenTelemetry exporter sends to. Rules it enforces, as the
 * service documents them (Breeze TrackResponse, "Telemetry envelope" schema):
 * - the body is a JSON array of envelopes (gzip accepted), each with name, time, iKey and data;
 * - an envelope whose iKey is not this resource's is refused item by item (206 partial success);
 * - MetricData carries exactly one data point (storage keeps only the first);
 * - with `requireEntraToken`, a request without a Bearer token answers 401, as a resource with
 *   local authentication off does.
 * Accepted envelopes are kept, so tests can read what Application Insights would show.
 */
import { gunzipSync } from 'node:zlib';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';

/** Wire form of one envelope (the exporter's generated TelemetryItem, serialized). */
export interface TelemetryEnvelope {
  ver?: number;
  name: string;
  time: string;
  iKey: string;
  tags?: Record<string, string>;
  data?: { baseType?: string; baseData?: Record<string, unknown> };
}

/** Wire form of MetricData's data point. */
export interface MetricDataPoint {
  ns?: string;
  name: string;
  kind?: string;
  value: number;
  count?: number;
  min?: number;
  max?: number;
  stdDev?: number;
}

export interface ReceivedMetric {
  name: string;
  value: number;
  count?: number;
  properties: Record<string, string>;
  time: string;
}

interface TrackResponse {
  itemsReceived: number;
  itemsAccepted: number;
  errors: Array<{ index: number; statusCode: number; message: string }>;
}

export interface ApplicationInsightsDouble {
  /** https://127.0.0.1:PORT/ */
  url: string;
  instrumentationKey: string;
  /** The APPLICATIONINSIGHTS_CONNECTION_STRING that points an exporter here. */
  connectionString: string;
  envelopes: TelemetryEnvelope[];
  /** Raw request bodies, decompressed, to check nothing secret was sent. */
  bodies: string[];
  stats: { requests: number; rejectedItems: number; unauthorized: number };
  metrics(name?: string): ReceivedMetric[];
  close(): Promise<void>;
}

export async function startApplicationInsightsDouble(opts: {
  tls: { keyPem: string; certPem: string };
  instrumentationKey: string;
  requireEntraToken?: boolean;
  port?: number;
}): Promise<ApplicationInsightsDouble> {
  const envelopes: TelemetryEnvelope[] = [];
  const bodies: string[] = [];
  const stats = { requests: 0, rejectedItems: 0, unauthorized: 0 };

  const server = createServer({ key: opts.tls.keyPem, cert: opts.tls.certPem }, (req, res) => {
    readBody(req)
      .then((body) => track(req, res, body))
      .catch(() => send(res, 500, { itemsReceived: 0, itemsAccepted: 0, errors: [] }));
  });

  function track(req: IncomingMessage, res: ServerResponse, raw: Buffer): void {
    const path = new URL(req.url ?? '/', 'https://x').pathname.replace(/\/+$/, '');
    if (req.method !== 'POST' || (path !== '/v2.1/track' && path !== '/v2/track')) {
      res.writeHead(404).end();
      return;
    }
    stats.requests++;
    if (opts.requireEntraToken && !/^Bearer\s+\S+/i.test(req.headers.authorization ?? '')) {
      stats.unauthorized++;
      send(res, 401, {
        itemsReceived: 0,
        itemsAccepted: 0,
        errors: [{ index: 0, statusCode: 401, message: 'Authorization token is required' }],
      });
      return;
    }
    let text: string;
    let items: unknown;
    try {
      text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      items = JSON.parse(text);
    } catch {
      send(res, 400, {
        itemsReceived: 0,
        itemsAccepted: 0,
        errors: [{ index: 0, statusCode: 400, message: 'Invalid JSON' }],
      });
      return;
    }
    if (!Array.isArray(items)) {
      send(res, 400, {
        itemsReceived: 0,
        itemsAccepted: 0,
        errors: [{ index: 0, statusCode: 400, message: 'Body must be an array of envelopes' }],
      });
      return;
    }
    bodies.push(text);
    const errors: TrackResponse['errors'] = [];
    items.forEach((item: unknown, index) => {
      const problem = envelopeProblem(item, opts.instrumentationKey);
      if (problem) errors.push({ index, statusCode: 400, message: problem });
      else envelopes.push(item as TelemetryEnvelope);
    });
    stats.rejectedItems += errors.length;
    send(res, errors.length ? 206 : 200, {
      itemsReceived: items.length,
      itemsAccepted: items.length - errors.length,
      errors,
    });
  }

  await new Promise<void>((resolve) => server.listen(opts.port ?? 0, '127.0.0.1', resolve));
  const url = `https://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    instrumentationKey: opts.instrumentationKey,
    connectionString: `InstrumentationKey=${opts.instrumentationKey};IngestionEndpoint=${url}`,
    envelopes,
    bodies,
    stats,
    metrics(name) {
      const out: ReceivedMetric[] = [];
      for (const e of envelopes) {
        if (e.data?.baseType !== 'MetricData') continue;
        const base = e.data.baseData as { metrics: MetricDataPoint[]; properties?: Record<string, string> };
        const point = base.metrics[0]!;
        if (name === undefined || point.name === name)
          out.push({
            name: point.name,
            value: point.value,
            count: point.count,
            properties: base.properties ?? {},
            time: e.time,
          });
      }
      return out;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function envelopeProblem(item: unknown, iKey: string): string | undefined {
  if (!item || typeof item !== 'object') return 'Envelope must be an object';
  const e = item as Partial<TelemetryEnvelope>;
  if (typeof e.name !== 'string' || !e.name) return 'Field name is required';
  if (typeof e.time !== 'string' || Number.isNaN(Date.parse(e.time)))
    return 'Field time is required and must be ISO 8601';
  if (e.iKey !== iKey) return 'Invalid instrumentation key';
  if (!e.data || typeof e.data !== 'object') return 'Field data is required';
  if (e.data.baseType === 'MetricData') {
    const metrics = (e.data.baseData as { metrics?: unknown } | undefined)?.metrics;
    if (!Array.isArray(metrics) || metrics.length !== 1) return 'MetricData must carry exactly one data point';
    const p = metrics[0] as Partial<MetricDataPoint>;
    if (typeof p.name !== 'string' || typeof p.value !== 'number' || !Number.isFinite(p.value))
      return 'Metric data point needs a name and a finite value';
  }
  return undefined;
}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

function send(res: ServerResponse, status: number, body: TrackResponse): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}
