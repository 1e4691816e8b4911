import type { CaptureWindows } from '../store/capture-windows';
import type { ErrorLog } from '../store/error-log';
import type { PermissionMissingError } from '../errors';

/**
 * RingCentral refused a source for a missing app permission: the source is marked blocked (status
 * shows it; the planner probes again an hour later), the window says why, and the error is
 * reported. Nothing is retried from here: retrying cannot help until an admin grants it.
 */
export async function recordRefusal(
  windows: CaptureWindows,
  errors: ErrorLog,
  refusal: { stage: string; windowId: string; error: PermissionMissingError; consequence: string },
): Promise<'blocked'> {
  await windows.block(refusal.error.permission);
  await windows.update(refusal.windowId, { lastError: `permission missing: ${refusal.error.permission}` });
  await errors.report({
    stage: refusal.stage,
    windowId: refusal.windowId,
    reason: `${refusal.error.message}: ${refusal.consequence}`,
  });
  return 'blocked';
}
