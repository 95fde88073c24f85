-- +goose Up
-- plans_list_version counts the changes to an account's plans that can change
-- which plans a filter of the plan list selects, or their order: a plan added
-- or removed, a service added to or removed from one, and a change of the
-- columns the filters and sorts read (code, type, dates, amount, suspension,
-- activation, running out). Usage changes most plans only in what they
-- consumed, which moves plans_version but not this: a cached page of the
-- list then keeps its plans and its count, and only their rows are read
-- again (store/plans.go). Sorting by usage reads consumed, so it follows
-- plans_version instead.
ALTER TABLE accounts ADD COLUMN plans_list_version INTEGER NOT NULL DEFAULT 0;

-- +goose StatementBegin
CREATE TRIGGER plans_list_version_insert AFTER INSERT ON plans
BEGIN
    UPDATE accounts SET plans_list_version = plans_list_version + 1 WHERE id = NEW.account_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER plans_list_version_delete AFTER DELETE ON plans
BEGIN
    UPDATE accounts SET plans_list_version = plans_list_version + 1 WHERE id = OLD.account_id;
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER plans_list_version_update AFTER UPDATE ON plans
WHEN NEW.account_id IS NOT OLD.account_id
  OR NEW.code IS NOT OLD.code
  OR NEW.type IS NOT OLD.type
  OR NEW.start_date IS NOT OLD.start_date
  OR NEW.end_date IS NOT OLD.end_date
  OR NEW.amount IS NOT OLD.amount
  OR NEW.suspended IS NOT OLD.suspended
  OR (NEW.activated_at IS NULL) IS NOT (OLD.activated_at IS NULL)
  OR (NEW.amount > 0 AND NEW.consumed >= NEW.amount) IS NOT (OLD.amount > 0 AND OLD.consumed >= OLD.amount)
BEGIN
    UPDATE accounts SET plans_list_version = plans_list_version + 1 WHERE id IN (OLD.account_id, NEW.account_id);
END;
-- +goose StatementEnd

-- A service added to or removed from a plan changes the plan's row of the
-- list, and which plans the service filter selects: both versions move.
-- (Until now plans_version moved only when the plan was written in the same
-- transaction, as the importer does.)
-- +goose StatementBegin
CREATE TRIGGER plans_list_version_service_insert AFTER INSERT ON plan_services
BEGIN
    UPDATE accounts SET plans_version = plans_version + 1, plans_list_version = plans_list_version + 1
    WHERE id = (SELECT account_id FROM plans WHERE id = NEW.plan_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER plans_list_version_service_delete AFTER DELETE ON plan_services
BEGIN
    UPDATE accounts SET plans_version = plans_version + 1, plans_list_version = plans_list_version + 1
    WHERE id = (SELECT account_id FROM plans WHERE id = OLD.plan_id);
END;
-- +goose StatementEnd

-- +goose StatementBegin
CREATE TRIGGER plans_list_version_service_update AFTER UPDATE OF plan_id, service_id ON plan_services
BEGIN
    UPDATE accounts SET plans_version = plans_version + 1, plans_list_version = plans_list_version + 1
    WHERE id IN (SELECT account_id FROM plans WHERE id IN (OLD.plan_id, NEW.plan_id));
END;
-- +goose StatementEnd

-- The service filter matches services by code, and the rows show their names.
-- +goose StatementBegin
CREATE TRIGGER plans_list_version_service_code AFTER UPDATE OF code, name ON services
BEGIN
    UPDATE accounts SET plans_version = plans_version + 1, plans_list_version = plans_list_version + 1;
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER plans_list_version_service_code;
DROP TRIGGER plans_list_version_service_update;
DROP TRIGGER plans_list_version_service_delete;
DROP TRIGGER plans_list_version_service_insert;
DROP TRIGGER plans_list_version_update;
DROP TRIGGER plans_list_version_delete;
DROP TRIGGER plans_list_version_insert;
ALTER TABLE accounts DROP COLUMN plans_list_version;
