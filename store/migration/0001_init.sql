-- +goose Up
-- The billing store. Conventions, kept portable to PostgreSQL:
--   money: INTEGER in the currency's minor unit (VND and JPY: whole units, USD: cents);
--   unit prices and quantities: exact decimal TEXT with all their digits;
--   calendar dates: TEXT 'YYYY-MM-DD' in the account's time zone;
--   instants: TEXT, fixed-width UTC 'YYYY-MM-DDTHH:MM:SS.nnnnnnnnnZ', so text order is time order.

CREATE TABLE accounts (
    id            INTEGER PRIMARY KEY,
    code          TEXT    NOT NULL UNIQUE,
    name          TEXT    NOT NULL,
    currency      TEXT    NOT NULL CHECK (currency IN ('VND', 'USD', 'JPY')),
    timezone      TEXT    NOT NULL,
    -- Running totals kept by the ledger engine in the same transaction as its lines.
    topup_balance INTEGER NOT NULL DEFAULT 0,
    uncovered     INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    email           TEXT    NOT NULL UNIQUE,
    name            TEXT    NOT NULL,
    password_hash   TEXT    NOT NULL,
    created_at      TEXT    NOT NULL
);

CREATE TABLE memberships (
    user_id    INTEGER NOT NULL REFERENCES users (id),
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    role       TEXT    NOT NULL CHECK (role IN ('admin', 'viewer')),
    PRIMARY KEY (user_id, account_id)
);
CREATE INDEX memberships_account ON memberships (account_id);

CREATE TABLE services (
    id   INTEGER PRIMARY KEY,
    code TEXT    NOT NULL UNIQUE,
    name TEXT    NOT NULL,
    unit TEXT    NOT NULL
);

-- The price of one unit of a service outside any plan (vouchers, top-up, uncovered).
CREATE TABLE service_list_prices (
    service_id INTEGER NOT NULL REFERENCES services (id),
    currency   TEXT    NOT NULL,
    price      TEXT    NOT NULL,
    PRIMARY KEY (service_id, currency)
);

CREATE TABLE packages (
    id         INTEGER PRIMARY KEY,
    service_id INTEGER NOT NULL REFERENCES services (id),
    code       TEXT    NOT NULL,
    name       TEXT    NOT NULL,
    UNIQUE (service_id, code)
);

CREATE TABLE package_prices (
    package_id INTEGER NOT NULL REFERENCES packages (id),
    currency   TEXT    NOT NULL,
    price      TEXT    NOT NULL,
    PRIMARY KEY (package_id, currency)
);

CREATE TABLE plans (
    id                INTEGER PRIMARY KEY,
    account_id        INTEGER NOT NULL REFERENCES accounts (id),
    code              TEXT    NOT NULL UNIQUE,
    type              TEXT    NOT NULL,
    start_date        TEXT    NOT NULL,
    end_date          TEXT    NOT NULL,
    -- The first term's months and amount: a renewal's default price is amount / months per month.
    first_term_months INTEGER NOT NULL,
    first_term_amount INTEGER NOT NULL,
    amount            INTEGER NOT NULL CHECK (amount >= 0),
    region            TEXT    NOT NULL,
    payment_option    TEXT    NOT NULL CHECK (payment_option IN ('all_upfront', 'partial_upfront', 'postpaid')),
    upfront_amount    INTEGER NOT NULL DEFAULT 0,
    payment_method    TEXT    NOT NULL CHECK (payment_method IN ('online', 'bank_transfer')),
    created_at        TEXT    NOT NULL,
    created_by        TEXT    NOT NULL,
    suspended         INTEGER NOT NULL DEFAULT 0,
    -- When the money received first reached what the payment option requires; NULL until then.
    activated_at      TEXT,
    -- Running totals: confirmed payments, those before the start date, consumption.
    paid_total        INTEGER NOT NULL DEFAULT 0,
    paid_upfront      INTEGER NOT NULL DEFAULT 0,
    consumed          INTEGER NOT NULL DEFAULT 0,
    -- When consumption reached the plan amount; NULL while a balance is left.
    depleted_at       TEXT
);
CREATE INDEX plans_account_end ON plans (account_id, end_date, start_date, code);
CREATE INDEX plans_account_start ON plans (account_id, start_date);
CREATE INDEX plans_account_code ON plans (account_id, code);

-- The services a plan covers, fixed at purchase, with the running usage per service.
CREATE TABLE plan_services (
    plan_id        INTEGER NOT NULL REFERENCES plans (id),
    service_id     INTEGER NOT NULL REFERENCES services (id),
    package_id     INTEGER REFERENCES packages (id),
    price_per_unit TEXT    NOT NULL,
    volume         TEXT    NOT NULL DEFAULT '0',
    spent          INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (plan_id, service_id)
);
CREATE INDEX plan_services_service ON plan_services (service_id, plan_id);

CREATE TABLE payments (
    id              INTEGER PRIMARY KEY,
    plan_id         INTEGER NOT NULL REFERENCES plans (id),
    amount          INTEGER NOT NULL CHECK (amount > 0),
    method          TEXT    NOT NULL CHECK (method IN ('online', 'bank_transfer')),
    -- 'completed' counts as paid; 'pending' is a bank transfer waiting for an operator.
    status          TEXT    NOT NULL CHECK (status IN ('completed', 'pending')),
    reference       TEXT    UNIQUE,
    paid_at         TEXT,
    created_at      TEXT    NOT NULL,
    paid_by         TEXT    NOT NULL,
    idempotency_key TEXT    UNIQUE
);
CREATE INDEX payments_plan ON payments (plan_id, created_at);

CREATE TABLE renewals (
    id              INTEGER PRIMARY KEY,
    plan_id         INTEGER NOT NULL REFERENCES plans (id),
    term_months     INTEGER NOT NULL,
    price           INTEGER NOT NULL CHECK (price >= 0),
    old_end_date    TEXT    NOT NULL,
    new_start_date  TEXT    NOT NULL,
    new_end_date    TEXT    NOT NULL,
    renewed_at      TEXT    NOT NULL,
    renewed_by      TEXT    NOT NULL,
    idempotency_key TEXT    UNIQUE
);
CREATE INDEX renewals_plan ON renewals (plan_id, renewed_at);

CREATE TABLE vouchers (
    id             INTEGER PRIMARY KEY,
    account_id     INTEGER NOT NULL REFERENCES accounts (id),
    code           TEXT    NOT NULL UNIQUE,
    amount         INTEGER NOT NULL CHECK (amount >= 0),
    remaining      INTEGER NOT NULL CHECK (remaining >= 0),
    effective_date TEXT    NOT NULL,
    expiry_date    TEXT    NOT NULL,
    -- 1 when the voucher applies to every service; otherwise voucher_services lists them.
    all_services   INTEGER NOT NULL
);
CREATE INDEX vouchers_account ON vouchers (account_id, expiry_date);

CREATE TABLE voucher_services (
    voucher_id INTEGER NOT NULL REFERENCES vouchers (id),
    service_id INTEGER NOT NULL REFERENCES services (id),
    PRIMARY KEY (voucher_id, service_id)
);

CREATE TABLE topups (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    amount     INTEGER NOT NULL CHECK (amount > 0),
    at         TEXT    NOT NULL
);
CREATE INDEX topups_account ON topups (account_id, at);

-- Every usage event ever applied, once per producer id; result holds the first answer.
CREATE TABLE usage_events (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    event_id   TEXT    NOT NULL,
    service_id INTEGER NOT NULL REFERENCES services (id),
    quantity   TEXT    NOT NULL,
    at         TEXT    NOT NULL,
    result     TEXT    NOT NULL,
    UNIQUE (account_id, event_id)
);

-- The credit ledger: one line per part of an event drawn from one credit source.
CREATE TABLE consumptions (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    event_id   INTEGER NOT NULL REFERENCES usage_events (id),
    service_id INTEGER NOT NULL REFERENCES services (id),
    source     TEXT    NOT NULL CHECK (source IN ('plan', 'voucher', 'topup', 'uncovered')),
    plan_id    INTEGER REFERENCES plans (id),
    voucher_id INTEGER REFERENCES vouchers (id),
    quantity   TEXT    NOT NULL,
    unit_price TEXT    NOT NULL,
    amount     INTEGER NOT NULL,
    at         TEXT    NOT NULL,
    day        TEXT    NOT NULL
);
CREATE INDEX consumptions_account_at ON consumptions (account_id, at, id);
CREATE INDEX consumptions_plan_at ON consumptions (plan_id, at, id);
CREATE INDEX consumptions_voucher_at ON consumptions (voucher_id, at, id);

-- The rounding remainder (in fractions of a minor unit) carried to the next line of a source and service.
CREATE TABLE ledger_carries (
    source     TEXT    NOT NULL,
    source_id  INTEGER NOT NULL,
    service_id INTEGER NOT NULL,
    remainder  TEXT    NOT NULL,
    PRIMARY KEY (source, source_id, service_id)
);

-- Spend per plan per local day, kept by the engine so charts never scan the ledger.
CREATE TABLE plan_daily_spend (
    plan_id INTEGER NOT NULL REFERENCES plans (id),
    day     TEXT    NOT NULL,
    amount  INTEGER NOT NULL,
    PRIMARY KEY (plan_id, day)
);

-- Spend per account, local day, credit source and service, kept by the engine.
CREATE TABLE account_daily_spend (
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    day        TEXT    NOT NULL,
    source     TEXT    NOT NULL,
    service_id INTEGER NOT NULL REFERENCES services (id),
    amount     INTEGER NOT NULL,
    PRIMARY KEY (account_id, day, source, service_id)
);

CREATE TABLE api_keys (
    id         INTEGER PRIMARY KEY,
    account_id INTEGER NOT NULL REFERENCES accounts (id),
    prefix     TEXT    NOT NULL UNIQUE,
    hash       TEXT    NOT NULL,
    created_at TEXT    NOT NULL,
    revoked_at TEXT
);

-- Signed-in sessions; the cookie names a row here, so signing out ends it on the server.
CREATE TABLE sessions (
    id         TEXT    PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES users (id),
    created_at TEXT    NOT NULL,
    last_seen  TEXT    NOT NULL,
    ended_at   TEXT
);

CREATE TABLE audit_log (
    id         INTEGER PRIMARY KEY,
    at         TEXT    NOT NULL,
    account_id INTEGER REFERENCES accounts (id),
    plan_id    INTEGER REFERENCES plans (id),
    actor      TEXT    NOT NULL,
    action     TEXT    NOT NULL,
    detail     TEXT    NOT NULL DEFAULT '',
    before     TEXT    NOT NULL DEFAULT '',
    after      TEXT    NOT NULL DEFAULT '',
    ip         TEXT    NOT NULL DEFAULT ''
);
CREATE INDEX audit_log_plan ON audit_log (plan_id, at);
CREATE INDEX audit_log_account ON audit_log (account_id, at);

-- +goose Down
DROP TABLE audit_log;
DROP TABLE sessions;
DROP TABLE api_keys;
DROP TABLE account_daily_spend;
DROP TABLE plan_daily_spend;
DROP TABLE ledger_carries;
DROP TABLE consumptions;
DROP TABLE usage_events;
DROP TABLE topups;
DROP TABLE voucher_services;
DROP TABLE vouchers;
DROP TABLE renewals;
DROP TABLE payments;
DROP TABLE plan_services;
DROP TABLE plans;
DROP TABLE package_prices;
DROP TABLE packages;
DROP TABLE service_list_prices;
DROP TABLE services;
DROP TABLE memberships;
DROP TABLE users;
DROP TABLE accounts;
