-- +goose Up
-- A plan service's volume can grow while its spend does not (usage of a
-- service priced at zero), and then the plan's own row is not written, so its
-- trigger does not bump the account's plans_version. This one does, so the
-- caches keyed on plans_version (summary cards, plan list pages) see it. When
-- the spend grows, the plan's consumed grows with it in the same transaction,
-- and the plans trigger bumps the version already.
-- +goose StatementBegin
CREATE TRIGGER plans_version_plan_services AFTER UPDATE ON plan_services
WHEN NEW.spent = OLD.spent
BEGIN
    UPDATE accounts SET plans_version = plans_version + 1
    WHERE id = (SELECT account_id FROM plans WHERE id = NEW.plan_id);
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER plans_version_plan_services;
