-- +goose Up
-- The credit history caches, per account, which plans have lines
-- (store/history.go), keyed by accounts.plans_version. A plan's first line of
-- a day adds a plan_daily_spend row, even when the line's amount is zero and
-- the plan itself is not updated, so that row counts as a change too.

-- +goose StatementBegin
CREATE TRIGGER plans_version_daily_spend AFTER INSERT ON plan_daily_spend
BEGIN
    UPDATE accounts SET plans_version = plans_version + 1
    WHERE id = (SELECT account_id FROM plans WHERE id = NEW.plan_id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER plans_version_daily_spend;
