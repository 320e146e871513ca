-- Athena (Trino) prelude: the two relations every shared query reads, as CTEs over the Glue table
-- (`ledger_table` is replaced by the configured "database"."table" when the query is assembled).
-- Parameters (positional, in this order for each CTE): model id, first partition day, first timestamp, end
-- timestamp (the midnight after the last day evaluated; no partition pruning on it: dt is the processing day).
-- `dt` is the partition (processing day): filtering on it prunes partitions, so a --since scans less.
WITH ledger AS (
    SELECT
        event_id,
        type,
        CAST(from_iso8601_timestamp(occurred_at) AS TIMESTAMP) AS occurred_at,
        lead_id,
        model_id,
        model_version,
        result,
        fit,
        engagement,
        total,
        stage,
        stage_before,
        outcome.reason AS outcome_reason,
        outcome.amount AS outcome_amount,
        sequence
    FROM ledger_table
    WHERE model_id = ?
      AND result <> 'duplicate'
      AND dt >= ?
      AND CAST(from_iso8601_timestamp(occurred_at) AS TIMESTAMP) >= ?
      AND CAST(from_iso8601_timestamp(occurred_at) AS TIMESTAMP) < ?
),
ledger_hits AS (
    SELECT
        t.lead_id,
        t.event_id,
        CAST(from_iso8601_timestamp(t.occurred_at) AS TIMESTAMP) AS occurred_at,
        t.type,
        hit.rule AS rule,
        hit.points AS points
    FROM ledger_table AS t
    CROSS JOIN UNNEST(t.hits) AS hit (rule, points)
    WHERE t.model_id = ?
      AND t.result <> 'duplicate'
      AND t.dt >= ?
      AND CAST(from_iso8601_timestamp(t.occurred_at) AS TIMESTAMP) >= ?
      AND CAST(from_iso8601_timestamp(t.occurred_at) AS TIMESTAMP) < ?
)
SELECT 1
