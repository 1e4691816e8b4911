import { app, InvocationContext, Timer } from '@azure/functions';
import { archiver } from '../shared/composition';
import { settingOrDefault } from '../shared/config';
import { lagSample } from '../shared/observability/metrics';

// One ingest tick: moves the capture target to now − lag and plans windows toward it.
export async function ingest(timer: Timer, context: InvocationContext): Promise<void> {
  const { planner, metrics, config } = await archiver();
  const result = await planner.tick();
  if (result.capturedThrough)
    metrics.record([
      lagSample((Date.now() - Date.parse(result.capturedThrough)) / 3_600_000, config.capture.retentionDays),
    ]);
  context.log(
    JSON.stringify({
      event: 'ingest.planned',
      stage: 'ingest',
      isPastDue: timer.isPastDue,
      windows: result.planned.map((w) => w.windowId),
      inFlight: result.inFlight,
      capturedThrough: result.capturedThrough,
      targetThrough: result.targetThrough,
    }),
  );
}

// Not '%INGEST_SCHEDULE%': a binding expression fails when the setting is unset, although the
// setting has a default. App settings are the worker's environment, in Azure as locally.
app.timer('ingest', { schedule: settingOrDefault('INGEST_SCHEDULE'), handler: ingest });
