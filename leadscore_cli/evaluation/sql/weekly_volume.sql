-- Per week (Monday): leads that reached MQL (or SQL) for the first time, and leads that reached SQL for the
-- first time. Each lead counts once per stage, in the week it first got there; every week with a record
-- is listed, so weeks without new MQLs count in the average too.
WITH firsts AS (
    SELECT
        lead_id,
        min(CASE WHEN stage IN ('MQL', 'SQL') THEN occurred_at END) AS mql_at,
        min(CASE WHEN stage = 'SQL' THEN occurred_at END) AS sql_at
    FROM ledger
    GROUP BY lead_id
),
entries AS (
    SELECT date_trunc('week', mql_at) AS week, 1 AS mql, 0 AS sql_entry FROM firsts WHERE mql_at IS NOT NULL
    UNION ALL
    SELECT date_trunc('week', sql_at) AS week, 0 AS mql, 1 AS sql_entry FROM firsts WHERE sql_at IS NOT NULL
    UNION ALL
    SELECT DISTINCT date_trunc('week', occurred_at) AS week, 0 AS mql, 0 AS sql_entry FROM ledger
)
SELECT week, sum(mql) AS new_mql, sum(sql_entry) AS new_sql
FROM entries
GROUP BY week
ORDER BY week
