-- +goose Up
-- The credit history reads an account's pay-as-you-go lines (top-up and
-- uncovered) on their own, newest first, beside each visible plan's and
-- voucher's lines (consumptions_plan_at, consumptions_voucher_at), when it
-- hides expired credit or filters by source: a page then costs a few index
-- seeks however many lines of expired plans lie between its lines. A partial
-- index: the engine maintains it only for the lines it describes.
CREATE INDEX consumptions_account_payg_at ON consumptions (account_id, at, id) WHERE source IN ('topup', 'uncovered');

-- +goose Down
DROP INDEX consumptions_account_payg_at;
