-- +goose Up
-- plans_version counts the changes to an account's plans. The summary cards
-- of the plan list are cached per account, day and version (store/plans.go),
-- so a page load reads one number instead of summing every plan. Triggers keep
-- it, so no write path (ledger, payments, renewals, import, a hand-run UPDATE)
-- can forget to.
ALTER TABLE accounts ADD COLUMN plans_version INTEGER NOT NULL DEFAULT 0;

-- +goose StatementBegin
CREATE TRIGGER plans_version_insert AFTER INSERT ON plans
BEGIN
    UPDATE accounts SET plans_version = plans_version + 1 WHERE id = NEW.account_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER plans_version_update AFTER UPDATE ON plans
BEGIN
    UPDATE accounts SET plans_version = plans_version + 1 WHERE id = NEW.account_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER plans_version_delete AFTER DELETE ON plans
BEGIN
    UPDATE accounts SET plans_version = plans_version + 1 WHERE id = OLD.account_id;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER plans_version_delete;
DROP TRIGGER plans_version_update;
DROP TRIGGER plans_version_insert;
ALTER TABLE accounts DROP COLUMN plans_version;
