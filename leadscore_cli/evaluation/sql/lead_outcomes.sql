-- One row per lead: the score it had just before its first outcome (or at its last event when it has
-- none), the stages it reached before that outcome, and the outcome itself.
-- Shared by DuckDB and Athena: it reads only the relation `ledger` the engine's prelude defines.
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
outcomes AS (
    SELECT
        lead_id,
        max(CASE WHEN type IN ('sales_accepted', 'deal_won', 'deal_lost') THEN 1 ELSE 0 END) AS accepted,
        max(CASE WHEN type = 'sales_rejected' THEN 1 ELSE 0 END) AS rejected,
        max(CASE WHEN type = 'deal_won' THEN 1 ELSE 0 END) AS won,
        max(CASE WHEN type = 'sales_rejected' THEN outcome_reason END) AS reject_reason,
        sum(CASE WHEN type = 'deal_won' THEN coalesce(outcome_amount, 0) ELSE 0 END) AS won_amount
    FROM ledger
    WHERE type IN ('sales_accepted', 'sales_rejected', 'deal_won', 'deal_lost')
    GROUP BY lead_id
),
before_outcome AS (
    SELECT l.lead_id, l.event_id, l.occurred_at, l.sequence, l.fit, l.engagement, l.total, l.stage
    FROM ledger AS l
    LEFT JOIN cutoff AS c ON c.lead_id = l.lead_id
    WHERE l.type NOT IN ('sales_accepted', 'sales_rejected', 'deal_won', 'deal_lost')
      AND (c.before_at IS NULL OR l.occurred_at <= c.before_at)
),
ranked AS (
    SELECT
        b.*,
        -- the newest record that carries a score (the scorer leaves a no_op record of an unread lead empty);
        -- of one second, the one applied last: highest sequence (C2 v2), else (version 1 lines) event id
        row_number() OVER (
            PARTITION BY b.lead_id
            ORDER BY
                CASE WHEN b.total IS NULL THEN 1 ELSE 0 END,
                b.occurred_at DESC,
                b.sequence DESC NULLS LAST,
                b.event_id DESC
        ) AS newest
    FROM before_outcome AS b
),
per_lead AS (
    SELECT
        lead_id,
        min(occurred_at) AS first_touch_at,
        max(occurred_at) AS last_touch_at,
        count(*) AS events,
        max(CASE WHEN newest = 1 THEN fit END) AS fit,
        max(CASE WHEN newest = 1 THEN engagement END) AS engagement,
        max(CASE WHEN newest = 1 THEN total END) AS total,
        max(CASE WHEN newest = 1 THEN stage END) AS stage,
        max(total) AS peak_total,
        max(CASE WHEN stage IN ('MQL', 'SQL') THEN 1 ELSE 0 END) AS reached_mql,
        max(CASE WHEN stage = 'SQL' THEN 1 ELSE 0 END) AS reached_sql,
        min(CASE WHEN stage IN ('MQL', 'SQL') THEN occurred_at END) AS first_mql_at,
        min(CASE WHEN stage = 'SQL' THEN occurred_at END) AS first_sql_at
    FROM ranked
    GROUP BY lead_id
)
SELECT
    p.lead_id,
    p.first_touch_at,
    p.last_touch_at,
    p.events,
    p.fit,
    p.engagement,
    p.total,
    p.stage,
    p.peak_total,
    p.reached_mql,
    p.reached_sql,
    p.first_mql_at,
    p.first_sql_at,
    f.outcome_at,
    coalesce(o.accepted, 0) AS accepted,
    coalesce(o.rejected, 0) AS rejected,
    coalesce(o.won, 0) AS won,
    o.reject_reason,
    coalesce(o.won_amount, 0) AS won_amount
FROM per_lead AS p
LEFT JOIN outcomes AS o ON o.lead_id = p.lead_id
LEFT JOIN first_outcome AS f ON f.lead_id = p.lead_id
ORDER BY p.lead_id
