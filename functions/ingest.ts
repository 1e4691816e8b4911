import { app, InvocationContext, Timer } from '@azure/functions';
import { archiver } from '../shared/composition';
import { settingOrDefault } from '../shared/config';
import { lagSample } from '../shared/observability/metrics';

// One ingest tick: moves each capture source's target to now − lag and plans windows toward it.
export async function ingest(timer: Timer, context: InvocationContext): Promise<void> {
  const { capture, metrics, config } = await archiver();
  const results = await capture.tick();
  // The lag metric follows the source furthest behind: that is how old the archive's gap is.
  const oldest = Object.values(results)
    .map((r) => r.capturedThrough)
    .filter((t): t is string => !!t)
    .sort()[0];
  if (oldest) metrics.record([lagSample((Date.now() - Date.parse(oldest)) / 3_600_000, config.capture.retentionDays)]);
  for (const [source, result] of Object.entries(results))
    context.log(
      JSON.stringify({
        event: 'ingest.planned',
        stage: 'ingest',
        source,
        isPastDue: timer.isPastDue,
        windows: result.planned.map((w) => w.windowId),
        inFlight: result.inFlight,
        capturedThrough: result.capturedThrough,
        targetThrough: result.targetThrough,
        missingPermission: result.missingPermission,
      }),
    );
}

// Not '%INGEST_SCHEDULE%': a binding expression fails when the setting is unset, although the
// setting has a default. App settings are the worker's environment, in Azure as locally.
app.timer('ingest', { schedule: settingOrDefault('INGEST_SCHEDULE'), handler: ingest });
