import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../shared/config';

const valid = {
  AzureWebJobsStorage: 'UseDevelopmentStorage=true',
  RINGCENTRAL_CLIENT_ID: 'rc-client',
  RINGCENTRAL_CLIENT_SECRET: 'rc-secret-value-123',
  RINGCENTRAL_JWT: 'eyJhbGciOi.secret.jwt',
  GRAPH_TENANT_ID: 'tenant',
  GRAPH_CLIENT_ID: 'client',
  GRAPH_CLIENT_SECRET: 'graph-secret-value-456',
};

test('defaults fill every optional setting; CAPTURE_START defaults to the start of retention', () => {
  const now = new Date('2026-11-25T00:00:00Z');
  const c = loadConfig(valid, now);
  assert.equal(c.graph.baseUrl, 'https://graph.microsoft.com');
  assert.equal(c.ringCentral.serverUrl, 'https://platform.ringcentral.com');
  assert.equal(c.archiveFolder, 'RingCentral');
  assert.equal(c.ingestSchedule, '0 5 * * * *');
  assert.equal(c.capture.start.toISOString(), '2026-08-27T00:00:00.000Z');
});

test('every bad setting is named in one error, and no secret value appears in it', () => {
  const bad = {
    ...valid,
    AzureWebJobsStorage: '',
    RINGCENTRAL_JWT: '',
    GRAPH_BASE_URL: 'http://graph.example',
    INGEST_SCHEDULE: '0 * * * *',
    RETENTION_DAYS: 'ninety',
    CAPTURE_START: 'yesterday',
  };
  assert.throws(
    () => loadConfig(bad),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      for (const name of [
        'AzureWebJobsStorage',
        'RINGCENTRAL_JWT',
        'GRAPH_BASE_URL',
        'INGEST_SCHEDULE',
        'RETENTION_DAYS',
        'CAPTURE_START',
      ]) {
        assert.ok(err.message.includes(name), `${name} missing from: ${err.message}`);
      }
      for (const secret of [valid.RINGCENTRAL_CLIENT_SECRET, valid.GRAPH_CLIENT_SECRET])
        assert.ok(!err.message.includes(secret));
      return true;
    },
  );
});

test('identity-based storage settings replace the connection string', () => {
  const { AzureWebJobsStorage: _omit, ...rest } = valid;
  const c = loadConfig({
    ...rest,
    AzureWebJobsStorage__blobServiceUri: 'https://a.blob.core.windows.net',
    AzureWebJobsStorage__queueServiceUri: 'https://a.queue.core.windows.net',
    AzureWebJobsStorage__tableServiceUri: 'https://a.table.core.windows.net',
    AzureWebJobsStorage__clientId: 'mi',
  });
  assert.equal(c.storage.connectionString, undefined);
  assert.equal(c.storage.managedIdentityClientId, 'mi');
});

test('metrics export: off without a connection string; Entra auth takes the client id from the authentication string', () => {
  assert.equal(loadConfig(valid).telemetry, undefined);
  const connectionString =
    'InstrumentationKey=00000000-1111-4222-8333-444444444444;IngestionEndpoint=https://westeurope-5.in.applicationinsights.azure.com/';
  const plain = loadConfig({ ...valid, APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString });
  assert.deepEqual(plain.telemetry, {
    connectionString,
    entraAuth: false,
    entraClientId: undefined,
    exportIntervalSeconds: 60,
  });
  const entra = loadConfig({
    ...valid,
    APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString,
    APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=mi-client;Authorization=AAD',
    METRICS_EXPORT_SECONDS: '15',
  });
  assert.deepEqual(entra.telemetry, {
    connectionString,
    entraAuth: true,
    entraClientId: 'mi-client',
    exportIntervalSeconds: 15,
  });
  assert.throws(
    () => loadConfig({ ...valid, APPLICATIONINSIGHTS_CONNECTION_STRING: 'IngestionEndpoint=https://x/' }),
    /APPLICATIONINSIGHTS_CONNECTION_STRING: must contain InstrumentationKey/,
  );
  assert.throws(
    () =>
      loadConfig({
        ...valid,
        APPLICATIONINSIGHTS_CONNECTION_STRING: connectionString,
        APPLICATIONINSIGHTS_AUTHENTICATION_STRING: 'ClientId=x',
      }),
    /APPLICATIONINSIGHTS_AUTHENTICATION_STRING/,
  );
});

test('the Graph app is read from GRAPH_* only; the old AZURE_* names are refused with a hint and never read', () => {
  const { GRAPH_TENANT_ID: _t, GRAPH_CLIENT_ID: _c, GRAPH_CLIENT_SECRET: _s, ...rest } = valid;
  // AZURE_* belong to Azure SDK default credentials; the archiver must not take the Graph app from them.
  const old = {
    ...rest,
    AZURE_TENANT_ID: 'tenant',
    AZURE_CLIENT_ID: 'client',
    AZURE_CLIENT_SECRET: 'old-graph-secret-789',
  };
  assert.throws(
    () => loadConfig(old),
    (err: unknown) => {
      assert.ok(err instanceof ConfigError);
      for (const [now, before] of [
        ['GRAPH_TENANT_ID', 'AZURE_TENANT_ID'],
        ['GRAPH_CLIENT_ID', 'AZURE_CLIENT_ID'],
        ['GRAPH_CLIENT_SECRET', 'AZURE_CLIENT_SECRET'],
      ]) {
        assert.ok(err.problems.includes(`${now}: is required (it was called ${before}; rename it)`), err.message);
      }
      assert.ok(!err.message.includes('old-graph-secret-789'));
      return true;
    },
  );
  const c = loadConfig({ ...valid, AZURE_CLIENT_ID: 'someone-else', AZURE_CLIENT_SECRET: 'x', AZURE_TENANT_ID: 'y' });
  assert.deepEqual(
    [c.graph.tenantId, c.graph.clientId, c.graph.clientSecret],
    ['tenant', 'client', 'graph-secret-value-456'],
  );
});
