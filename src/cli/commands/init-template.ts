/** The files `sluice init` writes: a seed, a full model and a daily incremental model. */
export function projectTemplate(name: string): Record<string, string> {
  return {
    'sluice.yaml': `name: ${name}
gateways:
  local:
    connection:
      type: duckdb
      database: .sluice/${name}.duckdb
default_gateway: local
model_defaults:
  dialect: duckdb
  cron: '@daily'
  start: '2024-01-01'
`,
    'seeds/events.csv': `event_id,user_id,event_type,occurred_at
1,10,signup,2024-01-01 09:00:00
2,10,purchase,2024-01-01 10:30:00
3,11,signup,2024-01-02 08:15:00
4,11,purchase,2024-01-02 12:00:00
5,10,purchase,2024-01-03 16:45:00
`,
    'models/raw_events.sql': `MODEL (
  name raw.events,
  kind SEED (path '../seeds/events.csv'),
  columns (event_id INT, user_id INT, event_type TEXT, occurred_at TIMESTAMP),
  description 'Events loaded from a CSV file'
);
`,
    'models/users.sql': `MODEL (
  name analytics.users,
  kind FULL,
  grain user_id,
  description 'One row per user with their first event'
);

SELECT user_id, MIN(occurred_at) AS first_seen_at, COUNT(*) AS events
FROM raw.events
GROUP BY user_id
`,
    'models/daily_events.sql': `MODEL (
  name analytics.daily_events,
  kind INCREMENTAL_BY_TIME_RANGE (time_column event_date),
  grain (event_date, event_type),
  audits (not_null(columns := (event_date)))
);

SELECT CAST(occurred_at AS DATE) AS event_date, event_type, COUNT(*) AS events
FROM raw.events
WHERE occurred_at BETWEEN @start_ts AND @end_ts
GROUP BY 1, 2
`,
  };
}
