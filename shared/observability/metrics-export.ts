import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MeterProvider, PeriodicExportingMetricReader } from '@opentelemetry/sdk-metrics';
import { AzureMonitorMetricExporter } from '@azure/monitor-opentelemetry-exporter';
import { ManagedIdentityCredential } from '@azure/identity';
import type { Config } from '../config';
import { MeterMetrics, NO_METRICS, type Metrics } from './metrics';

export interface MetricsExport {
  metrics: Metrics;
  /** Sends what is recorded so far; called when the worker stops (functions/worker-lifecycle.ts). */
  flush(): Promise<void>;
}

const METER = 'ringcentral-m365-archiver';

/**
 * OpenTelemetry metrics exported to Application Insights (customMetrics table) with the Azure
 * Monitor exporter. The full @azure/monitor-opentelemetry distro would also bring tracing and
 * database instrumentations (155 packages); the archiver needs only the metric pipeline.
 * Without a connection string the meter is a no-op, so local runs need no Azure resource.
 */
export function startMetricsExport(telemetry: Config['telemetry']): MetricsExport {
  if (!telemetry) return { metrics: NO_METRICS, flush: async () => undefined };
  const exporter = new AzureMonitorMetricExporter({
    connectionString: telemetry.connectionString,
    // The resource accepts Entra tokens only (local auth off): the app's managed identity,
    // which holds Monitoring Metrics Publisher (infra/app/rbac.bicep).
    credential: telemetry.entraAuth
      ? new ManagedIdentityCredential(telemetry.entraClientId ? { clientId: telemetry.entraClientId } : {})
      : undefined,
    // Failed sends are kept on local disk and retried, so a short ingestion outage loses nothing.
    storageDirectory: join(tmpdir(), 'ringcentral-archiver-telemetry'),
  });
  const provider = new MeterProvider({
    readers: [
      new PeriodicExportingMetricReader({
        exporter,
        exportIntervalMillis: telemetry.exportIntervalSeconds * 1000,
        exportTimeoutMillis: Math.min(30_000, telemetry.exportIntervalSeconds * 1000),
      }),
    ],
  });
  return {
    metrics: new MeterMetrics(provider.getMeter(METER)),
    flush: () => provider.forceFlush(),
  };
}
