import path from 'node:path';

/**
 * The versions dev/azurite-index-patch.ts was written against. It replaces LokiJS methods and
 * reorders Azurite's queries by field name, so on any other version it could change what Azurite
 * answers, not only what it costs: there it loads nothing. package.json pins azurite to this
 * version, and the lock file holds LokiJS.
 */
export const INDEX_PATCH_WRITTEN_FOR = { azurite: '3.35.0', lokijs: '1.5.12' } as const;

export interface AzuriteVersions {
  azurite: string;
  lokijs: string;
}

export function installedAzuriteVersions(): AzuriteVersions {
  const azuriteDir = path.dirname(require.resolve('azurite/package.json'));
  const version = (file: string) => (require(file) as { version: string }).version;
  return {
    azurite: version(path.join(azuriteDir, 'package.json')),
    lokijs: version(require.resolve('lokijs/package.json', { paths: [azuriteDir] })),
  };
}

/** Undefined when the preload fits these versions; otherwise the warning, naming found and expected. */
export function indexPatchMismatch(
  found: AzuriteVersions,
  writtenFor: AzuriteVersions = INDEX_PATCH_WRITTEN_FOR,
): string | undefined {
  const differ = (['azurite', 'lokijs'] as const).filter((name) => found[name] !== writtenFor[name]);
  if (differ.length === 0) return undefined;
  const list = differ.map((name) => `${name} ${found[name]} (written for ${writtenFor[name]})`).join(', ');
  return `Azurite index preload not loaded: ${list}. Azurite runs as published, slower; check dev/azurite-index-patch.ts against these versions before updating INDEX_PATCH_WRITTEN_FOR.`;
}
