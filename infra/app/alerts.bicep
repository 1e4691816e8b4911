// Alerts, not just charts: scheduled query rules on Application Insights for the ways the archiver
// can fail silently, an action group that e-mails ALERT_EMAIL, and a workbook with the dashboard's
// views. Each rule runs a query from infra/alerts/*.kql, the same text docs/operations.md shows
// (tests/infra/alerts-contract.test.ts and .ci/check-template.js hold the three together).

param location string
param tags { *: string }
param applicationInsightsName string
@description('E-mail address that receives the alerts. Empty = the rules still fire (Azure portal, Alerts) but notify nobody.')
param alertEmail string
@minValue(5)
@maxValue(960)
@description('Minutes between two runs of the ingest timer (INGEST_SCHEDULE); "no window captured" looks back three of them.')
param ingestPeriodMinutes int

resource applicationInsights 'Microsoft.Insights/components@2020-02-02' existing = {
  name: applicationInsightsName
}

resource actionGroup 'Microsoft.Insights/actionGroups@2023-01-01' = if (!empty(alertEmail)) {
  name: 'ag-${applicationInsightsName}'
  location: 'global'
  tags: tags
  properties: {
    groupShortName: 'rc-archiver'
    enabled: true
    emailReceivers: [
      {
        name: 'archiver-admin'
        emailAddress: alertEmail
        useCommonAlertSchema: true
      }
    ]
  }
}

var rules = [
  {
    name: 'capture-lag'
    displayName: 'RingCentral archiver: capture lag over half the retention period'
    description: 'Capture is so far behind that RingCentral may delete items before they are captured. Check /api/status (capture, recentErrors) and the export stage.'
    severity: 1
    query: loadTextContent('../alerts/capture-lag.kql')
    evaluationFrequency: 'PT15M'
    windowSize: 'PT1H'
    queryTimeRange: ''
  }
  {
    name: 'poison-messages'
    displayName: 'RingCentral archiver: message in a poison queue'
    description: 'A queue message failed 5 times and was moved to <queue>-poison. Fix the cause (/api/status recentErrors), then POST /api/replay {"poison": true}.'
    severity: 2
    query: loadTextContent('../alerts/poison-messages.kql')
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    queryTimeRange: ''
  }
  {
    name: 'failed-deliveries'
    displayName: 'RingCentral archiver: deliveries failed'
    description: 'Deliveries into a mailbox failed for good. The reason is in /api/log (error column); after fixing it, POST /api/replay {"mailbox": "..."}.'
    severity: 2
    query: loadTextContent('../alerts/failed-deliveries.kql')
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    queryTimeRange: ''
  }
  {
    name: 'no-window-captured'
    displayName: 'RingCentral archiver: no window captured for two schedule periods'
    description: 'No capture window was stored for two ingest periods, or the app is not running. Check /api/status (capture.lastWindow, windowsInFlight, recentErrors).'
    severity: 1
    query: loadTextContent('../alerts/no-window-captured.kql')
    evaluationFrequency: 'PT15M'
    windowSize: 'PT15M'
    // Three periods: a window stored between the first and the last run of the range moves the
    // end of the last stored window, so nothing moving means two whole periods without capture.
    queryTimeRange: 'PT${3 * ingestPeriodMinutes}M'
  }
]

resource alertRules 'Microsoft.Insights/scheduledQueryRules@2026-03-01' = [
  for rule in rules: {
    name: 'alert-${rule.name}-${applicationInsightsName}'
    location: location
    tags: tags
    kind: 'LogAlert'
    properties: {
      displayName: rule.displayName
      description: rule.description
      severity: rule.severity
      enabled: true
      scopes: [applicationInsights.id]
      evaluationFrequency: rule.evaluationFrequency
      windowSize: rule.windowSize
      overrideQueryTimeRange: empty(rule.queryTimeRange) ? null : rule.queryTimeRange
      criteria: {
        allOf: [
          {
            query: rule.query
            // Each query returns rows only when something is wrong.
            timeAggregation: 'Count'
            operator: 'GreaterThan'
            threshold: 0
            failingPeriods: {
              numberOfEvaluationPeriods: 1
              minFailingPeriodsToAlert: 1
            }
          }
        ]
      }
      autoMitigate: true
      actions: {
        actionGroups: empty(alertEmail) ? [] : [actionGroup.id]
      }
    }
  }
]

// The dashboard's views (/api/dashboard) in the portal, over the last 7 days.
var views = [
  {
    title: 'Items captured, copies delivered and failed, per day'
    query: loadTextContent('../workbook/captured-delivered-failed.kql')
    visualization: 'barchart'
    width: '50'
  }
  {
    title: 'Capture lag, % of the retention period (alert above 50 %)'
    query: loadTextContent('../workbook/capture-lag-percent.kql')
    visualization: 'timechart'
    width: '50'
  }
  {
    title: 'Pending deliveries and poison messages per queue'
    query: loadTextContent('../workbook/pending-and-poison.kql')
    visualization: 'timechart'
    width: '50'
  }
  {
    title: 'Failing mailboxes'
    query: loadTextContent('../workbook/failing-mailboxes.kql')
    visualization: 'table'
    width: '50'
  }
  {
    title: 'Recent warnings and errors'
    query: loadTextContent('../workbook/recent-errors.kql')
    visualization: 'table'
    width: '100'
  }
]

var workbookContent = {
  version: 'Notebook/1.0'
  items: concat(
    [
      {
        type: 1
        name: 'intro'
        content: {
          json: '## RingCentral archiver\nThe views of `/api/dashboard`, from the metrics and logs in Application Insights. Alert rules: Monitor > Alerts > Alert rules (`alert-*`).'
        }
      }
    ],
    map(range(0, length(views)), i => {
      type: 3
      name: 'view-${i}'
      customWidth: views[i].width
      content: {
        version: 'KqlItem/1.0'
        title: views[i].title
        query: views[i].query
        size: 0
        queryType: 0
        resourceType: 'microsoft.insights/components'
        visualization: views[i].visualization
        timeContext: {
          durationMs: 604800000
        }
      }
    })
  )
  fallbackResourceIds: [applicationInsights.id]
}

resource workbook 'Microsoft.Insights/workbooks@2023-06-01' = {
  name: guid(applicationInsights.id, 'ringcentral-archiver-workbook')
  location: location
  tags: tags
  kind: 'shared'
  properties: {
    displayName: 'RingCentral archiver'
    category: 'workbook'
    sourceId: applicationInsights.id
    serializedData: string(workbookContent)
    version: 'Notebook/1.0'
  }
}

output alertRuleNames string[] = [for (rule, i) in rules: alertRules[i].name]
output actionGroupConfigured bool = !empty(alertEmail)
