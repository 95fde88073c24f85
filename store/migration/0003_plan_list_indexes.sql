-- +goose Up
-- The plan list (web/plans.go, store.FindPlans) pages through an account's
-- plans in the order the user chose. Each index below lets SQLite walk one
-- order (ties broken by code) without sorting, so a deep page skips index
-- entries instead of sorting all the account's plans, and the first page reads
-- only the rows it shows.
--
-- plans_list_start, for the default order (latest start first), also holds
-- every column the status filters, the summary cards and the search read, so
-- those scan the index alone, never the table. It supersedes
-- plans_account_start (account_id, start_date), its prefix.
CREATE INDEX plans_list_start ON plans (account_id, start_date, code, end_date, amount, consumed, activated_at, suspended, type);
DROP INDEX plans_account_start;
CREATE INDEX plans_list_end ON plans (account_id, end_date, code);
CREATE INDEX plans_list_amount ON plans (account_id, amount, code);
-- The same expression as store.planSortColumns[SortByUsage], which SQLite
-- must match to use the index.
CREATE INDEX plans_list_usage ON plans (account_id, (CASE WHEN amount > 0 THEN consumed * 10000 / amount ELSE 0 END), code);

-- +goose Down
DROP INDEX plans_list_usage;
DROP INDEX plans_list_amount;
DROP INDEX plans_list_end;
CREATE INDEX plans_account_start ON plans (account_id, start_date);
DROP INDEX plans_list_start;
