#!/usr/bin/env node
// Parses and analyses every KQL query the project ships (alert rules, workbook, the queries in
// docs/operations.md and README.md) with Kusto.Language, Microsoft's own KQL parser (npm package
// @kusto/language-service-next, restored by .ci/kql.sh), against the Application Insights schema
// of the two tables they read. A query with an error would fail `azd provision` (Azure validates
// an alert rule's query) or show nothing in the portal.
'use strict';
const { readFileSync, readdirSync } = require('node:fs');
const { join, resolve } = require('node:path');

const repoRoot = resolve(__dirname, '..');
const moduleDir = process.argv[2];
require(join(moduleDir, 'bridge.js'));
require(join(moduleDir, 'Kusto.Language.Bridge.js'));
const K = global.Kusto.Language;
const S = K.Symbols;

// Application Insights (classic) columns of the tables the queries read.
const tables = [
  new S.TableSymbol.$ctor7(
    'traces',
    '(timestamp:datetime, message:string, severityLevel:int, itemType:string, customDimensions:dynamic, operation_Name:string, operation_Id:string, cloud_RoleName:string, cloud_RoleInstance:string)',
    null,
  ),
  new S.TableSymbol.$ctor7(
    'customMetrics',
    '(timestamp:datetime, name:string, value:real, valueCount:int, valueSum:real, valueMin:real, valueMax:real, valueStdDev:real, customDimensions:dynamic, operation_Name:string, cloud_RoleName:string, cloud_RoleInstance:string)',
    null,
  ),
];
const globals = K.GlobalState.Default.WithDatabase(new S.DatabaseSymbol.$ctor3('appinsights', null, tables));

const queries = [];
for (const dir of ['infra/alerts', 'infra/workbook']) {
  for (const f of readdirSync(join(repoRoot, dir)).filter((f) => f.endsWith('.kql')))
    queries.push([`${dir}/${f}`, readFileSync(join(repoRoot, dir, f), 'utf8')]);
}
for (const doc of ['docs/operations.md', 'README.md']) {
  const blocks = [...readFileSync(join(repoRoot, doc), 'utf8').matchAll(/```kusto\n([\s\S]*?)```/g)].map((m) => m[1]);
  // A block may hold several queries separated by a blank line (README).
  blocks.forEach((b, i) =>
    b
      .split(/\n\s*\n/)
      .filter((q) => q.trim())
      .forEach((q, j) => queries.push([`${doc} kusto block ${i + 1}${j ? ` query ${j + 1}` : ''}`, q])),
  );
}

let failed = 0;
for (const [where, text] of queries) {
  const diagnostics = K.KustoCode.ParseAndAnalyze(text, globals).GetDiagnostics();
  for (let i = 0; i < diagnostics.Count; i++) {
    const d = diagnostics.getItem(i);
    console.error(`kql: ${where}: ${d.Severity} at ${d.Start}: ${d.Message}`);
    failed++;
  }
}
if (failed) process.exit(1);
console.log(`kql: OK (${queries.length} queries parse and analyse against the Application Insights schema)`);
