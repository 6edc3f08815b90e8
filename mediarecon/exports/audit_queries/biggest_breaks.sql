-- Biggest breaks (écarts les plus importants): the 50 findings with the most euros at stake, newest first among equals.
select
    finding_type,
    entity_key,
    campaign_id,
    first_date,
    last_date,
    amount_at_stake_eur,
    severity,
    evidence_source,
    evidence_file_sha256,
    evidence_line
from fct_findings
where
    amount_at_stake_eur is not null
    -- its amount is the framework's consumption, not money at stake
    and finding_type <> 'ceiling_threshold_crossed'
order by amount_at_stake_eur desc, first_date desc, entity_key
limit 50
