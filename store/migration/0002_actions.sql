-- +goose Up
-- Pay now: every form sent, found again by its one-time key, so that the same
-- form sent twice records one payment and answers with the first result
-- (docs/actions.md). An online payment takes two transactions around the call to
-- the payment gateway: the first inserts the attempt as 'charging', which holds
-- its amount against the amount due while the gateway is called; the second
-- records the payment and marks it 'done' (or deletes the attempt when the charge
-- failed: nothing is paid, and the key may be used again). A bank transfer is
-- 'done' at once: its payment row is the pending transfer.
CREATE TABLE payment_attempts (
    id              INTEGER PRIMARY KEY,
    plan_id         INTEGER NOT NULL REFERENCES plans (id),
    idempotency_key TEXT    NOT NULL UNIQUE,
    amount          INTEGER NOT NULL CHECK (amount > 0),
    method          TEXT    NOT NULL CHECK (method IN ('online', 'bank_transfer')),
    -- charging: the gateway is being called; done: payment_id is the payment;
    -- refunding, refunded: charged, but the plan no longer owed the amount when
    -- the charge came back, so the charge is (being) refunded and nothing is paid;
    -- cancelled: a bank transfer an operator cancelled before it was confirmed.
    state           TEXT    NOT NULL CHECK (state IN ('charging', 'done', 'refunding', 'refunded', 'cancelled')),
    -- The gateway's id of the charge, once it answered.
    charge_id       TEXT,
    payment_id      INTEGER REFERENCES payments (id),
    -- The plan's payment status right after the payment, and whether the payment
    -- activated the plan: the first answer, given again to the same form.
    payment_status  TEXT    NOT NULL DEFAULT '',
    activated       INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT    NOT NULL,
    actor           TEXT    NOT NULL
);
CREATE INDEX payment_attempts_plan ON payment_attempts (plan_id, state, created_at);
CREATE INDEX payments_plan_status ON payments (plan_id, status, created_at);

-- +goose Down
DROP INDEX payments_plan_status;
DROP TABLE payment_attempts;
