-- Per ISO week (Monday): leads entering MQL, leads entering SQL, active leads and events.
-- "Entering" is a ledger record whose stage moved up into that stage (a lead recycled and back counts again).
SELECT
    date_trunc('week', occurred_at) AS week,
    count(DISTINCT CASE WHEN stage IN ('MQL', 'SQL') AND stage_before = 'LEAD' THEN lead_id END) AS new_mql,
    count(DISTINCT CASE WHEN stage = 'SQL' AND stage_before <> 'SQL' THEN lead_id END) AS new_sql,
    count(DISTINCT lead_id) AS active_leads,
    count(*) AS events
FROM ledger
GROUP BY date_trunc('week', occurred_at)
ORDER BY week
