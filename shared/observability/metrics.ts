import { createNoopMeter, type Attributes, type Counter, type Gauge, type Meter } from '@opentelemetry/api';

// Custom metrics through the OpenTelemetry API. Which samples a stage reports is decided here from
// its result; where they go (Application Insights, or nowhere) is decided in ./metrics-export.ts.
// Names are stable (KQL in docs/operations.md uses them); dimensions never carry secrets or content.

const COUNTERS = {
  'items.captured': 'Item versions unpacked from RingCentral exports',
  'items.invalid': 'Malformed export records, kept under raw/invalid and reported',
  'items.converted': 'Item versions converted into messages',
  'deliveries.queued': 'Deliveries (item × mailbox) queued by conversion',
  'deliveries.notDelivered': 'Recipients without a mailbox, reported and not delivered',
  'deliveries.delivered': 'Deliveries in their mailbox (created, or found there after a lost response)',
  'deliveries.failed': 'Deliveries that failed for good and are listed for replay',
  'stage.errors': 'Queue messages that threw (retried, then poison) or were rejected as invalid, by stage',
} as const;

const GAUGES = {
  'capture.lagHours': 'Hours between now and the end of the last captured window',
  'deliveries.pending': 'Deliveries queued and not yet in their mailbox',
  'poison.messages': 'Messages in a poison queue',
} as const;

export type MetricName = keyof typeof COUNTERS | keyof typeof GAUGES;

export interface MetricSample {
  name: MetricName;
  value: number;
  dimensions?: Record<string, string | number | undefined>;
}

/** Where stages report their counts; one small interface so functions never touch an SDK. */
export interface Metrics {
  record(samples: readonly MetricSample[]): void;
}

/** Counters for the counts, synchronous gauges for lag, pending and poison. */
export class MeterMetrics implements Metrics {
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, Gauge>();

  constructor(meter: Meter) {
    for (const [name, description] of Object.entries(COUNTERS))
      this.counters.set(name, meter.createCounter(name, { description }));
    for (const [name, description] of Object.entries(GAUGES))
      this.gauges.set(
        name,
        meter.createGauge(name, { description, unit: name === 'capture.lagHours' ? 'h' : undefined }),
      );
  }

  record(samples: readonly MetricSample[]): void {
    for (const s of samples) {
      if (!Number.isFinite(s.value)) continue;
      const attributes = definedOnly(s.dimensions);
      const counter = this.counters.get(s.name);
      // Counters only go up; a zero adds nothing and costs a data point.
      if (counter) {
        if (s.value > 0) counter.add(s.value, attributes);
        continue;
      }
      this.gauges.get(s.name)?.record(s.value, attributes);
    }
  }
}

export const NO_METRICS: Metrics = new MeterMetrics(createNoopMeter());

/** The samples a finished queue stage reports, from its result (shared/pipeline/queue-stage.ts). */
export function stageMetrics(stage: string, result: unknown, ids: { mailbox?: string } = {}): MetricSample[] {
  const r = result as Record<string, unknown> | string | undefined;
  if (stage === 'unpack' && r && typeof r === 'object') {
    return [
      { name: 'items.captured', value: num(r.converts) },
      { name: 'items.invalid', value: num(r.invalid) },
    ];
  }
  if (stage === 'convert' && r && typeof r === 'object') {
    return [
      { name: 'items.converted', value: 1 },
      { name: 'deliveries.queued', value: num(r.deliveries) },
      { name: 'deliveries.notDelivered', value: num(r.notDelivered) },
    ];
  }
  if (stage === 'deliver' && typeof r === 'string') {
    if (r === 'delivered' || r === 'foundInMailbox')
      return [{ name: 'deliveries.delivered', value: 1, dimensions: { mailbox: ids.mailbox, outcome: r } }];
    if (r === 'failed') return [{ name: 'deliveries.failed', value: 1, dimensions: { mailbox: ids.mailbox } }];
  }
  return [];
}

/** Gauges taken from a status read: lag, pending and poison per queue. */
export function statusMetrics(status: {
  capture: { lagHours?: number; retentionDays: number };
  totals: { pending: number };
  queues: Record<string, { poison: number }>;
}): MetricSample[] {
  const out: MetricSample[] = [];
  if (status.capture.lagHours !== undefined) out.push(lagSample(status.capture.lagHours, status.capture.retentionDays));
  out.push({ name: 'deliveries.pending', value: status.totals.pending });
  for (const [queue, q] of Object.entries(status.queues))
    out.push({ name: 'poison.messages', value: q.poison, dimensions: { queue } });
  return out;
}

export function lagSample(lagHours: number, retentionDays: number): MetricSample {
  return { name: 'capture.lagHours', value: Math.round(lagHours * 100) / 100, dimensions: { retentionDays } };
}

function definedOnly(dimensions: MetricSample['dimensions']): Attributes {
  return Object.fromEntries(Object.entries(dimensions ?? {}).filter(([, v]) => v !== undefined)) as Attributes;
}

function num(v: unknown): number {
  return typeof v === 'number' && Number.isFinite(v) ? v : 0;
}
