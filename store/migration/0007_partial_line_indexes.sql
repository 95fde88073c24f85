-- +goose Up
-- Most consumption lines are drawn from a plan, few from a voucher, and every
-- line paid as you go from neither. The by-plan and by-voucher indexes keep
-- only the lines that have a plan or a voucher: an insert no longer writes an
-- index entry under NULL, and the voucher index stays the size of the voucher
-- lines. Every query of them names a plan_id or voucher_id (=, IN), which
-- implies IS NOT NULL, so SQLite still uses them.
DROP INDEX consumptions_plan_at;
DROP INDEX consumptions_voucher_at;
CREATE INDEX consumptions_plan_at ON consumptions (plan_id, at, id) WHERE plan_id IS NOT NULL;
CREATE INDEX consumptions_voucher_at ON consumptions (voucher_id, at, id) WHERE voucher_id IS NOT NULL;

-- +goose Down
DROP INDEX consumptions_plan_at;
DROP INDEX consumptions_voucher_at;
CREATE INDEX consumptions_plan_at ON consumptions (plan_id, at, id);
CREATE INDEX consumptions_voucher_at ON consumptions (voucher_id, at, id);
