#!/usr/bin/env node
// Checks the compiled ARM template (.local/bicep/main.json, written by .ci/bicep.sh) and azure.yaml
// for promises the docs make that Bicep's linter cannot see. Run by .ci/bicep.sh after the build;
// exits 1 naming every broken promise.
'use strict';
const { readFileSync, readdirSync } = require('node:fs');
const { resolve, join } = require('node:path');

const repoRoot = resolve(__dirname, '..');
const templatePath = process.argv[2] || join(repoRoot, '.local/bicep/main.json');
const problems = [];

/** Every resource of the template and of its nested deployments (modules), with the template that holds it. */
function resources(template) {
  const list = Array.isArray(template.resources) ? template.resources : Object.values(template.resources || {});
  const out = [];
  for (const r of list) {
    Object.defineProperty(r, '$template', { value: template });
    out.push(r);
    if (r.type === 'Microsoft.Resources/deployments' && r.properties && r.properties.template)
      out.push(...resources(r.properties.template));
  }
  return out;
}

/**
 * The values an expression can take, for the two shapes Bicep compiles the alert rules to:
 * "[variables('x')]" (a loadTextContent value) and "[variables('list')[copyIndex()].field]" (a
 * for-loop over a variable). Anything else is returned as it is, so a literal compares as itself.
 */
function valuesOf(template, expr, copy) {
  const variable = /^\[variables\('([^']+)'\)\]$/.exec(expr);
  if (variable) return [template.variables[variable[1]]].flatMap((v) => valuesOf(template, v));
  const looped = /^\[variables\('([^']+)'\)\[copyIndex\(\)\]\.(\w+)\]$/.exec(expr);
  if (looped && copy && copy.count === `[length(variables('${looped[1]}'))]`) {
    return template.variables[looped[1]].flatMap((item) => valuesOf(template, item[looped[2]]));
  }
  return [expr];
}

const template = JSON.parse(readFileSync(templatePath, 'utf8'));
const all = resources(template);

// 1. Basic-auth publishing credentials are off for both endpoints (ftpsState alone leaves them on).
for (const endpoint of ['scm', 'ftp']) {
  const policies = all.filter(
    (r) =>
      r.type === 'Microsoft.Web/sites/basicPublishingCredentialsPolicies' && String(r.name).includes(`'${endpoint}'`),
  );
  if (policies.length !== 1)
    problems.push(`expected one basicPublishingCredentialsPolicies/${endpoint}, found ${policies.length}`);
  for (const p of policies)
    if (!p.properties || p.properties.allow !== false)
      problems.push(`basicPublishingCredentialsPolicies/${endpoint} must set allow: false`);
}

// 2. azure.yaml requires an azd that honours remoteBuild: false on Flex and packages node_modules.
const MIN_AZD = [1, 23, 12];
const azureYaml = readFileSync(join(repoRoot, 'azure.yaml'), 'utf8');
const required = /^requiredVersions:\s*\n\s+azd:\s*["']?>=\s*(\d+)\.(\d+)\.(\d+)["']?\s*$/m.exec(azureYaml);
if (!required) {
  problems.push('azure.yaml must state requiredVersions: azd: ">=1.23.12" (or later)');
} else {
  const have = required.slice(1, 4).map(Number);
  const cmp = have.map((n, i) => n - MIN_AZD[i]).find((d) => d !== 0) || 0;
  if (cmp < 0) problems.push(`azure.yaml requires azd >= ${have.join('.')}; at least ${MIN_AZD.join('.')} is needed`);
}

// 3. Alert rules: one scheduled query rule per infra/alerts/*.kql, each running exactly that query
//    (docs/operations.md shows the same files; tests/infra/alerts-contract.test.ts holds the docs to them).
const alertsDir = join(repoRoot, 'infra/alerts');
let kqlFiles = [];
try {
  kqlFiles = readdirSync(alertsDir).filter((f) => f.endsWith('.kql'));
} catch {
  /* no alerts folder */
}
const rules = all.filter((r) => r.type === 'Microsoft.Insights/scheduledQueryRules');
const queries = rules.flatMap((r) =>
  ((r.properties && r.properties.criteria && r.properties.criteria.allOf) || []).flatMap((c) =>
    valuesOf(r.$template, c.query, r.copy),
  ),
);
for (const file of kqlFiles) {
  const kql = readFileSync(join(alertsDir, file), 'utf8');
  const n = queries.filter((q) => q === kql).length;
  if (n !== 1) problems.push(`infra/alerts/${file}: expected one scheduled query rule running it, found ${n}`);
}
if (queries.length !== kqlFiles.length)
  problems.push(`${queries.length} scheduled query rules for ${kqlFiles.length} infra/alerts/*.kql files`);

if (problems.length) {
  for (const p of problems) console.error(`template check: ${p}`);
  process.exit(1);
}
console.log(
  `template check: OK (basic-auth publishing off for scm and ftp; azd >= ${required.slice(1, 4).join('.')}; ${queries.length} alert rules run the queries in infra/alerts)`,
);
