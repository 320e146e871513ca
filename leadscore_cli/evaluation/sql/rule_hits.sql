-- Per rule: the leads it hit before their first outcome, how many of them sales accepted, and the points
-- it gave them. Conversion among the rest comes from lead_outcomes (same population).
WITH first_outcome AS (
    SELECT lead_id, min(occurred_at) AS outcome_at
    FROM ledger
    WHERE type IN ('sales_accepted', 'sales_rejected', 'deal_won', 'deal_lost')
    GROUP BY lead_id
),
-- What counts as "before the outcome": up to its moment, or, for an outcome dated by day only (00:00:00,
-- as a CRM export gives it), up to the end of that day: the demo request that morning came first.
cutoff AS (
    SELECT
        lead_id,
        CASE
            WHEN outcome_at = date_trunc('day', outcome_at) THEN outcome_at + INTERVAL '1' DAY
            ELSE outcome_at
        END AS before_at
    FROM first_outcome
),
accepted AS (
    SELECT DISTINCT lead_id
    FROM ledger
    WHERE type IN ('sales_accepted', 'deal_won', 'deal_lost')
),
hit_leads AS (
    SELECT h.rule, h.lead_id, sum(h.points) AS points
    FROM ledger_hits AS h
    LEFT JOIN cutoff AS c ON c.lead_id = h.lead_id
    WHERE h.type NOT IN ('sales_accepted', 'sales_rejected', 'deal_won', 'deal_lost')
      AND (c.before_at IS NULL OR h.occurred_at <= c.before_at)
    GROUP BY h.rule, h.lead_id
)
SELECT
    r.rule,
    count(*) AS leads,
    count(a.lead_id) AS accepted,
    sum(r.points) AS points
FROM hit_leads AS r
LEFT JOIN accepted AS a ON a.lead_id = r.lead_id
GROUP BY r.rule
ORDER BY r.rule
