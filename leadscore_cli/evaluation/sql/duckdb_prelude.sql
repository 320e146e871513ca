-- DuckDB prelude: read the ledger files once (only the columns the queries use) into a temporary table,
-- then expose the two relations every shared query reads: `ledger` and `ledger_hits`.
-- Parameters: $files (glob of the JSON Lines files), $model_id, $since_day ('YYYY-MM-DD'), $since (timestamp),
-- $until (timestamp: the midnight after the last day evaluated).
CREATE OR REPLACE TEMP TABLE ledger_source AS
SELECT
    event_id,
    type,
    CAST(occurred_at AS TIMESTAMP) AS occurred_at,
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
    sequence,
    hits
FROM read_json(
    $files,
    format = 'newline_delimited',
    hive_partitioning = true,
    union_by_name = true,
    columns = {
        event_id: 'VARCHAR', type: 'VARCHAR', occurred_at: 'VARCHAR', lead_id: 'VARCHAR',
        model_id: 'VARCHAR', model_version: 'VARCHAR', result: 'VARCHAR',
        fit: 'DOUBLE', engagement: 'DOUBLE', total: 'DOUBLE', stage: 'VARCHAR', stage_before: 'VARCHAR',
        outcome: 'STRUCT(reason VARCHAR, amount DOUBLE, currency VARCHAR)',
        hits: 'STRUCT(rule VARCHAR, points DOUBLE)[]',
        sequence: 'BIGINT'
    }
)
WHERE model_id = $model_id
  AND result <> 'duplicate'
  AND dt >= $since_day
  AND CAST(occurred_at AS TIMESTAMP) >= $since
  AND CAST(occurred_at AS TIMESTAMP) < $until;

CREATE OR REPLACE TEMP VIEW ledger AS
SELECT * EXCLUDE (hits) FROM ledger_source;

CREATE OR REPLACE TEMP VIEW ledger_hits AS
SELECT lead_id, event_id, occurred_at, type, hit.rule AS rule, hit.points AS points
FROM (SELECT lead_id, event_id, occurred_at, type, unnest(hits) AS hit FROM ledger_source);
