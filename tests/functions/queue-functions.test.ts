import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import type { StorageQueueFunctionOptions } from '@azure/functions';
import { loadFunctions } from '../../dev/host/registry';
import { QUEUES } from '../../shared/store/names';
import { repoRoot } from '../support/repo-root';

// One name per stage: the queue, the function that reads it (its App Insights name) and the stage
// in logs, metrics and the errors table are the same word, so a search for one finds all three.
test('every QUEUES entry has exactly one registered function of the same name, reading that queue', () => {
  const functions = loadFunctions(repoRoot);
  const queueFunctions = functions.filter((f) => f.kind === 'storageQueue');
  for (const queue of Object.values(QUEUES)) {
    const readers = queueFunctions.filter((f) => (f.options as StorageQueueFunctionOptions).queueName === queue);
    assert.deepEqual(
      readers.map((f) => f.name),
      [queue],
      `queue ${queue} is read by exactly one function, named ${queue}`,
    );
    assert.equal(functions.filter((f) => f.name === queue).length, 1, `no other function is named ${queue}`);
  }
  // And no queue function reads a queue the store, the status report or replay do not know.
  assert.deepEqual(queueFunctions.map((f) => f.name).sort(), Object.values(QUEUES).sort());
  for (const f of queueFunctions)
    assert.equal((f.options as StorageQueueFunctionOptions).connection, 'AzureWebJobsStorage', f.name);
});
