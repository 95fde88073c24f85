package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/mattn/go-sqlite3" // the SQLite driver, registered as "sqlite3"
	"github.com/pressly/goose/v3"

	"github.com/billingplans/billingplans/store/cache"
)

//go:embed migration/*.sql
var migrations embed.FS

// DB is the billing store: one SQLite file, opened twice. Reads go through a pool
// of ordinary connections that run side by side under WAL; writes go through a
// single connection whose transactions begin IMMEDIATE, so writers queue for the
// lock instead of failing half-way with "database is locked".
type DB struct {
	// Path is the database file.
	Path string
	// Now is the clock, read once per transaction. Tests replace it.
	Now func() time.Time

	read  *sql.DB
	write *sql.DB

	// summaries caches PlanSummary per account, for one day (see there).
	summaries sync.Map
	// historyPlans caches, per account, the plans with lines that the credit
	// history reads (see historyQuery.plansWithLines).
	historyPlans sync.Map
	// overviews caches, per account, the plan part of the billing overview
	// (see overviewPlans).
	overviews sync.Map
	// planPages caches the plan list's pages (see FindPlans).
	planPages *cache.Versioned[planPageKey, PlanPage]
}

// Tx is a transaction with the instant it began, so that every rule applied in
// it sees the same "now".
type Tx struct {
	*sql.Tx
	db  *DB
	now time.Time
	// summaryChanges are the plan changes made in the transaction that the
	// cached summary cards move by once it commits (see changePlan).
	summaryChanges []summaryChange
}

// Open opens (creating when needed) the database at path and applies the
// migrations it has not seen. It returns an error when the file cannot be opened
// or a migration fails.
func Open(path string) (*DB, error) {
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("store: create %s: %w", dir, err)
		}
	}
	// Settings live in the DSN so that every pooled connection has them. Each
	// connection keeps its 128 most recent prepared statements: the pages run
	// the same few queries, and preparing one cost a tenth of the plan list's
	// CPU time.
	dsn := "file:" + path + "?_journal_mode=WAL&_foreign_keys=on&_busy_timeout=10000&_synchronous=NORMAL&_cache_size=-32000&_stmt_cache_size=128"
	db := &DB{Path: path, Now: time.Now, planPages: newPlanPageCache()}
	var err error
	if db.write, err = sql.Open("sqlite3", dsn+"&_txlock=immediate"); err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.write.SetMaxOpenConns(1)
	db.write.SetMaxIdleConns(1)
	db.write.SetConnMaxLifetime(0)
	// Readers get a smaller page cache each: there are several of them, and
	// the operating system caches the file for all.
	readDSN := strings.Replace(dsn, "_cache_size=-32000", "_cache_size=-8000", 1)
	if db.read, err = sql.Open("sqlite3", readDSN); err != nil {
		db.write.Close()
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	db.read.SetMaxOpenConns(4)
	db.read.SetMaxIdleConns(4)
	if err := db.migrate(); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func (db *DB) migrate() error {
	sub, err := fs.Sub(migrations, "migration")
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, db.write, sub)
	if err != nil {
		return fmt.Errorf("store: migrations: %w", err)
	}
	if _, err := p.Up(context.Background()); err != nil {
		return fmt.Errorf("store: migrate %s: %w", db.Path, err)
	}
	return nil
}

// Close closes both connection pools.
func (db *DB) Close() error {
	err := db.write.Close()
	if err2 := db.read.Close(); err == nil {
		err = err2
	}
	return err
}

// BeginTx starts a transaction: a writing one (IMMEDIATE, on the single writer
// connection) when write is true, a reading one otherwise.
func (db *DB) BeginTx(ctx context.Context, write bool) (*Tx, error) {
	pool := db.read
	if write {
		pool = db.write
	}
	tx, err := pool.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: begin: %w", err)
	}
	return &Tx{Tx: tx, db: db, now: db.Now().UTC()}, nil
}

// Now returns the instant the transaction began.
func (tx *Tx) Now() time.Time { return tx.now }

// view runs fn in a reading transaction.
func (db *DB) view(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := db.BeginTx(ctx, false)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// update runs fn in a writing transaction and commits when fn returns nil.
func (db *DB) update(ctx context.Context, fn func(tx *Tx) error) error {
	tx, err := db.BeginTx(ctx, true)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("store: commit: %w", err)
	}
	for _, c := range tx.summaryChanges {
		db.advanceSummary(c)
	}
	return nil
}

// Ping reports whether the database answers a query.
func (db *DB) Ping(ctx context.Context) error {
	var one int
	return db.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}
