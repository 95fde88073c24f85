-- +goose Up
-- The services an account's plans cover: the choices of the plan list's
-- service filter. Working them out from plan_services reads every plan of the
-- account (15 ms for 20,000 plans), and they change only when a plan service
-- is added or removed, so triggers keep them here instead.
CREATE TABLE account_services (
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    service_id INTEGER NOT NULL REFERENCES services (id),
    PRIMARY KEY (account_id, service_id)
);

INSERT INTO account_services (account_id, service_id)
SELECT DISTINCT p.account_id, ps.service_id FROM plan_services ps JOIN plans p ON p.id = ps.plan_id;

-- +goose StatementBegin
CREATE TRIGGER account_services_insert AFTER INSERT ON plan_services
BEGIN
    INSERT OR IGNORE INTO account_services (account_id, service_id)
    SELECT account_id, NEW.service_id FROM plans WHERE id = NEW.plan_id;
END;
-- +goose StatementEnd

-- A plan service is removed before its plan (plan_services references
-- plans), so the plan still says whose it was.
-- +goose StatementBegin
CREATE TRIGGER account_services_delete AFTER DELETE ON plan_services
BEGIN
    DELETE FROM account_services
    WHERE service_id = OLD.service_id
      AND account_id = (SELECT account_id FROM plans WHERE id = OLD.plan_id)
      AND NOT EXISTS (SELECT 1 FROM plan_services ps JOIN plans p ON p.id = ps.plan_id
                      WHERE ps.service_id = OLD.service_id
                        AND p.account_id = (SELECT account_id FROM plans WHERE id = OLD.plan_id));
END;
-- +goose StatementEnd

-- +goose Down
DROP TRIGGER account_services_delete;
DROP TRIGGER account_services_insert;
DROP TABLE account_services;
