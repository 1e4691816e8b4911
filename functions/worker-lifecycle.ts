import { app } from '@azure/functions';
import { flushMetrics } from '../shared/composition';

// Metrics are exported on a timer; the last interval's counts are sent before the worker exits.
app.hook.appTerminate(async () => {
  await flushMetrics();
});
